#include "sysopt/runner/replay_runner.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "sysopt/core/json.h"

namespace sysopt {
namespace {

using nlohmann::json;

// Reads a whole file, inflating it when it is gzip-compressed (zlib reads plain files as they
// are).
Expected<std::string> ReadMaybeCompressed(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return InvalidInput("{}: cannot open the recording", path);
  std::string text;
  char buffer[1 << 16];
  while (true) {
    const int got = gzread(file, buffer, sizeof buffer);
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      return InvalidInput("{}: cannot read the recording: {}", path, message);
    }
    if (got == 0) break;
    text.append(buffer, static_cast<size_t>(got));
  }
  gzclose(file);
  return text;
}

// A key piece of a Kernel Tuner cache ("16", "0.5", "abc") as a JSON value.
json KeyPiece(const std::string& piece) {
  json v = json::parse(piece, nullptr, false);
  if (v.is_discarded() || !(v.is_number() || v.is_boolean())) return piece;
  return v;
}

std::vector<std::string> SplitKey(const std::string& key) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = key.find(',', start);
    out.push_back(key.substr(start, comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

class Loader {
 public:
  Loader(const std::string& path, const Spec& spec) : path_(path), spec_(spec) {
    table_.path = path;
  }

  Expected<ReplayTable> Load() {
    auto text = ReadMaybeCompressed(path_);
    if (!text.ok()) return text.error();
    auto parsed = ParseJson(*text);
    if (!parsed.ok()) {
      return InvalidInput("{}: {}", path_, parsed.error().message());
    }
    const json& doc = *parsed;
    if (!doc.is_object()) {
      return InvalidInput(
          "{}: the recording must be a JSON object (a Kernel Tuner cache file "
          "or a T4 results file)",
          path_);
    }
    if (doc.contains("cache")) {
      SYSOPT_RETURN_IF_ERROR(LoadKernelTuner(doc));
    } else if (doc.contains("results")) {
      SYSOPT_RETURN_IF_ERROR(LoadT4(doc));
    } else {
      return InvalidInput(
          "{}: neither a Kernel Tuner cache file (no \"cache\" field) nor a T4 results file (no "
          "\"results\" field)",
          path_);
    }
    if (table_.entries.empty()) {
      return InvalidInput(
          "{}: no recorded configuration belongs to the space{}", path_,
          table_.first_outside.empty() ? "" : " (first: " + table_.first_outside + ")");
    }
    return std::move(table_);
  }

 private:
  Expected<void> CheckParameterNames(const json& names, const std::string& field) {
    if (!names.is_array()) return InvalidInput("{}: \"{}\" must be a list of names", path_, field);
    std::vector<std::string> recorded;
    for (const auto& n : names) {
      if (!n.is_string()) return InvalidInput("{}: \"{}\" must be a list of names", path_, field);
      recorded.push_back(n.get<std::string>());
    }
    for (const auto& p : spec_.space.parameters()) {
      if (std::find(recorded.begin(), recorded.end(), p.name) == recorded.end()) {
        return InvalidInput("{}: \"{}\" lacks the space's parameter '{}'", path_, field, p.name);
      }
    }
    for (const auto& n : recorded) {
      bool known = false;
      for (const auto& p : spec_.space.parameters()) known = known || p.name == n;
      if (!known) {
        return InvalidInput("{}: \"{}\" names '{}', which the space does not have", path_, field,
                            n);
      }
    }
    keys_ = recorded;
    return Ok();
  }

  // Adds one entry given its parameter values (an object name -> value); a configuration the
  // space does not hold is counted as outside.
  void Add(const json& values, const std::string& where, ReplayEntry entry) {
    auto config = spec_.space.ConfigFromJson(values);
    if (!config.ok()) {
      if (table_.outside++ == 0) table_.first_outside = where + ": " + config.error().message();
      return;
    }
    entry.config = std::move(*config);
    const std::string key = ReplayKey(entry.config);
    if (table_.index.count(key)) return;  // A repeated record: the first one stands.
    table_.failed += entry.ok ? 0 : 1;
    table_.index.emplace(key, table_.entries.size());
    table_.entries.push_back(std::move(entry));
  }

  Expected<void> LoadKernelTuner(const json& doc) {
    table_.format = "kernel-tuner";
    if (doc.contains("tune_params_keys")) {
      SYSOPT_RETURN_IF_ERROR(CheckParameterNames(doc["tune_params_keys"], "tune_params_keys"));
    } else {
      for (const auto& p : spec_.space.parameters()) keys_.push_back(p.name);
    }
    std::string objective = "time";
    if (doc.contains("objective")) {
      if (!doc["objective"].is_string()) {
        return InvalidInput("{}: \"objective\" must be a name, not {}", path_,
                            JsonExcerpt(doc["objective"]));
      }
      objective = doc["objective"].get<std::string>();
    }
    const json& cache = doc["cache"];
    if (!cache.is_object()) {
      return InvalidInput("{}: \"cache\" must be an object of configurations", path_);
    }
    for (const auto& [key, record] : cache.items()) {
      const std::string where = fmt::format("cache[\"{}\"]", key);
      if (!record.is_object()) {
        return InvalidInput("{}: {} must be an object, not {}", path_, where, record.type_name());
      }
      json values = json::object();
      const auto pieces = SplitKey(key);
      for (size_t i = 0; i < keys_.size(); ++i) {
        if (record.contains(keys_[i])) {
          values[keys_[i]] = record[keys_[i]];
        } else if (pieces.size() == keys_.size()) {
          values[keys_[i]] = KeyPiece(pieces[i]);
        } else {
          return InvalidInput(
              "{}: {} has no value of '{}', and its key has {} values for {} "
              "parameters",
              path_, where, keys_[i], pieces.size(), keys_.size());
        }
      }
      ReplayEntry entry;
      auto read = ReadObjectives(record, objective, where, &entry);
      if (!read.ok()) return read.error();
      if (entry.ok && record.contains("times") && record["times"].is_array() &&
          spec_.objectives.size() == 1) {
        for (const auto& t : record["times"]) {
          if (t.is_number()) entry.samples.push_back({t.get<double>()});
        }
      }
      Add(values, where, std::move(entry));
    }
    return Ok();
  }

  // The objective values of a Kernel Tuner record: a number per objective (a single objective
  // is read from the cache's "objective" field), or a string that says why it failed.
  Expected<void> ReadObjectives(const json& record, const std::string& single,
                                const std::string& where, ReplayEntry* entry) {
    for (size_t k = 0; k < spec_.objectives.size(); ++k) {
      const std::string field = spec_.objectives.size() == 1 ? single : spec_.objectives[k].name;
      if (!record.contains(field)) {
        return InvalidInput("{}: {} has no \"{}\"", path_, where, field);
      }
      const json& v = record[field];
      if (v.is_string()) {
        entry->ok = false;
        entry->values.clear();
        entry->failure = "recorded failure: " + v.get<std::string>();
        return Ok();
      }
      if (!v.is_number() || !std::isfinite(v.get<double>())) {
        return InvalidInput("{}: {}.{} must be a number or a failure name, not {}", path_, where,
                            field, JsonExcerpt(v));
      }
      entry->values.push_back(v.get<double>());
    }
    entry->ok = true;
    return Ok();
  }

  Expected<void> LoadT4(const json& doc) {
    table_.format = "t4";
    const json& results = doc["results"];
    if (!results.is_array()) return InvalidInput("{}: \"results\" must be a list", path_);
    for (size_t i = 0; i < results.size(); ++i) {
      const json& r = results[i];
      const std::string where = fmt::format("results[{}]", i);
      if (!r.is_object() || !r.contains("configuration") || !r["configuration"].is_object()) {
        return InvalidInput("{}: {} has no \"configuration\" object", path_, where);
      }
      ReplayEntry entry;
      const std::string invalidity = r.contains("invalidity") && r["invalidity"].is_string()
                                         ? r["invalidity"].get<std::string>()
                                         : "correct";
      if (invalidity != "correct") {
        entry.failure = "recorded failure: " + invalidity;
      } else {
        if (!r.contains("measurements") || !r["measurements"].is_array()) {
          return InvalidInput("{}: {} is correct but has no \"measurements\" list", path_, where);
        }
        for (const auto& o : spec_.objectives) {
          std::optional<double> value;
          for (const auto& m : r["measurements"]) {
            if (m.is_object() && m.value("name", "") == o.name && m.contains("value") &&
                m["value"].is_number()) {
              value = m["value"].get<double>();
            }
          }
          if (!value || !std::isfinite(*value)) {
            return InvalidInput("{}: {}.measurements has no number named '{}'", path_, where,
                                o.name);
          }
          entry.values.push_back(*value);
        }
        entry.ok = true;
        if (spec_.objectives.size() == 1 && r.contains("times") && r["times"].is_object() &&
            r["times"].contains("runtimes") && r["times"]["runtimes"].is_array()) {
          for (const auto& t : r["times"]["runtimes"]) {
            if (t.is_number()) entry.samples.push_back({t.get<double>()});
          }
        }
      }
      Add(r["configuration"], where, std::move(entry));
    }
    return Ok();
  }

  const std::string& path_;
  const Spec& spec_;
  ReplayTable table_;
  std::vector<std::string> keys_;
};

class ReplayRunner final : public Runner {
 public:
  explicit ReplayRunner(std::shared_ptr<const ReplayTable> table) : table_(std::move(table)) {}

  RunResult Run(const Config& config, int64_t) override {
    RunResult result;
    const ReplayEntry* e = table_->Find(config);
    if (e == nullptr) {
      result.failure_reason = "not in the recording (no measurement of this configuration)";
      return result;
    }
    if (!e->ok) {
      result.failure_reason = e->failure;
      return result;
    }
    result.ok = true;
    result.values = e->values;
    result.samples = e->samples;
    return result;
  }

 private:
  std::shared_ptr<const ReplayTable> table_;
};

}  // namespace

std::string ReplayKey(const Config& config) {
  std::string key;
  for (const auto& v : config) {
    key += ValueToJson(v).dump();
    key += '\x1f';
  }
  return key;
}

const ReplayEntry* ReplayTable::Find(const Config& config) const {
  auto it = index.find(ReplayKey(config));
  return it == index.end() ? nullptr : &entries[it->second];
}

const ReplayEntry* ReplayTable::Best(bool minimize) const {
  const ReplayEntry* best = nullptr;
  for (const auto& e : entries) {
    if (!e.ok) continue;
    if (best == nullptr ||
        (minimize ? e.values[0] < best->values[0] : e.values[0] > best->values[0])) {
      best = &e;
    }
  }
  return best;
}

Expected<ReplayTable> LoadReplayTable(const std::string& path, const Spec& spec) {
  return Loader(path, spec).Load();
}

std::unique_ptr<Runner> MakeReplayRunner(std::shared_ptr<const ReplayTable> table) {
  return std::make_unique<ReplayRunner>(std::move(table));
}

}  // namespace sysopt
