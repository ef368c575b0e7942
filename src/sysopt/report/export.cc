#include "sysopt/report/export.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <ctime>

namespace sysopt {

namespace {

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// A value as people read it: a sequence by its item names, anything else by ValueToString.
std::string ValueText(const Study& study, size_t i, const Value& v) {
  const auto& params = study.space().parameters();
  if (i < params.size() && params[i].kind == ParamKind::kSequence &&
      std::holds_alternative<Sequence>(v)) {
    return fmt::format("{}", fmt::join(params[i].SequenceNames(v), ","));
  }
  return ValueToString(v);
}

std::string IsoTime(double unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json TrialJson(const Study& study, const TrialRecord& t) {
  nlohmann::json j = {{"number", t.number},
                      {"state", TrialStateName(t.state)},
                      {"config", study.space().ConfigToJson(t.config)},
                      {"start_time", t.start_time},
                      {"end_time", t.end_time},
                      {"worker", t.worker}};
  if (t.state == TrialState::kComplete) {
    nlohmann::json values = nlohmann::json::object();
    for (size_t i = 0; i < t.values.size() && i < study.spec().objectives.size(); ++i) {
      values[study.spec().objectives[i].name] = t.values[i];
    }
    j["values"] = values;
  }
  if (!t.samples.empty()) j["samples"] = t.samples;
  if (!t.failure_reason.empty()) j["failure_reason"] = t.failure_reason;
  if (!t.stderr_tail.empty()) j["stderr_tail"] = t.stderr_tail;
  if (!t.attrs.empty()) j["attrs"] = t.attrs;
  return j;
}

}  // namespace

Expected<ExportFormat> ParseExportFormat(std::string_view name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "json") return ExportFormat::kJson;
  if (name == "t4") return ExportFormat::kT4;
  return InvalidInput("unknown export format '{}' (known: csv, json, t4)", name);
}

std::string FormatValues(const Study& study, const std::vector<double>& values) {
  std::string out;
  for (size_t i = 0; i < values.size() && i < study.spec().objectives.size(); ++i) {
    out += fmt::format("{}{}={:.6g}", out.empty() ? "" : " ", study.spec().objectives[i].name,
                       values[i]);
  }
  return out;
}

std::string FormatConfig(const Study& study, const Config& config) {
  std::string out;
  const auto& params = study.space().parameters();
  for (size_t i = 0; i < config.size() && i < params.size(); ++i) {
    if (IsInactive(config[i])) continue;
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", params[i].name,
                       ValueText(study, i, config[i]));
  }
  return out;
}

std::string ExportCsv(const Study& study) {
  std::string out = "number,state";
  for (const auto& p : study.space().parameters()) out += "," + CsvField(p.name);
  for (const auto& o : study.spec().objectives) out += "," + CsvField(o.name);
  out += ",failure_reason,start_time,end_time,duration_s,worker\n";
  for (const auto& t : study.Finished()) {
    out += fmt::format("{},{}", t.number, TrialStateName(t.state));
    for (size_t i = 0; i < t.config.size(); ++i) {
      out += "," + CsvField(ValueText(study, i, t.config[i]));
    }
    for (size_t i = 0; i < study.spec().objectives.size(); ++i) {
      out += t.state == TrialState::kComplete && i < t.values.size()
                 ? fmt::format(",{}", t.values[i])
                 : ",";
    }
    out += fmt::format(",{},{:.3f},{:.3f},{:.3f},{}\n", CsvField(t.failure_reason), t.start_time,
                       t.end_time, t.end_time - t.start_time, CsvField(t.worker));
  }
  return out;
}

nlohmann::json ExportJson(const Study& study) {
  nlohmann::json j = {{"study", study.name()},
                      {"spec", study.record().spec},
                      {"counts", CountsJson(CountTrials(study))},
                      {"trials", nlohmann::json::array()}};
  for (const auto& t : study.Finished()) j["trials"].push_back(TrialJson(study, t));
  if (study.spec().objectives.size() > 1) {
    j["pareto_front"] = nlohmann::json::array();
    for (const auto& t : study.ParetoFront()) j["pareto_front"].push_back(TrialJson(study, t));
  } else if (auto best = study.Best()) {
    j["best"] = TrialJson(study, *best);
  }
  return j;
}

TrialCounts CountTrials(const Study& study) {
  TrialCounts c;
  for (const auto& t : study.Finished()) {
    ++c.total;
    if (t.state == TrialState::kComplete) {
      ++c.complete;
    } else if (CountsTowardsBudget(t)) {
      ++c.failed;
    } else {
      ++c.interrupted;
    }
  }
  c.counted = c.complete + c.failed;
  return c;
}

std::string DescribeCounts(const TrialCounts& c) {
  std::string out = fmt::format("{} trial{}", c.total, c.total == 1 ? "" : "s");
  std::vector<std::string> parts;
  if (c.complete > 0) parts.push_back(fmt::format("{} complete", c.complete));
  if (c.failed > 0) parts.push_back(fmt::format("{} failed", c.failed));
  if (c.interrupted > 0) parts.push_back(fmt::format("{} interrupted", c.interrupted));
  if (!parts.empty()) out += fmt::format(": {}", fmt::join(parts, ", "));
  return out;
}

nlohmann::json CountsJson(const TrialCounts& c) {
  return {{"total", c.total},
          {"complete", c.complete},
          {"failed", c.failed},
          {"interrupted", c.interrupted},
          {"counted", c.counted}};
}

nlohmann::json ExportT4(const Study& study) {
  nlohmann::json results = nlohmann::json::array();
  nlohmann::json names = nlohmann::json::array();
  for (const auto& o : study.spec().objectives) names.push_back(o.name);
  for (const auto& t : study.Finished()) {
    nlohmann::json runtimes = nlohmann::json::array();
    for (const auto& s : t.samples) {
      if (!s.empty()) runtimes.push_back(s[0]);
    }
    std::string invalidity = "correct";
    if (t.state != TrialState::kComplete) {
      invalidity = t.failure_reason.rfind("timed out", 0) == 0 ? "timeout" : "runtime";
    }
    nlohmann::json measurements = nlohmann::json::array();
    if (t.state == TrialState::kComplete) {
      for (size_t i = 0; i < t.values.size() && i < names.size(); ++i) {
        measurements.push_back({{"name", names[i]}, {"value", t.values[i]}, {"unit", ""}});
      }
    }
    results.push_back({{"timestamp", IsoTime(t.start_time)},
                       {"configuration", study.space().ConfigToJson(t.config)},
                       {"objectives", names},
                       {"times", {{"runtimes", runtimes}}},
                       {"invalidity", invalidity},
                       {"correctness", t.state == TrialState::kComplete ? 1 : 0},
                       {"measurements", measurements}});
  }
  return {{"schema_version", "1.0.0"}, {"results", results}};
}

std::string ExportText(const Study& study, ExportFormat format) {
  switch (format) {
    case ExportFormat::kCsv:
      return ExportCsv(study);
    case ExportFormat::kJson:
      return ExportJson(study).dump(2) + "\n";
    case ExportFormat::kT4:
      return ExportT4(study).dump(2) + "\n";
  }
  return "";
}

}  // namespace sysopt
