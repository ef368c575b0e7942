#include "sysopt/space/parameter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
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

// Sequences: the number of those of exactly `length` items over `symbols` symbols, and the number
// of all lengths in [min_length, size], both saturating.
uint64_t SaturatingPower(uint64_t symbols, int length) {
  uint64_t n = 1;
  for (int i = 0; i < length; ++i) {
    if (symbols != 0 && n > kSaturated / symbols) return kSaturated;
    n *= symbols;
  }
  return n;
}

uint64_t SequenceCount(const Parameter& p) {
  uint64_t total = 0;
  for (int length = p.min_length; length <= p.size; ++length) {
    const uint64_t n = SaturatingPower(p.values.size(), length);
    if (n > kSaturated - total) return kSaturated;
    total += n;
  }
  return total;
}

bool IsSequenceOf(const Sequence& s, const Parameter& p) {
  const auto length = static_cast<int>(s.items.size());
  if (length < p.min_length || length > p.size) return false;
  const auto symbols = static_cast<int>(p.values.size());
  return std::all_of(s.items.begin(), s.items.end(),
                     [&](int item) { return item >= 0 && item < symbols; });
}

// Ranks run through the lengths from min_length up, and within one length through the items read
// as the digits of a base-|alphabet| number, most significant first (lexicographic order).
Sequence UnrankSequence(const Parameter& p, uint64_t rank) {
  const uint64_t symbols = p.values.size();
  for (int length = p.min_length; length <= p.size; ++length) {
    const uint64_t n = SaturatingPower(symbols, length);
    if (rank < n) {
      Sequence s;
      s.items.resize(static_cast<size_t>(length));
      for (int i = length - 1; i >= 0; --i) {
        s.items[static_cast<size_t>(i)] = static_cast<int>(rank % symbols);
        rank /= symbols;
      }
      return s;
    }
    rank -= n;
  }
  return Sequence{std::vector<int>(static_cast<size_t>(p.min_length), 0)};
}

uint64_t RankSequence(const Parameter& p, const Sequence& s) {
  const uint64_t symbols = p.values.size();
  uint64_t rank = 0;
  for (int length = p.min_length; length < static_cast<int>(s.items.size()); ++length) {
    rank += SaturatingPower(symbols, length);
  }
  uint64_t within = 0;
  for (int item : s.items) within = within * symbols + static_cast<uint64_t>(item);
  return rank + within;
}

Sequence RandomSequence(const Parameter& p, Rng& rng) {
  Sequence s;
  const auto length = p.min_length + static_cast<int>(UniformIndex(rng, p.size - p.min_length + 1));
  s.items.resize(static_cast<size_t>(length));
  for (int& item : s.items) item = static_cast<int>(UniformIndex(rng, p.values.size()));
  return s;
}

// The single edits of Parameter::Neighbors for a sequence `x`. When there are few edits (at most
// 4 * limit), all are listed and, if more than `limit` distinct results remain, a uniform subset
// is kept; otherwise distinct ones are drawn by first picking an applicable kind of edit
// uniformly, so that long sequences over large alphabets (where replacements outnumber everything
// else) still get insertions, deletions and swaps, without listing thousands of edits.
std::vector<Value> SequenceNeighbors(const Parameter& p, const std::vector<int>& x, Rng& rng) {
  const int length = static_cast<int>(x.size());
  const int symbols = static_cast<int>(p.values.size());
  const bool can_insert = length < p.size;
  const bool can_delete = length > p.min_length;
  const auto limit = static_cast<size_t>(2 * p.size + 8);
  std::vector<Value> out;
  std::set<std::vector<int>> seen;
  auto add = [&](std::vector<int> y) {
    if (y != x && seen.insert(y).second) out.emplace_back(Sequence{std::move(y)});
  };
  auto insert = [&](int at, int item) {
    std::vector<int> y = x;
    y.insert(y.begin() + at, item);
    add(std::move(y));
  };
  auto erase = [&](int at) {
    std::vector<int> y = x;
    y.erase(y.begin() + at);
    add(std::move(y));
  };
  auto replace = [&](int at, int item) {
    std::vector<int> y = x;
    y[static_cast<size_t>(at)] = item;
    add(std::move(y));
  };
  auto swap = [&](int i, int j) {
    std::vector<int> y = x;
    std::swap(y[static_cast<size_t>(i)], y[static_cast<size_t>(j)]);
    add(std::move(y));
  };
  const uint64_t all = (can_insert ? static_cast<uint64_t>(length + 1) * symbols : 0) +
                       (can_delete ? length : 0) + static_cast<uint64_t>(length) * (symbols - 1) +
                       static_cast<uint64_t>(length) * (length - 1) / 2;
  if (all <= 4 * limit) {
    for (int i = 0; can_delete && i < length; ++i) erase(i);
    for (int i = 0; i < length; ++i) {
      for (int j = i + 1; j < length; ++j) swap(i, j);
    }
    for (int i = 0; i < length; ++i) {
      for (int item = 0; item < symbols; ++item) {
        if (item != x[static_cast<size_t>(i)]) replace(i, item);
      }
    }
    for (int i = 0; can_insert && i <= length; ++i) {
      for (int item = 0; item < symbols; ++item) insert(i, item);
    }
    // Partial Fisher-Yates: the first `limit` entries become a uniform subset.
    for (size_t k = 0; out.size() > limit && k < limit; ++k) {
      std::swap(out[k], out[k + UniformIndex(rng, out.size() - k)]);
    }
    if (out.size() > limit) out.resize(limit);
    return out;
  }
  enum Edit { kInsert, kDelete, kReplace, kSwap };
  std::vector<Edit> edits;
  if (can_insert) edits.push_back(kInsert);
  if (can_delete) edits.push_back(kDelete);
  if (length > 0 && symbols > 1) edits.push_back(kReplace);
  if (length > 1) edits.push_back(kSwap);
  if (edits.empty()) return out;
  auto position = [&](int n) { return static_cast<int>(UniformIndex(rng, n)); };
  for (size_t tries = 0; out.size() < limit && tries < 4 * limit; ++tries) {
    switch (edits[UniformIndex(rng, edits.size())]) {
      case kInsert:
        insert(position(length + 1), position(symbols));
        break;
      case kDelete:
        erase(position(length));
        break;
      case kReplace: {
        const int at = position(length);
        int item = position(symbols - 1);
        if (item >= x[static_cast<size_t>(at)]) ++item;
        replace(at, item);
        break;
      }
      case kSwap: {
        // Half adjacent swaps (small reorderings), half any two positions.
        const int i = position(length - 1);
        if (Uniform01(rng) < 0.5) {
          swap(i, i + 1);
        } else {
          int j = position(length - 1);
          if (j >= i) ++j;
          swap(i, j);
        }
        break;
      }
    }
  }
  return out;
}

// The sequence of the named items; errors name the offending item or length, not the parameter.
Expected<Sequence> NamesToSequence(const Parameter& p, const std::vector<std::string>& names) {
  Sequence s;
  for (const auto& name : names) {
    const auto it = std::find(p.values.begin(), p.values.end(), Value(name));
    if (it == p.values.end()) {
      return InvalidInput("unknown item \"{}\" (not in the alphabet)", name);
    }
    s.items.push_back(static_cast<int>(it - p.values.begin()));
  }
  const size_t n = s.items.size();
  if (static_cast<int>(n) > p.size) {
    return InvalidInput("{} items, more than max_length {}", n, p.size);
  }
  if (static_cast<int>(n) < p.min_length) {
    return InvalidInput("{} item{}, fewer than min_length {}", n, n == 1 ? "" : "s", p.min_length);
  }
  return s;
}

// Choices compare by value, with integers and reals that are equal treated as equal, so that a
// JSON 8 matches a stored 8.0.
bool SameChoice(const Value& a, const Value& b) {
  // Two integers compare exactly: beyond 2^53 distinct ones share a double.
  const auto* ia = std::get_if<int64_t>(&a);
  const auto* ib = std::get_if<int64_t>(&b);
  if (ia != nullptr && ib != nullptr) return *ia == *ib;
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
    case ParamKind::kSequence:
      return "sequence";
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
    case ParamKind::kSequence:
      return SequenceCount(*this);
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
    case ParamKind::kSequence:
      return UnrankSequence(*this, k);
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
    case ParamKind::kSequence: {
      const auto* s = std::get_if<Sequence>(&value);
      if (s == nullptr || !IsSequenceOf(*s, *this) || Cardinality() == kSaturated) {
        return std::nullopt;
      }
      return RankSequence(*this, *s);
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
    case ParamKind::kSequence:
      return RandomSequence(*this, rng);
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
    case ParamKind::kSequence: {
      const int lengths = size - min_length + 1;
      const int length = min_length + std::min(static_cast<int>(u * lengths), lengths - 1);
      Rng rng(DeriveSeed(static_cast<uint64_t>(u * 9007199254740992.0), 0x5e9));
      Sequence s;
      s.items.resize(static_cast<size_t>(length));
      for (int& item : s.items) item = static_cast<int>(UniformIndex(rng, values.size()));
      return s;
    }
  }
  return int64_t{0};
}

std::vector<Value> Parameter::Neighbors(const Value& value, Rng& rng) const {
  std::vector<Value> out;
  if (IsInactive(value)) return out;
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
    case ParamKind::kSequence:
      if (const auto* s = std::get_if<Sequence>(&value))
        out = SequenceNeighbors(*this, s->items, rng);
      break;
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
  } else if (kind == ParamKind::kSequence) {
    const auto* s = std::get_if<Sequence>(&value);
    ok = s != nullptr && IsSequenceOf(*s, *this);
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
    case ParamKind::kSequence: {
      // Positions first (the item, or the alphabet size past the end), then the count of each
      // item over size; see encoding.h.
      const auto* s = std::get_if<Sequence>(&value);
      const int symbols = static_cast<int>(values.size());
      std::fill(out, out + size + symbols, 0.0);
      const int length = s ? std::min(static_cast<int>(s->items.size()), size) : 0;
      for (int i = 0; i < size; ++i) {
        const int item = i < length ? s->items[static_cast<size_t>(i)] : symbols;
        out[i] = item >= 0 && item <= symbols ? item : symbols;
        if (i < length && item >= 0 && item < symbols) out[size + item] += 1.0 / size;
      }
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
    case ParamKind::kSequence:
      return Sequence{std::vector<int>(static_cast<size_t>(min_length), 0)};
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
    case ParamKind::kSequence:
      j["alphabet"] = nlohmann::json::array();
      for (const auto& v : values) j["alphabet"].push_back(ValueToJson(v));
      j["max_length"] = size;
      j["min_length"] = min_length;
      break;
  }
  if (default_value && kind == ParamKind::kSequence) {
    j["default"] = SequenceNames(*default_value);
  } else if (default_value) {
    j["default"] = ValueToJson(*default_value);
  }
  if (prior_mean) j["prior"] = {{"mean", ValueToJson(*prior_mean)}, {"width", prior_width}};
  if (!prior_weights.empty()) j["prior"] = {{"weights", prior_weights}};
  if (IsConditional()) j["active_if"] = active_if;
  return j;
}

std::vector<std::string> Parameter::SequenceNames(const Value& value) const {
  std::vector<std::string> out;
  const auto* s = std::get_if<Sequence>(&value);
  if (s == nullptr) return out;
  for (int item : s->items) {
    const std::string* name = item >= 0 && item < static_cast<int>(values.size())
                                  ? std::get_if<std::string>(&values[static_cast<size_t>(item)])
                                  : nullptr;
    out.push_back(name ? *name : fmt::format("{}", item));
  }
  return out;
}

Expected<Value> Parameter::SequenceFromNames(const std::vector<std::string>& names) const {
  if (kind != ParamKind::kSequence) {
    return InvalidInput("parameter '{}': a {} parameter holds no sequence", name,
                        ParamKindName(kind));
  }
  auto s = NamesToSequence(*this, names);
  if (!s.ok()) return s.error().WithContext(fmt::format("parameter '{}'", name));
  return Value(std::move(*s));
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

// An integral double as an int64 when it is one exactly, so that the conversion never leaves
// the type's range (2^63 itself is a double that no int64 holds).
std::optional<int64_t> IntegralDouble(double d) {
  constexpr double kLimit = 9223372036854775808.0;  // 2^63
  if (!(d >= -kLimit && d < kLimit) || d != std::floor(d)) return std::nullopt;
  return static_cast<int64_t>(d);
}

// An integral JSON number as an exact int64 (JSON integers are not routed through a double,
// which would merge neighbours beyond 2^53); nullopt when it is outside the int64 range.
std::optional<int64_t> ExactInteger(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return IntegralDouble(v.get<double>());
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
      if (v.get_ref<const std::string&>().find('\0') != std::string::npos) {
        return InvalidInput("{}: field \"values\": {} contains a NUL character", where, v.dump());
      }
      out.emplace_back(v.get<std::string>());
    } else if (v.is_boolean()) {
      out.emplace_back(int64_t{v.get<bool>() ? 1 : 0});
    } else if (all_integral) {
      const std::optional<int64_t> i = ExactInteger(v);
      if (!i) {
        return InvalidInput("{}: field \"values\": {} is outside the range of a 64-bit integer",
                            where, v.dump());
      }
      out.emplace_back(*i);
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
  if (p.kind == ParamKind::kPermutation || p.kind == ParamKind::kSequence) {
    return InvalidInput("{}: {} parameters take no prior", at, ParamKindName(p.kind));
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

// The encoding has one column per position and one per alphabet item (see encoding.h), so both
// are bounded to keep models of the space affordable.
constexpr int64_t kMaxSequenceLength = 1024;
constexpr size_t kMaxAlphabet = 4096;

Expected<void> ParseSequenceFields(const nlohmann::json& j, const std::string& where,
                                   Parameter& p) {
  if (!j.contains("alphabet")) return InvalidInput("{}: missing field \"alphabet\"", where);
  const auto& alphabet = j.at("alphabet");
  if (!alphabet.is_array() || alphabet.empty()) {
    return InvalidInput("{}: field \"alphabet\": expected a non-empty array of names, got {}",
                        where, alphabet.dump());
  }
  if (alphabet.size() > kMaxAlphabet) {
    return InvalidInput("{}: field \"alphabet\" has {} names, more than the {} supported", where,
                        alphabet.size(), kMaxAlphabet);
  }
  std::set<std::string> names;
  for (const auto& a : alphabet) {
    if (!a.is_string() || a.get<std::string>().empty()) {
      return InvalidInput("{}: field \"alphabet\": {} is not a non-empty string", where, a.dump());
    }
    if (!names.insert(a.get<std::string>()).second) {
      return InvalidInput("{}: field \"alphabet\": {} appears twice", where, a.dump());
    }
    p.values.emplace_back(a.get<std::string>());
  }
  auto max_length = IntegerField(j, where, "max_length");
  if (!max_length.ok()) return max_length.error();
  if (*max_length < 1 || *max_length > kMaxSequenceLength) {
    return InvalidInput("{}: field \"max_length\" must be between 1 and {}, got {}", where,
                        kMaxSequenceLength, *max_length);
  }
  p.size = static_cast<int>(*max_length);
  if (j.contains("min_length")) {
    auto min_length = IntegerField(j, where, "min_length");
    if (!min_length.ok()) return min_length.error();
    if (*min_length < 0 || *min_length > p.size) {
      return InvalidInput(
          "{}: field \"min_length\" must be between 0 and \"max_length\" ({}), got {}", where,
          p.size, *min_length);
    }
    p.min_length = static_cast<int>(*min_length);
  }
  return Ok();
}

// A sequence's default is a list of alphabet names (as ToJson writes it); the {"sequence": [...]}
// form of ValueToJson is read too.
Expected<void> ParseSequenceDefault(const nlohmann::json& d, const std::string& where,
                                    Parameter& p) {
  const std::string at = where + ": field \"default\"";
  if (d.is_array()) {
    std::vector<std::string> names;
    for (const auto& e : d) {
      if (!e.is_string()) {
        return InvalidInput("{}: expected a list of names from \"alphabet\", got {}", at, d.dump());
      }
      names.push_back(e.get<std::string>());
    }
    auto s = NamesToSequence(p, names);
    if (!s.ok()) return s.error().WithContext(at);
    p.default_value = Value(std::move(*s));
    return Ok();
  }
  auto v = ValueFromJson(d);
  if (!v.ok() || !std::holds_alternative<Sequence>(*v)) {
    return InvalidInput("{}: expected a list of names from \"alphabet\", got {}", at, d.dump());
  }
  if (!p.Check(*v).ok()) {
    return InvalidInput("{}: {} is not in the parameter's domain", at, d.dump());
  }
  p.default_value = std::move(*v);
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
        "permutation, sequence",
        where);
  }
  const auto type = j.at("type").get<std::string>();
  std::set<std::string> allowed = {"name", "type", "default", "prior", "active_if"};
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
  } else if (type == "sequence") {
    p.kind = ParamKind::kSequence;
    allowed.insert({"alphabet", "max_length", "min_length"});
  } else {
    return InvalidInput(
        "{}: field \"type\": unknown type \"{}\" (expected integer, real, ordinal, "
        "categorical, permutation or sequence)",
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
    case ParamKind::kSequence:
      SYSOPT_RETURN_IF_ERROR(ParseSequenceFields(j, where, p));
      break;
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
  if (j.contains("default") && p.kind == ParamKind::kSequence) {
    SYSOPT_RETURN_IF_ERROR(ParseSequenceDefault(j.at("default"), where, p));
  } else if (j.contains("default")) {
    auto v = ValueFromJson(j.at("default"));
    if (!v.ok()) return v.error().WithContext(where + ": field \"default\"");
    // Integers written as 8.0 and reals written as 1 are normalised to the parameter's kind.
    if (p.kind == ParamKind::kReal && IsNumeric(*v)) *v = AsDouble(*v);
    if (p.kind == ParamKind::kInteger && std::holds_alternative<double>(*v)) {
      if (auto i = IntegralDouble(std::get<double>(*v))) *v = *i;
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
  if (j.contains("active_if")) {
    // The expression itself is parsed and checked against the other parameters by the space.
    const auto& c = j.at("active_if");
    if (!c.is_string() || c.get<std::string>().find_first_not_of(" \t\n\r") == std::string::npos) {
      return InvalidInput(
          "{}: field \"active_if\": expected a condition such as \"solver == "
          "'gmres'\", got {}",
          where, c.dump());
    }
    p.active_if = c.get<std::string>();
  }
  return p;
}

}  // namespace sysopt
