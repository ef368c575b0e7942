// Fuzzes the constraint language: parsing, evaluation, Check's agreement with Evaluate, and the
// soundness of interval reasoning (MaySatisfy never refutes a box holding a solution, MayViolate
// never proves one holding a violation).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/space/expression.h"

namespace {

using sysopt::Config;
using sysopt::Expression;
using sysopt::Value;
using sysopt::ValueRange;

const std::vector<std::string>& Strings() {
  static const std::vector<std::string> strings = {"", "x", "row"};
  return strings;
}

// Value v (0..9) of the small pool every name ranges over.
Value PoolValue(int v) {
  if (v < 7) return Value(int64_t{v - 3});
  if (v == 7) return Value(0.5);
  return Value(Strings()[v - 8 + 1]);
}

ValueRange Point(const Value& value) {
  ValueRange r;
  if (const auto* i = std::get_if<int64_t>(&value)) {
    r = {ValueRange::Kind::kNumbers, true, static_cast<double>(*i), static_cast<double>(*i), {}};
  } else if (const auto* d = std::get_if<double>(&value)) {
    r = {ValueRange::Kind::kNumbers, false, *d, *d, nullptr};
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    r.kind = ValueRange::Kind::kString;
    r.text = s;
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = Expression::Parse(text);
  if (!parsed.ok()) {
    if (parsed.error().message().empty()) abort();
    return 0;
  }
  Expression& e = *parsed;
  const size_t n = e.names().size();
  if (n > 3) return 0;
  if (!e.Bind([&](std::string_view name) {
         for (size_t i = 0; i < n; ++i) {
           if (e.names()[i] == name) return static_cast<int>(i);
         }
         return -1;
       }).ok()) {
    abort();
  }
  // Every configuration over the pool: Evaluate agrees with Check, and a point box is refuted
  // only where the point is false. The box of all integers -3..3 is refuted only if no integer
  // configuration holds.
  int total = 1;
  for (size_t i = 0; i < n; ++i) total *= 10;
  std::vector<ValueRange> ints(n);
  for (auto& r : ints) r = {ValueRange::Kind::kNumbers, true, -3, 3, nullptr};
  const bool ints_may = e.MaySatisfy(ints);
  // At most 64 configurations per input, spread over the grid, to keep inputs fast.
  const int tries = total < 64 ? total : 64;
  for (int k = 0; k < tries; ++k) {
    const int code = total <= 64 ? k : (k * 7919 + static_cast<int>(size)) % total;
    Config config;
    bool all_ints = true;
    for (size_t i = 0, c = code; i < n; ++i, c /= 10) {
      config.push_back(PoolValue(static_cast<int>(c % 10)));
      all_ints = all_ints && c % 10 < 7;
    }
    const bool value = e.Evaluate(config);
    auto checked = e.Check(config);
    if (checked.ok() ? *checked != value : value) abort();
    std::vector<ValueRange> box;
    for (const Value& v : config) box.push_back(Point(v));
    if (value && !e.MaySatisfy(box)) abort();
    if (!value && !e.MayViolate(box)) abort();
    if (value && all_ints && !ints_may) abort();
  }
  return 0;
}
