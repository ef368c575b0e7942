#include "sysopt/core/value.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

namespace sysopt {

namespace {
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// Spelled out for compilers without class template argument deduction for aggregates (clang 14).
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;
}  // namespace

std::string ValueToString(const Value& value) {
  return std::visit(
      Overloaded{[](int64_t v) { return fmt::format("{}", v); },
                 // fmt's default for double is the shortest representation that round-trips.
                 [](double v) { return fmt::format("{}", v); },
                 [](const std::string& v) { return v; },
                 [](const Permutation& v) { return fmt::format("{}", fmt::join(v.order, ",")); },
                 [](const Sequence& v) { return fmt::format("{}", fmt::join(v.items, ",")); },
                 [](const Inactive&) { return std::string(); }},
      value);
}

nlohmann::json ValueToJson(const Value& value) {
  return std::visit(Overloaded{[](int64_t v) { return nlohmann::json(v); },
                               [](double v) { return nlohmann::json(v); },
                               [](const std::string& v) { return nlohmann::json(v); },
                               [](const Permutation& v) { return nlohmann::json(v.order); },
                               [](const Sequence& v) {
                                 return nlohmann::json{{"sequence", v.items}};
                               },
                               [](const Inactive&) { return nlohmann::json(nullptr); }},
                    value);
}

Expected<Value> ValueFromJson(const nlohmann::json& json) {
  if (json.is_null()) return Value(Inactive{});
  if (json.is_number_unsigned() &&
      json.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidInput("{} is outside the range of a 64-bit integer", json.dump());
  }
  if (json.is_number_integer()) return Value(json.get<int64_t>());
  if (json.is_number_float()) return Value(json.get<double>());
  if (json.is_string()) return Value(json.get<std::string>());
  if (json.is_array()) {
    Permutation p;
    for (const auto& e : json) {
      if (!e.is_number_integer() || e.get<int64_t>() < std::numeric_limits<int>::min() ||
          e.get<int64_t>() > std::numeric_limits<int>::max() ||
          (e.is_number_unsigned() && e.get<uint64_t>() > uint64_t{1} << 31)) {
        return InvalidInput("expected an array of integers, got {}", json.dump());
      }
      p.order.push_back(e.get<int>());
    }
    return Value(std::move(p));
  }
  if (json.is_object() && json.size() == 1 && json.contains("sequence") &&
      json.at("sequence").is_array()) {
    Sequence s;
    for (const auto& e : json.at("sequence")) {
      if (!e.is_number_integer() || e.get<int64_t>() < 0 ||
          (e.is_number_unsigned() && e.get<uint64_t>() > uint64_t{1} << 31) ||
          e.get<int64_t>() > std::numeric_limits<int>::max()) {
        return InvalidInput("field \"sequence\": expected an array of item indices >= 0, got {}",
                            json.dump());
      }
      s.items.push_back(e.get<int>());
    }
    return Value(std::move(s));
  }
  return InvalidInput(
      "expected a number, string, integer array, {{\"sequence\": [...]}} object or null, got {}",
      json.dump());
}

bool IsNumeric(const Value& value) {
  return std::holds_alternative<int64_t>(value) || std::holds_alternative<double>(value);
}

double AsDouble(const Value& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&value)) return *d;
  return std::numeric_limits<double>::quiet_NaN();
}

size_t HashConfig(const Config& config) {
  size_t h = 0x9E3779B97F4A7C15ULL;
  auto mix = [&h](size_t v) { h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2); };
  for (const auto& v : config) {
    mix(v.index());
    std::visit(Overloaded{[&](int64_t x) { mix(std::hash<int64_t>{}(x)); },
                          [&](double x) { mix(std::hash<double>{}(x)); },
                          [&](const std::string& x) { mix(std::hash<std::string>{}(x)); },
                          [&](const Permutation& x) {
                            for (int e : x.order) mix(std::hash<int>{}(e));
                          },
                          [&](const Sequence& x) {
                            // The length keeps adjacent sequences in a configuration apart.
                            mix(x.items.size());
                            for (int e : x.items) mix(std::hash<int>{}(e));
                          },
                          [](const Inactive&) {}},
               v);
  }
  return h;
}

}  // namespace sysopt
