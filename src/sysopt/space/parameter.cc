#include "sysopt/space/parameter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

namespace sysopt {

namespace {

constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();
// n! fits in 64 bits up to n = 20.
constexpr int kMaxRankablePermutation = 20;

uint64_t Factorial(int n) {
  uint64_t f = 1;
  for (int i = 2; i <= n; ++i) {
    if (f > kSaturated / i) return kSaturated;
    f *= i;
  }
  return f;
}

// Integer grid helpers: the k-th value is low + k * step.
int64_t GridValue(const Parameter& p, uint64_t k) {
  return static_cast<int64_t>(p.low) + static_cast<int64_t>(k) * p.step;
}

int64_t SnapToGrid(const Parameter& p, double v) {
  const double k = std::round((v - p.low) / static_cast<double>(p.step));
  const double kmax = static_cast<double>(p.Cardinality() - 1);
  return GridValue(p, static_cast<uint64_t>(std::clamp(k, 0.0, kmax)));
}

// Position of a numeric value on the encoded [0, 1] scale of an integer/real parameter.
double ToUnitScale(const Parameter& p, double v) {
  if (p.high <= p.low) return 0.0;
  if (p.log) return (std::log(v) - std::log(p.low)) / (std::log(p.high) - std::log(p.low));
  return (v - p.low) / (p.high - p.low);
}

double FromUnitScale(const Parameter& p, double u) {
  u = std::clamp(u, 0.0, 1.0);
  if (p.log) return std::exp(std::log(p.low) + u * (std::log(p.high) - std::log(p.low)));
  return p.low + u * (p.high - p.low);
}

Permutation UnrankPermutation(int size, uint64_t rank) {
  std::vector<int> pool(size);
  std::iota(pool.begin(), pool.end(), 0);
  Permutation out;
  out.order.reserve(size);
  for (int i = size; i >= 1; --i) {
    const uint64_t f = Factorial(i - 1);
    const uint64_t digit = rank / f;
    rank %= f;
    out.order.push_back(pool[digit]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(digit));
  }
  return out;
}

uint64_t RankPermutation(const Permutation& p) {
  const int n = static_cast<int>(p.order.size());
  uint64_t rank = 0;
  for (int i = 0; i < n; ++i) {
    uint64_t smaller_later = 0;
    for (int j = i + 1; j < n; ++j) smaller_later += p.order[j] < p.order[i];
    rank += smaller_later * Factorial(n - 1 - i);
  }
  return rank;
}

bool IsPermutationOf(const Permutation& p, int size) {
  if (static_cast<int>(p.order.size()) != size) return false;
  std::vector<bool> seen(size, false);
  for (int e : p.order) {
    if (e < 0 || e >= size || seen[e]) return false;
    seen[e] = true;
  }
  return true;
}

// Choices compare by value, with integers and reals that are equal treated as equal, so that a
// JSON 8 matches a stored 8.0.
bool SameChoice(const Value& a, const Value& b) {
  if (IsNumeric(a) && IsNumeric(b)) return AsDouble(a) == AsDouble(b);
  return a == b;
}

}  // namespace

std::string_view ParamKindName(ParamKind kind) {
  switch (kind) {
    case ParamKind::kInteger:
      return "integer";
    case ParamKind::kReal:
      return "real";
    case ParamKind::kOrdinal:
      return "ordinal";
    case ParamKind::kCategorical:
      return "categorical";
    case ParamKind::kPermutation:
      return "permutation";
  }
  return "?";
}

uint64_t Parameter::Cardinality() const {
  switch (kind) {
    case ParamKind::kInteger: {
      const double count = std::floor((high - low) / static_cast<double>(step)) + 1;
      return count >= 1.8e19 ? kSaturated : static_cast<uint64_t>(count);
    }
    case ParamKind::kReal:
      return 0;
    case ParamKind::kOrdinal:
    case ParamKind::kCategorical:
      return values.size();
    case ParamKind::kPermutation:
      return Factorial(size);
  }
  return 0;
}

Value Parameter::ValueAt(uint64_t k) const {
  switch (kind) {
    case ParamKind::kInteger:
      return GridValue(*this, k);
    case ParamKind::kReal:
      return FromUnitScale(*this, 0.5);
    case ParamKind::kOrdinal:
    case ParamKind::kCategorical:
      return values.at(k);
    case ParamKind::kPermutation:
      return UnrankPermutation(size, k);
  }
  return int64_t{0};
}

std::optional<uint64_t> Parameter::IndexOf(const Value& value) const {
  switch (kind) {
    case ParamKind::kInteger: {
      if (!IsNumeric(value)) return std::nullopt;
      const double v = AsDouble(value);
      if (v != std::floor(v) || v < low || v > high) return std::nullopt;
      const auto offset = static_cast<int64_t>(v - low);
      if (offset % step != 0) return std::nullopt;
      return static_cast<uint64_t>(offset / step);
    }
    case ParamKind::kReal:
      return std::nullopt;
    case ParamKind::kOrdinal:
    case ParamKind::kCategorical:
      for (size_t i = 0; i < values.size(); ++i) {
        if (SameChoice(values[i], value)) return i;
      }
      return std::nullopt;
    case ParamKind::kPermutation: {
      const auto* p = std::get_if<Permutation>(&value);
      if (p == nullptr || !IsPermutationOf(*p, size) || size > kMaxRankablePermutation) {
        return std::nullopt;
      }
      return RankPermutation(*p);
    }
  }
  return std::nullopt;
}

Value Parameter::Sample(Rng& rng) const {
  switch (kind) {
    case ParamKind::kInteger:
      if (log) return SnapToGrid(*this, FromUnitScale(*this, Uniform01(rng)));
      return GridValue(*this, UniformIndex(rng, Cardinality()));
    case ParamKind::kReal:
      return FromUnitScale(*this, Uniform01(rng));
    case ParamKind::kOrdinal:
    case ParamKind::kCategorical:
      return values[UniformIndex(rng, values.size())];
    case ParamKind::kPermutation: {
      Permutation p;
      p.order.resize(size);
      std::iota(p.order.begin(), p.order.end(), 0);
      std::shuffle(p.order.begin(), p.order.end(), rng);
      return p;
    }
  }
  return int64_t{0};
}

Value Parameter::FromUnit(double u) const {
  u = std::clamp(u, 0.0, std::nextafter(1.0, 0.0));
  switch (kind) {
    case ParamKind::kInteger:
      if (log) return SnapToGrid(*this, FromUnitScale(*this, u));
      return GridValue(*this, static_cast<uint64_t>(u * static_cast<double>(Cardinality())));
    case ParamKind::kReal:
      return FromUnitScale(*this, u);
    case ParamKind::kOrdinal:
    case ParamKind::kCategorical:
      return values[static_cast<size_t>(u * static_cast<double>(values.size()))];
    case ParamKind::kPermutation: {
      if (size <= kMaxRankablePermutation) {
        const auto n = static_cast<long double>(Cardinality());
        return UnrankPermutation(size, static_cast<uint64_t>(u * n));
      }
      // Too many permutations to rank: derive a shuffle from u, deterministic in u.
      Rng rng(static_cast<uint64_t>(u * 9007199254740992.0));
      return Sample(rng);
    }
  }
  return int64_t{0};
}

std::vector<Value> Parameter::Neighbors(const Value& value, Rng& rng) const {
  std::vector<Value> out;
  switch (kind) {
    case ParamKind::kInteger: {
      const auto v = static_cast<int64_t>(AsDouble(value));
      if (v - step >= low) out.emplace_back(v - step);
      if (v + step <= high) out.emplace_back(v + step);
      // Wide ranges also get two longer Gaussian moves on the encoded scale, so that local
      // search is not limited to crawling one step at a time.
      if (Cardinality() > 16) {
        std::normal_distribution<double> jump(0.0, 0.1);
        for (int i = 0; i < 2; ++i) {
          const int64_t w =
              SnapToGrid(*this, FromUnitScale(*this, ToUnitScale(*this, v) + jump(rng)));
          const bool seen = std::any_of(out.begin(), out.end(),
                                        [&](const Value& x) { return std::get<int64_t>(x) == w; });
          if (w != v && !seen) out.emplace_back(w);
        }
      }
      break;
    }
    case ParamKind::kReal: {
      std::normal_distribution<double> jump(0.0, 0.1);
      const double u = ToUnitScale(*this, AsDouble(value));
      for (int i = 0; i < 4; ++i) {
        const double w = FromUnitScale(*this, u + jump(rng));
        if (w != AsDouble(value)) out.emplace_back(w);
      }
      break;
    }
    case ParamKind::kOrdinal: {
      const auto i = IndexOf(value);
      if (!i) break;
      if (*i > 0) out.push_back(values[*i - 1]);
      if (*i + 1 < values.size()) out.push_back(values[*i + 1]);
      break;
    }
    case ParamKind::kCategorical:
      for (const auto& c : values) {
        if (!SameChoice(c, value)) out.push_back(c);
      }
      break;
    case ParamKind::kPermutation: {
      const auto& p = std::get<Permutation>(value);
      for (int i = 0; i + 1 < size; ++i) {
        Permutation q = p;
        std::swap(q.order[i], q.order[i + 1]);
        out.emplace_back(std::move(q));
      }
      if (size > 2) {
        // One random swap and one random insertion reach beyond adjacent transpositions.
        const auto a = static_cast<int>(UniformIndex(rng, size));
        auto b = static_cast<int>(UniformIndex(rng, size - 1));
        if (b >= a) ++b;
        Permutation swapped = p;
        std::swap(swapped.order[a], swapped.order[b]);
        if (std::abs(a - b) > 1) out.emplace_back(std::move(swapped));
        Permutation moved = p;
        const int e = moved.order[a];
        moved.order.erase(moved.order.begin() + a);
        moved.order.insert(moved.order.begin() + b, e);
        if (std::abs(a - b) > 1) out.emplace_back(std::move(moved));
      }
      break;
    }
  }
  return out;
}

Expected<void> Parameter::Check(const Value& value) const {
  bool ok = false;
  if (kind == ParamKind::kReal) {
    ok = IsNumeric(value) && AsDouble(value) >= low && AsDouble(value) <= high;
  } else if (kind == ParamKind::kPermutation) {
    const auto* p = std::get_if<Permutation>(&value);
    ok = p != nullptr && IsPermutationOf(*p, size);
  } else {
    ok = IndexOf(value).has_value();
  }
  if (!ok) {
    return InvalidInput("parameter '{}': value {} is not in its domain", name,
                        ValueToJson(value).dump());
  }
  return Ok();
}

void Parameter::Encode(const Value& value, double* out) const {
  switch (kind) {
    case ParamKind::kInteger:
    case ParamKind::kReal:
      out[0] = ToUnitScale(*this, AsDouble(value));
      break;
    case ParamKind::kOrdinal: {
      const auto i = IndexOf(value).value_or(0);
      out[0] = values.size() > 1 ? static_cast<double>(i) / (values.size() - 1) : 0.0;
      break;
    }
    case ParamKind::kCategorical:
      out[0] = static_cast<double>(IndexOf(value).value_or(0));
      break;
    case ParamKind::kPermutation: {
      const auto& p = std::get<Permutation>(value);
      for (int i = 0; i < size; ++i) out[i] = p.order[i];
      break;
    }
  }
}

Value Parameter::Default() const {
  if (default_value) return *default_value;
  switch (kind) {
    case ParamKind::kInteger:
      return GridValue(*this, 0);
    case ParamKind::kReal:
      return low;
    case ParamKind::kOrdinal:
    case ParamKind::kCategorical:
      return values.front();
    case ParamKind::kPermutation:
      return UnrankPermutation(size, 0);
  }
  return int64_t{0};
}

double Parameter::LogPrior(const Value& value) const {
  if (!prior_weights.empty()) {
    const auto i = IndexOf(value);
    if (!i) return -1e9;
    double total = 0;
    for (double w : prior_weights) total += w;
    return std::log(std::max(prior_weights[*i] / total, 1e-12));
  }
  if (prior_mean) {
    double u = 0, mu = 0;
    Encode(value, &u);
    Encode(*prior_mean, &mu);
    // Ordinals encode as index / (n - 1), so their Gaussian sits on that scale too.
    const double z = (u - mu) / prior_width;
    return -0.5 * z * z;
  }
  return 0.0;
}

Value Parameter::SampleFromPrior(Rng& rng) const {
  if (!prior_weights.empty()) {
    std::discrete_distribution<size_t> pick(prior_weights.begin(), prior_weights.end());
    return values[pick(rng)];
  }
  if (prior_mean) {
    double mu = 0;
    Encode(*prior_mean, &mu);
    std::normal_distribution<double> gauss(mu, prior_width);
    double u = gauss(rng);
    for (int tries = 0; (u < 0 || u > 1) && tries < 16; ++tries) u = gauss(rng);
    u = std::clamp(u, 0.0, 1.0);
    switch (kind) {
      case ParamKind::kInteger:
        return SnapToGrid(*this, FromUnitScale(*this, u));
      case ParamKind::kReal:
        return FromUnitScale(*this, u);
      case ParamKind::kOrdinal:
        return values[static_cast<size_t>(std::lround(u * (values.size() - 1)))];
      default:
        break;
    }
  }
  return Sample(rng);
}

nlohmann::json Parameter::ToJson() const {
  nlohmann::json j = {{"name", name}, {"type", ParamKindName(kind)}};
  switch (kind) {
    case ParamKind::kInteger:
      j["low"] = static_cast<int64_t>(low);
      j["high"] = static_cast<int64_t>(high);
      if (step != 1) j["step"] = step;
      if (log) j["log"] = true;
      break;
    case ParamKind::kReal:
      j["low"] = low;
      j["high"] = high;
      if (log) j["log"] = true;
      break;
    case ParamKind::kOrdinal:
    case ParamKind::kCategorical:
      j["values"] = nlohmann::json::array();
      for (const auto& v : values) j["values"].push_back(ValueToJson(v));
      break;
    case ParamKind::kPermutation:
      j["size"] = size;
      break;
  }
  if (default_value) j["default"] = ValueToJson(*default_value);
  if (prior_mean) j["prior"] = {{"mean", ValueToJson(*prior_mean)}, {"width", prior_width}};
  if (!prior_weights.empty()) j["prior"] = {{"weights", prior_weights}};
  return j;
}

namespace {

Expected<double> NumberField(const nlohmann::json& j, const std::string& where, const char* key) {
  if (!j.contains(key)) return InvalidInput("{}: missing field \"{}\"", where, key);
  const auto& v = j.at(key);
  if (!v.is_number()) {
    return InvalidInput("{}: field \"{}\": expected a number, got {}", where, key, v.dump());
  }
  const double d = v.get<double>();
  if (!std::isfinite(d)) return InvalidInput("{}: field \"{}\" is not finite", where, key);
  return d;
}

Expected<int64_t> IntegerField(const nlohmann::json& j, const std::string& where, const char* key) {
  auto d = NumberField(j, where, key);
  if (!d.ok()) return d.error();
  if (*d != std::floor(*d) || std::abs(*d) > 9.0e15) {
    return InvalidInput("{}: field \"{}\": expected an integer, got {}", where, key,
                        j.at(key).dump());
  }
  return static_cast<int64_t>(*d);
}

Expected<std::vector<Value>> ChoicesField(const nlohmann::json& j, const std::string& where) {
  if (!j.contains("values")) return InvalidInput("{}: missing field \"values\"", where);
  const auto& arr = j.at("values");
  if (!arr.is_array()) {
    return InvalidInput("{}: field \"values\": expected an array, got {}", where, arr.dump());
  }
  if (arr.empty()) return InvalidInput("{}: field \"values\" is empty", where);
  bool any_string = false, any_number = false, all_integral = true;
  for (const auto& v : arr) {
    if (v.is_string()) {
      any_string = true;
    } else if (v.is_number() || v.is_boolean()) {
      any_number = true;
      if (v.is_number_float() && v.get<double>() != std::floor(v.get<double>())) {
        all_integral = false;
      }
    } else {
      return InvalidInput("{}: field \"values\": {} is neither a number nor a string", where,
                          v.dump());
    }
  }
  if (any_string && any_number) {
    return InvalidInput("{}: field \"values\" mixes numbers and strings: {}", where, arr.dump());
  }
  std::vector<Value> out;
  for (const auto& v : arr) {
    if (v.is_string()) {
      out.emplace_back(v.get<std::string>());
    } else if (v.is_boolean()) {
      out.emplace_back(int64_t{v.get<bool>() ? 1 : 0});
    } else if (all_integral) {
      out.emplace_back(static_cast<int64_t>(v.get<double>()));
    } else {
      out.emplace_back(v.get<double>());
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      if (SameChoice(out[i], out[k])) {
        return InvalidInput("{}: field \"values\": {} appears twice", where, arr[i].dump());
      }
    }
  }
  return out;
}

Expected<void> ParsePrior(const nlohmann::json& prior, const std::string& where, Parameter& p) {
  const std::string at = where + ": field \"prior\"";
  if (!prior.is_object()) return InvalidInput("{}: expected an object, got {}", at, prior.dump());
  if (p.kind == ParamKind::kPermutation) {
    return InvalidInput("{}: permutation parameters take no prior", at);
  }
  const bool choices = p.kind == ParamKind::kOrdinal || p.kind == ParamKind::kCategorical;
  for (const auto& [key, _] : prior.items()) {
    const bool ok = key == "weights"
                        ? choices
                        : (key == "mean" || key == "width") && !(p.kind == ParamKind::kCategorical);
    if (!ok)
      return InvalidInput("{}: unknown or unsuitable field \"{}\" for a {} parameter", at, key,
                          ParamKindName(p.kind));
  }
  if (prior.contains("weights")) {
    const auto& w = prior.at("weights");
    if (!w.is_array() || w.size() != p.values.size()) {
      return InvalidInput("{}: \"weights\" needs one number per value ({}), got {}", at,
                          p.values.size(), w.dump());
    }
    double total = 0;
    for (const auto& x : w) {
      if (!x.is_number() || x.get<double>() < 0) {
        return InvalidInput("{}: weight {} is not a number >= 0", at, x.dump());
      }
      total += x.get<double>();
      p.prior_weights.push_back(x.get<double>());
    }
    if (total <= 0) return InvalidInput("{}: the weights sum to zero", at);
    return Ok();
  }
  if (!prior.contains("mean")) return InvalidInput("{}: missing field \"mean\"", at);
  auto mean = ValueFromJson(prior.at("mean"));
  if (!mean.ok()) return mean.error().WithContext(at);
  if (p.kind == ParamKind::kReal && IsNumeric(*mean)) *mean = AsDouble(*mean);
  if (p.kind == ParamKind::kInteger && IsNumeric(*mean)) {
    *mean = static_cast<int64_t>(std::llround(AsDouble(*mean)));
  }
  if (p.kind == ParamKind::kOrdinal) {
    if (auto i = p.IndexOf(*mean)) *mean = p.values[*i];
  }
  const bool in_range =
      p.kind == ParamKind::kOrdinal
          ? p.IndexOf(*mean).has_value()
          : IsNumeric(*mean) && AsDouble(*mean) >= p.low && AsDouble(*mean) <= p.high;
  if (!in_range) {
    return InvalidInput("{}: \"mean\" {} is not in the parameter's domain", at,
                        prior.at("mean").dump());
  }
  p.prior_mean = *mean;
  if (prior.contains("width")) {
    if (!prior.at("width").is_number() || prior.at("width").get<double>() <= 0 ||
        prior.at("width").get<double>() > 10) {
      return InvalidInput(
          "{}: \"width\" must be a number in (0, 10] (a fraction of the range), "
          "got {}",
          at, prior.at("width").dump());
    }
    p.prior_width = prior.at("width").get<double>();
  }
  return Ok();
}

}  // namespace

Expected<Parameter> ParseParameter(const nlohmann::json& j, const std::string& where_in) {
  std::string where = where_in;
  if (!j.is_object()) return InvalidInput("{}: expected an object, got {}", where, j.dump());
  Parameter p;
  if (!j.contains("name") || !j.at("name").is_string() || j.at("name").get<std::string>().empty()) {
    return InvalidInput("{}: field \"name\": expected a non-empty string", where);
  }
  p.name = j.at("name").get<std::string>();
  where = fmt::format("{} (\"{}\")", where, p.name);
  if (!j.contains("type") || !j.at("type").is_string()) {
    return InvalidInput(
        "{}: field \"type\": expected one of integer, real, ordinal, categorical, "
        "permutation",
        where);
  }
  const auto type = j.at("type").get<std::string>();
  std::set<std::string> allowed = {"name", "type", "default", "prior"};
  if (type == "integer" || type == "int") {
    p.kind = ParamKind::kInteger;
    allowed.insert({"low", "high", "step", "log"});
  } else if (type == "real" || type == "float") {
    p.kind = ParamKind::kReal;
    allowed.insert({"low", "high", "log"});
  } else if (type == "ordinal") {
    p.kind = ParamKind::kOrdinal;
    allowed.insert("values");
  } else if (type == "categorical") {
    p.kind = ParamKind::kCategorical;
    allowed.insert("values");
  } else if (type == "permutation") {
    p.kind = ParamKind::kPermutation;
    allowed.insert("size");
  } else {
    return InvalidInput(
        "{}: field \"type\": unknown type \"{}\" (expected integer, real, ordinal, "
        "categorical or permutation)",
        where, type);
  }
  for (const auto& [key, _] : j.items()) {
    if (!allowed.count(key)) {
      return InvalidInput("{}: unknown field \"{}\" for a {} parameter", where, key, type);
    }
  }
  switch (p.kind) {
    case ParamKind::kInteger: {
      auto low = IntegerField(j, where, "low");
      if (!low.ok()) return low.error();
      auto high = IntegerField(j, where, "high");
      if (!high.ok()) return high.error();
      p.low = static_cast<double>(*low);
      p.high = static_cast<double>(*high);
      if (j.contains("step")) {
        auto step = IntegerField(j, where, "step");
        if (!step.ok()) return step.error();
        if (*step <= 0)
          return InvalidInput("{}: field \"step\" must be positive, got {}", where, *step);
        p.step = *step;
      }
      break;
    }
    case ParamKind::kReal: {
      auto low = NumberField(j, where, "low");
      if (!low.ok()) return low.error();
      auto high = NumberField(j, where, "high");
      if (!high.ok()) return high.error();
      p.low = *low;
      p.high = *high;
      break;
    }
    case ParamKind::kOrdinal:
    case ParamKind::kCategorical: {
      auto choices = ChoicesField(j, where);
      if (!choices.ok()) return choices.error();
      p.values = std::move(*choices);
      break;
    }
    case ParamKind::kPermutation: {
      auto size = IntegerField(j, where, "size");
      if (!size.ok()) return size.error();
      if (*size < 1 || *size > 64) {
        return InvalidInput("{}: field \"size\" must be between 1 and 64, got {}", where, *size);
      }
      p.size = static_cast<int>(*size);
      break;
    }
  }
  if (p.kind == ParamKind::kInteger || p.kind == ParamKind::kReal) {
    if (p.low > p.high) {
      return InvalidInput("{}: empty range: \"low\" {} is above \"high\" {}", where, p.low, p.high);
    }
    if (j.contains("log")) {
      if (!j.at("log").is_boolean()) {
        return InvalidInput("{}: field \"log\": expected true or false, got {}", where,
                            j.at("log").dump());
      }
      p.log = j.at("log").get<bool>();
      if (p.log && p.low <= 0) {
        return InvalidInput("{}: a log-scaled range needs \"low\" > 0, got {}", where, p.low);
      }
    }
  }
  if (j.contains("default")) {
    auto v = ValueFromJson(j.at("default"));
    if (!v.ok()) return v.error().WithContext(where + ": field \"default\"");
    // Integers written as 8.0 and reals written as 1 are normalised to the parameter's kind.
    if (p.kind == ParamKind::kReal && IsNumeric(*v)) *v = AsDouble(*v);
    if (p.kind == ParamKind::kInteger && IsNumeric(*v) &&
        AsDouble(*v) == std::floor(AsDouble(*v))) {
      *v = static_cast<int64_t>(AsDouble(*v));
    }
    if (p.kind == ParamKind::kOrdinal || p.kind == ParamKind::kCategorical) {
      if (auto i = p.IndexOf(*v)) *v = p.values[*i];
    }
    if (!p.Check(*v).ok()) {
      return InvalidInput("{}: field \"default\": {} is not in the parameter's domain", where,
                          j.at("default").dump());
    }
    p.default_value = std::move(*v);
  }
  if (j.contains("prior")) {
    SYSOPT_RETURN_IF_ERROR(ParsePrior(j.at("prior"), where, p));
  }
  return p;
}

}  // namespace sysopt
