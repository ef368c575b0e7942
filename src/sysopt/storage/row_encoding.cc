#include "sysopt/storage/row_encoding.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "sysopt/core/json.h"

namespace sysopt {
namespace {

// JSON has no NaN or infinity (nlohmann writes them as null), so non-finite reals are written
// as strings to read back exactly.
nlohmann::json EncodeReal(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

Expected<double> DecodeReal(const nlohmann::json& json) {
  if (json.is_number()) return json.get<double>();
  if (json == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (json == "Infinity") return std::numeric_limits<double>::infinity();
  if (json == "-Infinity") return -std::numeric_limits<double>::infinity();
  return InvalidInput("expected a real number, got {}", Dump(json));
}

}  // namespace

// Invalid UTF-8 in a string would make nlohmann throw; replacing it keeps a bad byte in a
// user's stderr or attribute from failing a whole trial.
std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json EncodeReals(const std::vector<double>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (double v : values) out.push_back(EncodeReal(v));
  return out;
}

Expected<std::vector<double>> DecodeReals(const nlohmann::json& json) {
  if (!json.is_array()) return InvalidInput("expected an array of reals, got {}", Dump(json));
  std::vector<double> out;
  out.reserve(json.size());
  for (const auto& e : json) {
    auto v = DecodeReal(e);
    if (!v.ok()) return v.error();
    out.push_back(*v);
  }
  return out;
}

nlohmann::json EncodeSamples(const std::vector<std::vector<double>>& samples) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : samples) out.push_back(EncodeReals(s));
  return out;
}

Expected<std::vector<std::vector<double>>> DecodeSamples(const nlohmann::json& json) {
  if (!json.is_array()) return InvalidInput("expected an array of arrays, got {}", Dump(json));
  std::vector<std::vector<double>> out;
  out.reserve(json.size());
  for (const auto& e : json) {
    auto v = DecodeReals(e);
    if (!v.ok()) return v.error();
    out.push_back(std::move(*v));
  }
  return out;
}

nlohmann::json EncodeConfig(const Config& config) {
  nlohmann::json out = nlohmann::json::array();
  for (const Value& v : config) out.push_back(ValueToJson(v));
  return out;
}

Expected<Config> DecodeConfig(const nlohmann::json& json) {
  if (!json.is_array()) return InvalidInput("expected an array of values, got {}", Dump(json));
  Config out;
  out.reserve(json.size());
  for (const auto& e : json) {
    auto v = ValueFromJson(e);
    if (!v.ok()) return v.error();
    out.push_back(std::move(*v));
  }
  return out;
}

void DecodeTrialColumns(const std::string& state_text, const std::string& config_text,
                        const std::string& values_text, const std::string& samples_text,
                        const std::string& attrs_text, TrialRecord& t) {
  auto damaged = [&](std::string_view column, const Error& e) {
    if (t.damage.empty()) t.damage = fmt::format("column {}: {}", column, e.message());
  };
  auto json_of = [&](const std::string& text,
                     std::string_view column) -> std::optional<nlohmann::json> {
    auto json = sysopt::ParseJson(text);
    if (json.ok()) return std::move(*json);
    damaged(column, json.error());
    return std::nullopt;
  };
  auto state = ParseTrialState(state_text);
  if (state.ok()) {
    t.state = *state;
  } else {
    t.state = TrialState::kFailed;
    damaged("state", state.error());
  }
  if (auto json = json_of(config_text, "config")) {
    auto config = DecodeConfig(*json);
    if (config.ok()) t.config = std::move(*config);
    if (!config.ok()) damaged("config", config.error());
  }
  if (auto json = json_of(values_text, "objective_values")) {
    auto values = DecodeReals(*json);
    if (values.ok()) t.values = std::move(*values);
    if (!values.ok()) damaged("objective_values", values.error());
  }
  if (auto json = json_of(samples_text, "samples")) {
    auto samples = DecodeSamples(*json);
    if (samples.ok()) t.samples = std::move(*samples);
    if (!samples.ok()) damaged("samples", samples.error());
  }
  if (auto attrs = json_of(attrs_text, "attrs")) t.attrs = std::move(*attrs);
}

}  // namespace sysopt
