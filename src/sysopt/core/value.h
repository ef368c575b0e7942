#pragma once
/// \brief Values of parameters and configurations: the vocabulary shared by spaces, studies,
/// storage and runners.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <variant>
#include <vector>

#include "sysopt/core/expected.h"

namespace sysopt {

/// \brief An ordering of the elements 0..size-1.
struct Permutation {
  std::vector<int> order;
  bool operator==(const Permutation&) const = default;
  auto operator<=>(const Permutation&) const = default;
};

/// \brief A sequence of items, each an index into its parameter's alphabet; any length, items
/// may repeat.
struct Sequence {
  std::vector<int> items;
  bool operator==(const Sequence&) const = default;
  auto operator<=>(const Sequence&) const = default;
};

/// \brief The value of a conditional parameter whose condition does not hold: the parameter
/// takes no part in the configuration.
struct Inactive {
  bool operator==(const Inactive&) const = default;
  auto operator<=>(const Inactive&) const = default;
};

/// \brief One parameter's value: an integer, a real number, a string (categorical or ordinal
/// choice), a permutation, a sequence, or the marker of an inactive conditional parameter.
using Value = std::variant<int64_t, double, std::string, Permutation, Sequence, Inactive>;

/// \brief A configuration: one value per parameter, in the space's parameter order (Inactive for
/// a conditional parameter whose condition does not hold).
using Config = std::vector<Value>;

/// \brief The text a command receives for a value: integers in decimal, reals in the shortest
/// form that reads back exactly, strings as they are, permutations and sequences as
/// comma-separated indices (an empty sequence as the empty string), Inactive as the empty string.
std::string ValueToString(const Value& value);

/// \brief JSON form: number, string, array of integers for a permutation, the object
/// {"sequence": [indices]} for a sequence (an object, so that it is never read as a permutation),
/// and null for Inactive.
nlohmann::json ValueToJson(const Value& value);

/// \brief Reads a value written by ValueToJson. Integral JSON numbers become int64_t, other
/// numbers double, strings string, integer arrays Permutation, {"sequence": [...]} Sequence,
/// null Inactive.
Expected<Value> ValueFromJson(const nlohmann::json& json);

/// \brief True when the value is the Inactive marker.
inline bool IsInactive(const Value& value) { return std::holds_alternative<Inactive>(value); }

/// \brief True when the value is int64_t or double.
bool IsNumeric(const Value& value);

/// \brief The numeric value of an int64_t or double; NaN for other kinds.
double AsDouble(const Value& value);

/// \brief A hash of a configuration, for duplicate detection.
size_t HashConfig(const Config& config);

}  // namespace sysopt
