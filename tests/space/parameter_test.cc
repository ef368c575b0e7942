#include "sysopt/space/parameter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "space/parse_util.h"

namespace sysopt {
namespace {

using nlohmann::json;

using space_testing::Contains;
using space_testing::ErrorOf;
using space_testing::Make;

Permutation P(std::vector<int> order) { return Permutation{std::move(order)}; }

// ---------------------------------------------------------------- cardinality and ranking

TEST(ParameterTest, CardinalityOfEveryKind) {
  EXPECT_EQ(Make({{"name", "i"}, {"type", "integer"}, {"low", 0}, {"high", 10}}).Cardinality(),
            11u);
  // 2, 5, 8, 11, 14, 17, 20.
  EXPECT_EQ(Make({{"name", "i"}, {"type", "integer"}, {"low", 2}, {"high", 20}, {"step", 3}})
                .Cardinality(),
            7u);
  // 2, 5, 8, 11, 14, 17: the upper bound 19 is off the grid.
  EXPECT_EQ(Make({{"name", "i"}, {"type", "integer"}, {"low", 2}, {"high", 19}, {"step", 3}})
                .Cardinality(),
            6u);
  EXPECT_EQ(Make({{"name", "i"}, {"type", "integer"}, {"low", -5}, {"high", -5}}).Cardinality(),
            1u);
  EXPECT_EQ(Make({{"name", "r"}, {"type", "real"}, {"low", 0}, {"high", 1}}).Cardinality(), 0u);
  EXPECT_EQ(Make({{"name", "o"}, {"type", "ordinal"}, {"values", {1, 2, 4}}}).Cardinality(), 3u);
  EXPECT_EQ(Make({{"name", "c"}, {"type", "categorical"}, {"values", {"a", "b"}}}).Cardinality(),
            2u);
  EXPECT_EQ(Make({{"name", "p"}, {"type", "permutation"}, {"size", 1}}).Cardinality(), 1u);
  EXPECT_EQ(Make({{"name", "p"}, {"type", "permutation"}, {"size", 4}}).Cardinality(), 24u);
  EXPECT_EQ(Make({{"name", "p"}, {"type", "permutation"}, {"size", 20}}).Cardinality(),
            2432902008176640000ull);
  // 21! does not fit in 64 bits: saturates.
  EXPECT_EQ(Make({{"name", "p"}, {"type", "permutation"}, {"size", 21}}).Cardinality(),
            std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(Make({{"name", "r"}, {"type", "real"}, {"low", 0}, {"high", 1}}).IsDiscrete());
  EXPECT_TRUE(Make({{"name", "p"}, {"type", "permutation"}, {"size", 2}}).IsDiscrete());
}

TEST(ParameterTest, IntegerValueAtAndIndexOfRoundTrip) {
  const Parameter p =
      Make({{"name", "i"}, {"type", "integer"}, {"low", -4}, {"high", 20}, {"step", 3}});
  const std::vector<int64_t> expected = {-4, -1, 2, 5, 8, 11, 14, 17, 20};
  ASSERT_EQ(p.Cardinality(), expected.size());
  for (uint64_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(p.ValueAt(k), Value(expected[k]));
    EXPECT_EQ(p.IndexOf(Value(expected[k])), k);
    // A real holding the same integer is the same value.
    EXPECT_EQ(p.IndexOf(Value(static_cast<double>(expected[k]))), k);
  }
  EXPECT_FALSE(p.IndexOf(Value(int64_t{0})).has_value());   // off the grid
  EXPECT_FALSE(p.IndexOf(Value(int64_t{-7})).has_value());  // below
  EXPECT_FALSE(p.IndexOf(Value(int64_t{23})).has_value());  // above
  EXPECT_FALSE(p.IndexOf(Value(2.5)).has_value());
  EXPECT_FALSE(p.IndexOf(Value(std::string("2"))).has_value());
}

TEST(ParameterTest, ChoiceValueAtAndIndexOfRoundTrip) {
  const Parameter o = Make({{"name", "o"}, {"type", "ordinal"}, {"values", {8, 1, 64}}});
  EXPECT_EQ(o.ValueAt(0), Value(int64_t{8}));
  EXPECT_EQ(o.ValueAt(2), Value(int64_t{64}));
  EXPECT_EQ(o.IndexOf(Value(int64_t{1})), 1u);
  EXPECT_EQ(o.IndexOf(Value(64.0)), 2u);  // 64.0 matches the choice 64
  EXPECT_FALSE(o.IndexOf(Value(int64_t{2})).has_value());
  const Parameter c = Make({{"name", "c"}, {"type", "categorical"}, {"values", {"x", "y", "z"}}});
  for (uint64_t k = 0; k < 3; ++k) EXPECT_EQ(c.IndexOf(c.ValueAt(k)), k);
  EXPECT_EQ(c.ValueAt(1), Value(std::string("y")));
  EXPECT_FALSE(c.IndexOf(Value(std::string("w"))).has_value());
  EXPECT_FALSE(c.IndexOf(Value(int64_t{0})).has_value());
  const Parameter r = Make({{"name", "r"}, {"type", "ordinal"}, {"values", {0.5, 1.5, 2}}});
  EXPECT_EQ(r.ValueAt(0), Value(0.5));
  EXPECT_EQ(r.ValueAt(2), Value(2.0));
  EXPECT_EQ(r.IndexOf(Value(int64_t{2})), 2u);
}

TEST(ParameterTest, PermutationRanksAreLexicographic) {
  const Parameter p3 = Make({{"name", "p"}, {"type", "permutation"}, {"size", 3}});
  EXPECT_EQ(p3.IndexOf(P({0, 1, 2})), 0u);
  EXPECT_EQ(p3.IndexOf(P({0, 2, 1})), 1u);
  EXPECT_EQ(p3.IndexOf(P({1, 0, 2})), 2u);
  EXPECT_EQ(p3.IndexOf(P({2, 1, 0})), 5u);
  EXPECT_EQ(p3.ValueAt(0), Value(P({0, 1, 2})));
  EXPECT_EQ(p3.ValueAt(5), Value(P({2, 1, 0})));
  // Every rank of a size-5 permutation against std::next_permutation's lexicographic order.
  const Parameter p5 = Make({{"name", "p"}, {"type", "permutation"}, {"size", 5}});
  std::vector<int> order = {0, 1, 2, 3, 4};
  uint64_t k = 0;
  do {
    EXPECT_EQ(p5.ValueAt(k), Value(P(order))) << k;
    EXPECT_EQ(p5.IndexOf(P(order)), k);
    ++k;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(k, 120u);
  EXPECT_FALSE(p3.IndexOf(P({0, 1})).has_value());
  EXPECT_FALSE(p3.IndexOf(P({0, 1, 1})).has_value());
  EXPECT_FALSE(p3.IndexOf(P({0, 1, 3})).has_value());
  EXPECT_FALSE(p3.IndexOf(Value(int64_t{0})).has_value());
  // The last rank of the largest rankable size: the reversed order.
  const Parameter p20 = Make({{"name", "p"}, {"type", "permutation"}, {"size", 20}});
  std::vector<int> reversed(20);
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  EXPECT_EQ(p20.IndexOf(P(reversed)), 2432902008176640000ull - 1);
  EXPECT_EQ(p20.ValueAt(2432902008176640000ull - 1), Value(P(reversed)));
}

// ---------------------------------------------------------------- sampling

TEST(ParameterTest, SamplesStayInTheDomain) {
  const std::vector<json> specs = {
      {{"name", "i"}, {"type", "integer"}, {"low", -3}, {"high", 30}, {"step", 4}},
      {{"name", "l"}, {"type", "integer"}, {"low", 1}, {"high", 1000}, {"log", true}},
      {{"name", "ls"}, {"type", "integer"}, {"low", 2}, {"high", 200}, {"step", 6}, {"log", true}},
      {{"name", "r"}, {"type", "real"}, {"low", -1.5}, {"high", 2.5}},
      {{"name", "rl"}, {"type", "real"}, {"low", 1e-4}, {"high", 1e-1}, {"log", true}},
      {{"name", "o"}, {"type", "ordinal"}, {"values", {1, 2, 4, 8}}},
      {{"name", "c"}, {"type", "categorical"}, {"values", {"a", "b", "c"}}},
      {{"name", "p"}, {"type", "permutation"}, {"size", 6}},
      {{"name", "q"}, {"type", "permutation"}, {"size", 30}},
  };
  Rng rng(7);
  for (const auto& spec : specs) {
    const Parameter p = Make(spec);
    for (int t = 0; t < 500; ++t) {
      const Value v = p.Sample(rng);
      EXPECT_TRUE(p.Check(v).ok()) << spec.dump() << " " << ValueToString(v);
      if (p.kind == ParamKind::kInteger) {
        EXPECT_TRUE(std::holds_alternative<int64_t>(v));
      }
      if (p.kind == ParamKind::kReal) {
        EXPECT_TRUE(std::holds_alternative<double>(v));
      }
      const double u = t / 500.0;
      EXPECT_TRUE(p.Check(p.FromUnit(u)).ok()) << spec.dump() << " u=" << u;
    }
  }
}

TEST(ParameterTest, IntegerSamplingIsUniform) {
  const Parameter p = Make({{"name", "i"}, {"type", "integer"}, {"low", 10}, {"high", 19}});
  Rng rng(11);
  std::map<int64_t, int> counts;
  const int n = 20000;
  for (int t = 0; t < n; ++t) ++counts[std::get<int64_t>(p.Sample(rng))];
  ASSERT_EQ(counts.size(), 10u);
  double chi2 = 0;
  for (const auto& [v, c] : counts) chi2 += (c - n / 10.0) * (c - n / 10.0) / (n / 10.0);
  EXPECT_LT(chi2, 27.88);  // chi-square 0.999 quantile, 9 degrees of freedom
}

TEST(ParameterTest, LogRealSamplingIsLogUniform) {
  const Parameter p =
      Make({{"name", "r"}, {"type", "real"}, {"low", 1}, {"high", 10000}, {"log", true}});
  Rng rng(3);
  const int n = 20000;
  int below_geometric_mean = 0, below_10 = 0, below_1000 = 0;
  for (int t = 0; t < n; ++t) {
    const double v = std::get<double>(p.Sample(rng));
    below_geometric_mean += v < 100;
    below_10 += v < 10;
    below_1000 += v < 1000;
  }
  // Log-uniform: each decade holds a quarter of the mass (a uniform draw would give ~1%
  // below 100).
  EXPECT_NEAR(below_geometric_mean / static_cast<double>(n), 0.5, 0.02);
  EXPECT_NEAR(below_10 / static_cast<double>(n), 0.25, 0.02);
  EXPECT_NEAR(below_1000 / static_cast<double>(n), 0.75, 0.02);
}

TEST(ParameterTest, LogIntegerSamplingIsLogUniform) {
  const Parameter p =
      Make({{"name", "i"}, {"type", "integer"}, {"low", 1}, {"high", 1024}, {"log", true}});
  Rng rng(5);
  const int n = 20000;
  int at_most_32 = 0, at_most_4 = 0;
  for (int t = 0; t < n; ++t) {
    const int64_t v = std::get<int64_t>(p.Sample(rng));
    at_most_32 += v <= 32;
    at_most_4 += v <= 4;
  }
  // Rounded to the nearest integer: P(v <= 32) = ln(32.5) / ln(1024) ~ 0.502,
  // P(v <= 4) = ln(4.5) / ln(1024) ~ 0.217.
  EXPECT_NEAR(at_most_32 / static_cast<double>(n), std::log(32.5) / std::log(1024.0), 0.02);
  EXPECT_NEAR(at_most_4 / static_cast<double>(n), std::log(4.5) / std::log(1024.0), 0.02);
}

TEST(ParameterTest, PermutationSamplingCoversAllOrdersEvenly) {
  const Parameter p = Make({{"name", "p"}, {"type", "permutation"}, {"size", 3}});
  Rng rng(9);
  std::map<std::vector<int>, int> counts;
  const int n = 12000;
  for (int t = 0; t < n; ++t) ++counts[std::get<Permutation>(p.Sample(rng)).order];
  ASSERT_EQ(counts.size(), 6u);
  for (const auto& [order, c] : counts) EXPECT_NEAR(c, n / 6.0, 150);
}

TEST(ParameterTest, FromUnitCoversEveryValueEvenly) {
  const std::vector<json> specs = {
      {{"name", "i"}, {"type", "integer"}, {"low", 3}, {"high", 12}},
      {{"name", "s"}, {"type", "integer"}, {"low", 0}, {"high", 9}, {"step", 2}},
      {{"name", "o"}, {"type", "ordinal"}, {"values", {1, 2, 4, 8, 16}}},
      {{"name", "c"}, {"type", "categorical"}, {"values", {"a", "b", "c", "d"}}},
      {{"name", "p"}, {"type", "permutation"}, {"size", 3}},
  };
  for (const auto& spec : specs) {
    const Parameter p = Make(spec);
    const uint64_t card = p.Cardinality();
    const int per_value = 50;
    const int n = static_cast<int>(card) * per_value;
    std::map<uint64_t, int> counts;
    for (int t = 0; t < n; ++t) {
      // Midpoints of n equal cells of [0, 1).
      const auto k = p.IndexOf(p.FromUnit((t + 0.5) / n));
      ASSERT_TRUE(k.has_value()) << spec.dump();
      ++counts[*k];
    }
    ASSERT_EQ(counts.size(), card) << spec.dump();
    for (const auto& [k, c] : counts) EXPECT_EQ(c, per_value) << spec.dump() << " value " << k;
    // u = 0 gives the first value, u = 1 (clamped) the last.
    EXPECT_EQ(p.IndexOf(p.FromUnit(0.0)), 0u);
    EXPECT_EQ(p.IndexOf(p.FromUnit(1.0)), card - 1);
  }
}

TEST(ParameterTest, FromUnitOfARealIsMonotoneAndLogScaled) {
  const Parameter lin = Make({{"name", "r"}, {"type", "real"}, {"low", 2}, {"high", 6}});
  EXPECT_DOUBLE_EQ(std::get<double>(lin.FromUnit(0.25)), 3.0);
  const Parameter lg =
      Make({{"name", "r"}, {"type", "real"}, {"low", 1}, {"high", 100}, {"log", true}});
  EXPECT_NEAR(std::get<double>(lg.FromUnit(0.5)), 10.0, 1e-9);
  EXPECT_NEAR(std::get<double>(lg.FromUnit(0.0)), 1.0, 1e-12);
}

// ---------------------------------------------------------------- neighbours

std::set<std::string> NeighborSet(const Parameter& p, const Value& v, uint64_t seed = 1) {
  Rng rng(seed);
  std::set<std::string> out;
  for (const auto& n : p.Neighbors(v, rng)) out.insert(ValueToString(n));
  return out;
}

TEST(ParameterTest, IntegerNeighborsAreOneStepAway) {
  const Parameter p = Make({{"name", "i"}, {"type", "integer"}, {"low", 0}, {"high", 10}});
  EXPECT_EQ(NeighborSet(p, Value(int64_t{0})), (std::set<std::string>{"1"}));
  EXPECT_EQ(NeighborSet(p, Value(int64_t{10})), (std::set<std::string>{"9"}));
  EXPECT_EQ(NeighborSet(p, Value(int64_t{5})), (std::set<std::string>{"4", "6"}));
  const Parameter s =
      Make({{"name", "s"}, {"type", "integer"}, {"low", 1}, {"high", 21}, {"step", 4}});
  EXPECT_EQ(NeighborSet(s, Value(int64_t{1})), (std::set<std::string>{"5"}));
  EXPECT_EQ(NeighborSet(s, Value(int64_t{9})), (std::set<std::string>{"5", "13"}));
  EXPECT_EQ(NeighborSet(s, Value(int64_t{21})), (std::set<std::string>{"17"}));
  const Parameter one = Make({{"name", "i"}, {"type", "integer"}, {"low", 4}, {"high", 4}});
  EXPECT_TRUE(NeighborSet(one, Value(int64_t{4})).empty());
}

TEST(ParameterTest, WideIntegerNeighborsIncludeStepsAndStayInDomain) {
  const Parameter p = Make({{"name", "i"}, {"type", "integer"}, {"low", 0}, {"high", 1000}});
  Rng rng(17);
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{500}, int64_t{1000}}) {
    const auto ns = p.Neighbors(Value(v), rng);
    std::set<int64_t> seen;
    for (const auto& n : ns) {
      const int64_t w = std::get<int64_t>(n);
      EXPECT_NE(w, v);
      EXPECT_TRUE(p.Check(n).ok());
      EXPECT_TRUE(seen.insert(w).second) << "duplicate neighbour " << w;
    }
    if (v > 0) {
      EXPECT_TRUE(seen.count(v - 1));
    }
    if (v < 1000) {
      EXPECT_TRUE(seen.count(v + 1));
    }
  }
}

TEST(ParameterTest, ChoiceNeighbors) {
  const Parameter o =
      Make({{"name", "o"}, {"type", "ordinal"}, {"values", {"lo", "mid", "hi", "max"}}});
  EXPECT_EQ(NeighborSet(o, Value(std::string("lo"))), (std::set<std::string>{"mid"}));
  EXPECT_EQ(NeighborSet(o, Value(std::string("hi"))), (std::set<std::string>{"mid", "max"}));
  EXPECT_EQ(NeighborSet(o, Value(std::string("max"))), (std::set<std::string>{"hi"}));
  const Parameter c =
      Make({{"name", "c"}, {"type", "categorical"}, {"values", {"x", "y", "z", "w"}}});
  EXPECT_EQ(NeighborSet(c, Value(std::string("y"))), (std::set<std::string>{"x", "z", "w"}));
}

TEST(ParameterTest, PermutationNeighborsIncludeEveryAdjacentSwap) {
  const Parameter p3 = Make({{"name", "p"}, {"type", "permutation"}, {"size", 3}});
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    // Size 3: adjacent swaps, plus possibly the swap of the two ends and a rotation.
    const auto ns = NeighborSet(p3, Value(P({0, 1, 2})), seed);
    EXPECT_TRUE(ns.count("1,0,2"));
    EXPECT_TRUE(ns.count("0,2,1"));
    EXPECT_FALSE(ns.count("0,1,2"));
  }
  const Parameter p5 = Make({{"name", "p"}, {"type", "permutation"}, {"size", 5}});
  const Permutation start = P({3, 0, 4, 1, 2});
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed);
    const auto ns = p5.Neighbors(Value(start), rng);
    std::set<std::string> seen;
    for (const auto& n : ns) {
      EXPECT_TRUE(p5.Check(n).ok());
      EXPECT_NE(n, Value(start));
      EXPECT_TRUE(seen.insert(ValueToString(n)).second) << "duplicate " << ValueToString(n);
    }
    for (const char* swap : {"0,3,4,1,2", "3,4,0,1,2", "3,0,1,4,2", "3,0,4,2,1"}) {
      EXPECT_TRUE(seen.count(swap)) << swap;
    }
  }
  const Parameter p1 = Make({{"name", "p"}, {"type", "permutation"}, {"size", 1}});
  EXPECT_TRUE(NeighborSet(p1, Value(P({0}))).empty());
}

TEST(ParameterTest, RealNeighborsStayInRangeAndMove) {
  const Parameter r = Make({{"name", "r"}, {"type", "real"}, {"low", 0}, {"high", 1}});
  Rng rng(4);
  for (double v : {0.0, 0.3, 1.0}) {
    const auto ns = r.Neighbors(Value(v), rng);
    EXPECT_FALSE(ns.empty());
    for (const auto& n : ns) {
      EXPECT_TRUE(r.Check(n).ok());
      EXPECT_NE(std::get<double>(n), v);
    }
  }
}

// ---------------------------------------------------------------- encoding

TEST(ParameterTest, EncodeLayout) {
  double out[4] = {-1, -1, -1, -1};
  const Parameter i = Make({{"name", "i"}, {"type", "integer"}, {"low", 0}, {"high", 10}});
  EXPECT_EQ(i.EncodedWidth(), 1);
  i.Encode(Value(int64_t{5}), out);
  EXPECT_DOUBLE_EQ(out[0], 0.5);
  i.Encode(Value(int64_t{10}), out);
  EXPECT_DOUBLE_EQ(out[0], 1.0);
  i.Encode(Value(int64_t{0}), out);
  EXPECT_DOUBLE_EQ(out[0], 0.0);
  const Parameter r = Make({{"name", "r"}, {"type", "real"}, {"low", -1}, {"high", 3}});
  r.Encode(Value(0.0), out);
  EXPECT_DOUBLE_EQ(out[0], 0.25);
  const Parameter lg =
      Make({{"name", "r"}, {"type", "real"}, {"low", 1}, {"high", 100}, {"log", true}});
  lg.Encode(Value(10.0), out);
  EXPECT_NEAR(out[0], 0.5, 1e-12);
  const Parameter li =
      Make({{"name", "i"}, {"type", "integer"}, {"low", 1}, {"high", 1024}, {"log", true}});
  li.Encode(Value(int64_t{32}), out);
  EXPECT_NEAR(out[0], 0.5, 1e-12);
  const Parameter o = Make({{"name", "o"}, {"type", "ordinal"}, {"values", {1, 2, 4, 8, 16}}});
  o.Encode(Value(int64_t{4}), out);
  EXPECT_DOUBLE_EQ(out[0], 0.5);
  o.Encode(Value(int64_t{16}), out);
  EXPECT_DOUBLE_EQ(out[0], 1.0);
  const Parameter c = Make({{"name", "c"}, {"type", "categorical"}, {"values", {"a", "b", "c"}}});
  c.Encode(Value(std::string("c")), out);
  EXPECT_DOUBLE_EQ(out[0], 2.0);  // the choice index, unscaled
  const Parameter p = Make({{"name", "p"}, {"type", "permutation"}, {"size", 4}});
  EXPECT_EQ(p.EncodedWidth(), 4);
  p.Encode(Value(P({2, 0, 3, 1})), out);
  EXPECT_DOUBLE_EQ(out[0], 2);
  EXPECT_DOUBLE_EQ(out[1], 0);
  EXPECT_DOUBLE_EQ(out[2], 3);
  EXPECT_DOUBLE_EQ(out[3], 1);
}

// ---------------------------------------------------------------- defaults and JSON

TEST(ParameterTest, Defaults) {
  EXPECT_EQ(Make({{"name", "i"}, {"type", "integer"}, {"low", 3}, {"high", 9}}).Default(),
            Value(int64_t{3}));
  EXPECT_EQ(Make({{"name", "r"}, {"type", "real"}, {"low", 0.5}, {"high", 9}}).Default(),
            Value(0.5));
  EXPECT_EQ(Make({{"name", "c"}, {"type", "categorical"}, {"values", {"b", "a"}}}).Default(),
            Value(std::string("b")));
  EXPECT_EQ(Make({{"name", "p"}, {"type", "permutation"}, {"size", 3}}).Default(),
            Value(P({0, 1, 2})));
  // The user's default, normalised to the parameter's kind.
  const Parameter i =
      Make({{"name", "i"}, {"type", "integer"}, {"low", 0}, {"high", 9}, {"default", 4.0}});
  EXPECT_EQ(i.Default(), Value(int64_t{4}));
  const Parameter r =
      Make({{"name", "r"}, {"type", "real"}, {"low", 0}, {"high", 9}, {"default", 2}});
  EXPECT_EQ(r.Default(), Value(2.0));
  const Parameter o =
      Make({{"name", "o"}, {"type", "ordinal"}, {"values", {1, 2, 4}}, {"default", 4.0}});
  EXPECT_EQ(o.Default(), Value(int64_t{4}));
  const Parameter p =
      Make({{"name", "p"}, {"type", "permutation"}, {"size", 3}, {"default", {2, 0, 1}}});
  EXPECT_EQ(p.Default(), Value(P({2, 0, 1})));
}

TEST(ParameterTest, ToJsonRoundTrips) {
  const std::vector<json> specs = {
      {{"name", "i"}, {"type", "integer"}, {"low", -3}, {"high", 30}, {"step", 4}, {"default", 1}},
      {{"name", "l"}, {"type", "integer"}, {"low", 1}, {"high", 1000}, {"log", true}},
      {{"name", "r"}, {"type", "real"}, {"low", -1.5}, {"high", 2.5}, {"default", 0.25}},
      {{"name", "rl"}, {"type", "real"}, {"low", 1e-4}, {"high", 1e-1}, {"log", true}},
      {{"name", "o"}, {"type", "ordinal"}, {"values", {1, 2, 4, 8}}, {"default", 8}},
      {{"name", "f"}, {"type", "ordinal"}, {"values", {0.5, 1.5}}},
      {{"name", "c"}, {"type", "categorical"}, {"values", {"a", "b", "c"}}, {"default", "b"}},
      {{"name", "p"}, {"type", "permutation"}, {"size", 6}, {"default", {5, 4, 3, 2, 1, 0}}},
  };
  for (const auto& spec : specs) {
    const Parameter p = Make(spec);
    const Parameter q = Make(p.ToJson());
    EXPECT_EQ(q.ToJson(), p.ToJson()) << spec.dump();
    EXPECT_EQ(q.name, p.name);
    EXPECT_EQ(q.kind, p.kind);
    EXPECT_EQ(q.low, p.low);
    EXPECT_EQ(q.high, p.high);
    EXPECT_EQ(q.step, p.step);
    EXPECT_EQ(q.log, p.log);
    EXPECT_EQ(q.values, p.values);
    EXPECT_EQ(q.size, p.size);
    EXPECT_EQ(q.default_value, p.default_value);
  }
}

// ---------------------------------------------------------------- errors

TEST(ParameterTest, ErrorsNameTheFieldAndValue) {
  std::string m = ErrorOf({{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 5}, {"lo", 1}});
  EXPECT_TRUE(Contains(m, "\"lo\"")) << m;
  EXPECT_TRUE(Contains(m, "x")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "integer"}, {"low", "zero"}, {"high", 5}});
  EXPECT_TRUE(Contains(m, "\"low\"")) << m;
  EXPECT_TRUE(Contains(m, "\"zero\"")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 2.5}});
  EXPECT_TRUE(Contains(m, "\"high\"")) << m;
  EXPECT_TRUE(Contains(m, "2.5")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "real"}, {"low", 5}, {"high", 1}});
  EXPECT_TRUE(Contains(m, "low")) << m;
  EXPECT_TRUE(Contains(m, "high")) << m;
  EXPECT_TRUE(Contains(m, "5")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "integer"}, {"low", 7}, {"high", 3}});
  EXPECT_TRUE(Contains(m, "empty range")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "real"}, {"low", 0}, {"high", 1}, {"log", true}});
  EXPECT_TRUE(Contains(m, "log")) << m;
  EXPECT_TRUE(Contains(m, "\"low\"")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "integer"}, {"low", -2}, {"high", 1}, {"log", true}});
  EXPECT_TRUE(Contains(m, "-2")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "real"}, {"low", 1}, {"high", 2}, {"log", "yes"}});
  EXPECT_TRUE(Contains(m, "\"log\"")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "ordinal"}, {"values", {1, 2, 1}}});
  EXPECT_TRUE(Contains(m, "\"values\"")) << m;
  EXPECT_TRUE(Contains(m, "1 appears twice")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "categorical"}, {"values", {"a", "b", "a"}}});
  EXPECT_TRUE(Contains(m, "\"a\" appears twice")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "categorical"}, {"values", {1, "a"}}});
  EXPECT_TRUE(Contains(m, "\"values\"")) << m;
  EXPECT_TRUE(Contains(m, "mixes")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "categorical"}, {"values", json::array()}});
  EXPECT_TRUE(Contains(m, "\"values\"")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 10}, {"default", 11}});
  EXPECT_TRUE(Contains(m, "\"default\"")) << m;
  EXPECT_TRUE(Contains(m, "11")) << m;

  m = ErrorOf(
      {{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 10}, {"step", 2}, {"default", 3}});
  EXPECT_TRUE(Contains(m, "\"default\"")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "categorical"}, {"values", {"a"}}, {"default", "b"}});
  EXPECT_TRUE(Contains(m, "\"default\"")) << m;
  EXPECT_TRUE(Contains(m, "\"b\"")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "permutation"}, {"size", 3}, {"default", {0, 0, 1}}});
  EXPECT_TRUE(Contains(m, "\"default\"")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "vector"}});
  EXPECT_TRUE(Contains(m, "\"type\"")) << m;
  EXPECT_TRUE(Contains(m, "vector")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 10}, {"step", 0}});
  EXPECT_TRUE(Contains(m, "\"step\"")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "permutation"}, {"size", 0}});
  EXPECT_TRUE(Contains(m, "\"size\"")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "integer"}, {"high", 10}});
  EXPECT_TRUE(Contains(m, "\"low\"")) << m;

  m = ErrorOf({{"type", "integer"}, {"low", 0}, {"high", 1}});
  EXPECT_TRUE(Contains(m, "\"name\"")) << m;

  m = ErrorOf(json::array({1, 2}));
  EXPECT_TRUE(Contains(m, "object")) << m;
}

TEST(ParameterTest, IntegralValuesBeyondInt64AreRefusedNotWrapped) {
  // 1e30 used to become -9223372036854775808, and [1e30, 1e31] a duplicate.
  std::string m = ErrorOf(json::parse(R"({"name": "x", "type": "ordinal", "values": [1e30, 2]})"));
  EXPECT_EQ(m,
            "parameters[3] (\"x\"): field \"values\": 1e+30 is outside the range of a 64-bit "
            "integer");
  m = ErrorOf(json::parse(R"({"name": "x", "type": "ordinal", "values": [1e30, 1e31]})"));
  EXPECT_TRUE(Contains(m, "1e+30 is outside the range")) << m;
  m = ErrorOf(
      json::parse(R"({"name": "x", "type": "categorical", "values": [18446744073709551615, 1]})"));
  EXPECT_TRUE(Contains(m, "18446744073709551615 is outside the range")) << m;
  // 2^63 is a double no int64 holds; 2^63 - 1024 and the int64 extremes are fine.
  m = ErrorOf(
      json::parse(R"({"name": "x", "type": "ordinal", "values": [9.223372036854775808e18]})"));
  EXPECT_TRUE(Contains(m, "outside the range")) << m;
  Parameter big = Make(json::parse(
      R"({"name": "x", "type": "ordinal", "values": [-9223372036854775808, 9223372036854775807,
          9.223372036854774784e18]})"));
  ASSERT_EQ(big.values.size(), 3u);
  EXPECT_EQ(big.values[0], Value(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(big.values[1], Value(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(big.values[2], Value(int64_t{9223372036854774784}));
  // Neighbouring integers beyond 2^53 share a double but are distinct values.
  Parameter near = Make(json::parse(
      R"({"name": "x", "type": "ordinal", "values": [9007199254740993, 9007199254740992],
          "default": 9007199254740993})"));
  ASSERT_EQ(near.values.size(), 2u);
  EXPECT_EQ(near.default_value, Value(int64_t{9007199254740993}));
  // Reals stay reals, however large.
  Parameter reals = Make(json::parse(R"({"name": "x", "type": "ordinal", "values": [1e30, 2.5]})"));
  EXPECT_EQ(reals.values[0], Value(1e30));
  // Defaults: out of range is refused, never converted.
  m = ErrorOf(json::parse(R"({"name": "x", "type": "integer", "low": 0, "high": 5,
                              "default": 1e30})"));
  EXPECT_TRUE(Contains(m, "\"default\"")) << m;
  EXPECT_TRUE(Contains(m, "1e+30")) << m;
  m = ErrorOf(json::parse(R"({"name": "x", "type": "integer", "low": 0, "high": 5,
                              "default": 18446744073709551615})"));
  EXPECT_TRUE(Contains(m, "18446744073709551615 is outside the range")) << m;
}

TEST(ParameterTest, ChoiceWithNulCharacterIsRefused) {
  const std::string m = ErrorOf(json::parse(R"({"name": "c", "type": "categorical",
                                                "values": ["a", "b\u0000c"]})"));
  EXPECT_EQ(m, "parameters[3] (\"c\"): field \"values\": \"b\\u0000c\" contains a NUL character");
}

TEST(ParameterTest, CheckNamesTheParameterAndValue) {
  const Parameter p = Make({{"name", "threads"}, {"type", "integer"}, {"low", 1}, {"high", 8}});
  EXPECT_TRUE(p.Check(Value(int64_t{8})).ok());
  auto bad = p.Check(Value(int64_t{9}));
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.error().message(), "threads")) << bad.error().message();
  EXPECT_TRUE(Contains(bad.error().message(), "9")) << bad.error().message();
  const Parameter r = Make({{"name", "alpha"}, {"type", "real"}, {"low", 0}, {"high", 1}});
  EXPECT_TRUE(r.Check(Value(int64_t{1})).ok());
  EXPECT_FALSE(r.Check(Value(1.5)).ok());
  EXPECT_FALSE(r.Check(Value(std::nan(""))).ok());
  EXPECT_FALSE(r.Check(Value(std::string("0.5"))).ok());
}

}  // namespace
}  // namespace sysopt
