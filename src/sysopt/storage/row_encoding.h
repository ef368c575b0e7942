#pragma once
/// \file
/// \brief How the database backends encode a trial's columns as text (shared by SQLite and
/// PostgreSQL, so that both store the same bytes): configs, values, samples and attributes as
/// JSON; reals in the shortest form that reads back exactly; non-finite reals in values and
/// samples as the strings "NaN", "Infinity", "-Infinity".

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sysopt/core/expected.h"
#include "sysopt/core/value.h"
#include "sysopt/storage/storage.h"

namespace sysopt {

/// \brief Compact JSON text; invalid UTF-8 in strings is replaced, never thrown on.
std::string Dump(const nlohmann::json& json);

nlohmann::json EncodeReals(const std::vector<double>& values);
Expected<std::vector<double>> DecodeReals(const nlohmann::json& json);
nlohmann::json EncodeSamples(const std::vector<std::vector<double>>& samples);
Expected<std::vector<std::vector<double>>> DecodeSamples(const nlohmann::json& json);
nlohmann::json EncodeConfig(const Config& config);
Expected<Config> DecodeConfig(const nlohmann::json& json);

/// \brief Fills the state, config, values, samples and attrs of `t` from their stored text. A
/// column that cannot be decoded leaves its field at its default and is named in `t.damage`
/// (the first one only), so that one bad row does not hide the rest of a study.
void DecodeTrialColumns(const std::string& state, const std::string& config,
                        const std::string& values, const std::string& samples,
                        const std::string& attrs, TrialRecord& t);

}  // namespace sysopt
