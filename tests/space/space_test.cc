#include "sysopt/space/space.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sysopt {
namespace {

using nlohmann::json;

// A discrete test space described twice: as a spec for the code under test, and as explicit
// value lists plus a C++ predicate for an independent brute force.
struct Case {
  std::string label;
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> domains;
  std::vector<std::string> constraints;
  std::function<bool(const std::vector<int64_t>&)> feasible;
};

std::vector<int64_t> Range(int64_t low, int64_t high) {
  std::vector<int64_t> out;
  for (int64_t v = low; v <= high; ++v) out.push_back(v);
  return out;
}

// Contiguous domains become integer parameters, others ordinals.
Space Build(const Case& c) {
  std::vector<Parameter> params;
  for (size_t i = 0; i < c.names.size(); ++i) {
    const auto& d = c.domains[i];
    json j = {{"name", c.names[i]}};
    bool contiguous = true;
    for (size_t k = 1; k < d.size(); ++k) contiguous = contiguous && d[k] == d[k - 1] + 1;
    if (contiguous) {
      j["type"] = "integer";
      j["low"] = d.front();
      j["high"] = d.back();
    } else {
      j["type"] = "ordinal";
      j["values"] = d;
    }
    auto p = ParseParameter(j, "test");
    EXPECT_TRUE(p.ok());
    params.push_back(*p);
  }
  auto space = Space::Create(params, c.constraints);
  EXPECT_TRUE(space.ok()) << (space.ok() ? "" : space.error().message());
  return *space;
}

std::string Key(const std::vector<int64_t>& v) {
  std::string s;
  for (auto x : v) s += std::to_string(x) + ",";
  return s;
}

std::string Key(const Config& c) {
  std::string s;
  for (const auto& v : c) s += ValueToString(v) + ",";
  return s;
}

// Every feasible configuration, by brute force over the cartesian product.
std::set<std::string> BruteForce(const Case& c) {
  std::set<std::string> out;
  std::vector<size_t> idx(c.domains.size(), 0);
  std::vector<int64_t> values(c.domains.size());
  while (true) {
    for (size_t i = 0; i < idx.size(); ++i) values[i] = c.domains[i][idx[i]];
    if (c.feasible(values)) out.insert(Key(values));
    size_t i = 0;
    while (i < idx.size() && ++idx[i] == c.domains[i].size()) idx[i++] = 0;
    if (i == idx.size()) break;
  }
  return out;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  // CLTune's GEMM kernel restrictions, written the way T1 files write them.
  cases.push_back(Case{
      "gemm",
      {"MWG", "NWG", "KWG", "MDIMC", "NDIMC", "MDIMA", "NDIMB", "VWM", "VWN"},
      {{16, 32, 64, 128}, {16, 32, 64, 128}, {16, 32}, {8, 16, 32}, {8, 16, 32}, {8, 16, 32},
       {8, 16, 32}, {1, 2, 4, 8}, {1, 2, 4, 8}},
      {"KWG % ((MDIMC * NDIMC) // MDIMA) == 0", "KWG % ((MDIMC * NDIMC) // NDIMB) == 0",
       "MWG % (MDIMC * VWM) == 0", "NWG % (NDIMC * VWN) == 0", "MWG % (MDIMA * VWM) == 0",
       "NWG % (NDIMB * VWN) == 0"},
      [](const std::vector<int64_t>& v) {
        const int64_t mwg = v[0], nwg = v[1], kwg = v[2], mdimc = v[3], ndimc = v[4],
                      mdima = v[5], ndimb = v[6], vwm = v[7], vwn = v[8];
        return kwg % ((mdimc * ndimc) / mdima) == 0 && kwg % ((mdimc * ndimc) / ndimb) == 0 &&
               mwg % (mdimc * vwm) == 0 && nwg % (ndimc * vwn) == 0 &&
               mwg % (mdima * vwm) == 0 && nwg % (ndimb * vwn) == 0;
      }});
  cases.push_back(Case{"chained",
                       {"a", "b"},
                       {Range(1, 64), Range(1, 64)},
                       {"32 <= a * b <= 1024"},
                       [](const std::vector<int64_t>& v) {
                         return 32 <= v[0] * v[1] && v[0] * v[1] <= 1024;
                       }});
  cases.push_back(Case{"or",
                       {"a", "b", "c"},
                       {Range(1, 10), Range(1, 10), {1, 2, 4}},
                       {"a == 1 or b % 3 == 0"},
                       [](const std::vector<int64_t>& v) { return v[0] == 1 || v[1] % 3 == 0; }});
  cases.push_back(Case{"three-chain",
                       {"x", "y", "z", "w"},
                       {Range(1, 15), Range(1, 15), Range(1, 15), Range(0, 2)},
                       {"x < y", "y < z"},
                       [](const std::vector<int64_t>& v) { return v[0] < v[1] && v[1] < v[2]; }});
  cases.push_back(Case{"negative-floor",
                       {"a", "b"},
                       {Range(-6, 6), {1, 2, 3}},
                       {"a // b == -1 or a % b == 2"},
                       [](const std::vector<int64_t>& v) {
                         // Python's floor division and modulo, by hand.
                         const int64_t a = v[0], b = v[1];
                         int64_t q = a / b;
                         if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
                         const int64_t r = a - q * b;
                         return q == -1 || r == 2;
                       }});
  cases.push_back(Case{"empty",
                       {"a", "b"},
                       {Range(1, 10), Range(1, 10)},
                       {"a + b > 100"},
                       [](const std::vector<int64_t>& v) { return v[0] + v[1] > 100; }});
  return cases;
}

TEST(SpaceTest, FeasibleCountsMatchBruteForce) {
  for (const auto& c : Cases()) {
    const Space space = Build(c);
    const auto expected = BruteForce(c);
    const FeasibleCount count = space.CountFeasible();
    EXPECT_TRUE(count.finite) << c.label;
    EXPECT_TRUE(count.exact) << c.label;
    EXPECT_EQ(static_cast<uint64_t>(count.value), expected.size()) << c.label;
    EXPECT_EQ(count.ToString(), std::to_string(expected.size())) << c.label;
  }
}

TEST(SpaceTest, HandCountedSpaces) {
  // x < y < z over 1..15: C(15, 3) = 455, times 3 free values of w.
  EXPECT_EQ(static_cast<uint64_t>(Build(Cases()[3]).CountFeasible().value), 455u * 3);
  // a == 1 (10 values of b) or b in {3, 6, 9} (9 more values of a): 37, times 3 values of c.
  EXPECT_EQ(static_cast<uint64_t>(Build(Cases()[2]).CountFeasible().value), 37u * 3);
}

TEST(SpaceTest, FeasibleAtEnumeratesEveryFeasibleConfigurationOnce) {
  for (const auto& c : Cases()) {
    const Space space = Build(c);
    const auto expected = BruteForce(c);
    const auto total = static_cast<uint64_t>(space.CountFeasible().value);
    ASSERT_EQ(total, expected.size()) << c.label;
    std::set<std::string> seen;
    for (uint64_t r = 0; r < total; ++r) {
      const Config config = space.FeasibleAt(r);
      EXPECT_TRUE(space.Check(config).ok()) << c.label;
      EXPECT_TRUE(seen.insert(Key(config)).second) << c.label << " repeats " << Key(config);
    }
    EXPECT_EQ(seen, expected) << c.label;
  }
}

TEST(SpaceTest, UnconstrainedPermutationCountsAndEnumerates) {
  auto perm = ParseParameter({{"name", "order"}, {"type", "permutation"}, {"size", 4}}, "p");
  auto x = ParseParameter({{"name", "x"}, {"type", "integer"}, {"low", 1}, {"high", 10}}, "p");
  ASSERT_TRUE(perm.ok() && x.ok());
  auto space = Space::Create({*perm, *x}, {"x % 2 == 0"});
  ASSERT_TRUE(space.ok());
  // 4! orders times the 5 even values of x.
  EXPECT_EQ(static_cast<uint64_t>(space->CountFeasible().value), 120u);
  std::set<std::string> seen;
  for (uint64_t r = 0; r < 120; ++r) {
    const Config c = space->FeasibleAt(r);
    EXPECT_TRUE(space->Check(c).ok());
    EXPECT_EQ(std::get<int64_t>(c[1]) % 2, 0);
    seen.insert(Key(c));
  }
  EXPECT_EQ(seen.size(), 120u);
  Rng rng(1);
  std::map<std::string, int> orders;
  for (int t = 0; t < 2400; ++t) {
    auto c = space->Sample(rng);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(space->Check(*c).ok());
    ++orders[ValueToString((*c)[0])];
  }
  EXPECT_EQ(orders.size(), 24u);
}

TEST(SpaceTest, EmptySpaceRefusesToSample) {
  const Space space = Build(Cases()[5]);
  EXPECT_EQ(space.CountFeasible().value, 0);
  Rng rng(1);
  auto c = space.Sample(rng);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("no configuration"), std::string::npos) << c.error().message();
  // A constant false constraint empties the whole space too.
  auto a = ParseParameter({{"name", "a"}, {"type", "integer"}, {"low", 1}, {"high", 3}}, "p");
  auto b = ParseParameter({{"name", "b"}, {"type", "integer"}, {"low", 1}, {"high", 3}}, "p");
  auto constant = Space::Create({*a, *b}, {"1 > 2"});
  ASSERT_TRUE(constant.ok());
  EXPECT_EQ(constant->CountFeasible().value, 0);
  EXPECT_FALSE(constant->Sample(rng).ok());
}

// Wilson-Hilferty approximation of a chi-square quantile: accurate to a fraction of a percent
// for tens of degrees of freedom; z is the standard normal quantile.
double ChiSquareQuantile(double dof, double z) {
  const double a = 2.0 / (9.0 * dof);
  return dof * std::pow(1.0 - a + z * std::sqrt(a), 3);
}

TEST(SpaceTest, ChiSquareQuantileApproximationIsSane) {
  // Table values: chi2(0.999; 9) = 27.877, chi2(0.999; 19) = 43.820.
  EXPECT_NEAR(ChiSquareQuantile(9, 3.0902), 27.877, 0.3);
  EXPECT_NEAR(ChiSquareQuantile(19, 3.0902), 43.820, 0.3);
}

TEST(SpaceTest, SamplingIsUniformOverATinyFeasibleSet) {
  // 64,000 configurations, of which those with a + b + c >= 117 (deficits from 40 summing to at
  // most 3): 1 + 3 + 6 + 10 = 20.
  Case c{"tiny",
         {"a", "b", "c"},
         {Range(1, 40), Range(1, 40), Range(1, 40)},
         {"a + b + c >= 117"},
         [](const std::vector<int64_t>& v) { return v[0] + v[1] + v[2] >= 117; }};
  const auto feasible = BruteForce(c);
  ASSERT_EQ(feasible.size(), 20u);
  const Space space = Build(c);
  Rng rng(2024);
  std::map<std::string, int> counts;
  const int n = 20000;
  for (int t = 0; t < n; ++t) {
    auto config = space.Sample(rng);
    ASSERT_TRUE(config.ok());
    const std::string key = Key(*config);
    ASSERT_TRUE(feasible.count(key)) << "infeasible sample " << key;
    ++counts[key];
  }
  ASSERT_EQ(counts.size(), feasible.size());
  const double expected = n / static_cast<double>(feasible.size());
  double chi2 = 0;
  for (const auto& [key, observed] : counts) {
    chi2 += (observed - expected) * (observed - expected) / expected;
  }
  EXPECT_LT(chi2, ChiSquareQuantile(feasible.size() - 1, 3.0902));
}

TEST(SpaceTest, SamplesAreAlwaysFeasible) {
  for (const auto& c : Cases()) {
    if (c.label == "empty") continue;
    const Space space = Build(c);
    const auto feasible = BruteForce(c);
    Rng rng(99);
    for (int t = 0; t < 2000; ++t) {
      auto config = space.Sample(rng);
      ASSERT_TRUE(config.ok()) << c.label;
      EXPECT_TRUE(feasible.count(Key(*config))) << c.label << " " << Key(*config);
    }
  }
}

TEST(SpaceTest, LargeDiscreteSpaceCountsExactlyByComponents) {
  // 9 parameters of 100 values; only p0 and p1 are constrained.
  auto build = [](int n) {
    std::vector<Parameter> params;
    for (int i = 0; i < n; ++i) {
      auto p = ParseParameter(
          {{"name", "p" + std::to_string(i)}, {"type", "integer"}, {"low", 0}, {"high", 99}}, "p");
      params.push_back(*p);
    }
    return Space::Create(params, {"p0 * p1 <= 150"});
  };
  uint64_t pairs = 0;
  for (int a = 0; a < 100; ++a) {
    for (int b = 0; b < 100; ++b) pairs += a * b <= 150;
  }
  const auto start = std::chrono::steady_clock::now();
  auto nine = build(9);
  ASSERT_TRUE(nine.ok());
  const FeasibleCount count = nine->CountFeasible();
  EXPECT_TRUE(count.finite);
  EXPECT_TRUE(count.exact);
  uint64_t expected = pairs;
  for (int i = 0; i < 7; ++i) expected *= 100;
  EXPECT_EQ(static_cast<uint64_t>(count.value), expected);
  EXPECT_EQ(count.ToString(), std::to_string(expected));
  Rng rng(5);
  for (int t = 0; t < 1000; ++t) {
    auto c = nine->Sample(rng);
    ASSERT_TRUE(c.ok());
    EXPECT_LE(std::get<int64_t>((*c)[0]) * std::get<int64_t>((*c)[1]), 150);
  }
  // The last rank: p0 * p1 <= 150 is enumerated as one component, the free parameters each take
  // their largest value.
  const Config last = nine->FeasibleAt(expected - 1);
  EXPECT_TRUE(nine->Check(last).ok());
  for (int i = 2; i < 9; ++i) EXPECT_EQ(last[i], Value(int64_t{99}));
  // 12 parameters: the count (1e20 times the pairs) no longer fits 64 bits but is still the
  // exact product.
  auto twelve = build(12);
  ASSERT_TRUE(twelve.ok());
  const FeasibleCount big = twelve->CountFeasible();
  EXPECT_TRUE(big.finite);
  EXPECT_EQ(big.value, static_cast<long double>(pairs) * 1e20L);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 1.0);
}

TEST(SpaceTest, LinearConstraintOverHugeRangesIsSolvedNotEnumerated) {
  // Two integers over 0..19,999,999 with p0 + p1 < 10: 55 solutions. Enumerating the ranges used
  // to take gigabytes and tens of seconds, then call the set empty.
  auto build = [](std::vector<std::string> constraints, int n, int64_t high) {
    std::vector<Parameter> params;
    for (int i = 0; i < n; ++i) {
      params.push_back(*ParseParameter(
          {{"name", "p" + std::to_string(i)}, {"type", "integer"}, {"low", 0}, {"high", high}},
          "p"));
    }
    return Space::Create(params, constraints);
  };
  const auto start = std::chrono::steady_clock::now();
  auto space = build({"p0 + p1 < 10"}, 2, 19'999'999);
  ASSERT_TRUE(space.ok()) << space.error().message();
  const FeasibleCount count = space->CountFeasible();
  EXPECT_TRUE(count.exact);
  EXPECT_EQ(count.ToString(), "55");
  Rng rng(11);
  std::map<std::string, int> seen;
  for (int t = 0; t < 11000; ++t) {
    auto c = space->Sample(rng);
    ASSERT_TRUE(c.ok()) << c.error().message();
    ASSERT_LT(std::get<int64_t>((*c)[0]) + std::get<int64_t>((*c)[1]), 10);
    ++seen[Key(*c)];
  }
  ASSERT_EQ(seen.size(), 55u);
  double chi2 = 0;
  for (const auto& [key, observed] : seen) chi2 += (observed - 200.0) * (observed - 200.0) / 200.0;
  EXPECT_LT(chi2, ChiSquareQuantile(54, 3.0902));
  // Products, chains and a third parameter: a * b * c <= 1000 over 1..10^6 each, counted by hand.
  auto product = Space::Create(
      {*ParseParameter({{"name", "a"}, {"type", "integer"}, {"low", 1}, {"high", 1'000'000}}, "p"),
       *ParseParameter({{"name", "b"}, {"type", "integer"}, {"low", 1}, {"high", 1'000'000}}, "p"),
       *ParseParameter({{"name", "c"}, {"type", "integer"}, {"low", 1}, {"high", 1'000'000}}, "p")},
      {"a * b * c <= 1000", "1 <= a <= b"});
  ASSERT_TRUE(product.ok()) << product.error().message();
  uint64_t triples = 0;
  for (int64_t a = 1; a <= 1000; ++a) {
    for (int64_t b = a; a * b <= 1000; ++b) triples += 1000 / (a * b);
  }
  EXPECT_EQ(product->CountFeasible().ToString(), std::to_string(triples));
  // A constraint that holds over the whole domain links nothing: n stays a free parameter and
  // the component of o and c is tiny, instead of 3 million rows to enumerate.
  auto loose = Space::Create(
      {*ParseParameter({{"name", "n"}, {"type", "integer"}, {"low", 0}, {"high", 1'000'000}}, "p"),
       *ParseParameter({{"name", "o"}, {"type", "ordinal"}, {"values", {4, 16, 32}}}, "p"),
       *ParseParameter({{"name", "c"}, {"type", "categorical"}, {"values", {"x", "y"}}}, "p")},
      {"n + o < 1e88", "c != 'x' or o > 8"});
  ASSERT_TRUE(loose.ok()) << loose.error().message();
  EXPECT_EQ(loose->CountFeasible().ToString(), std::to_string(1'000'001 * 5));
  // Unsatisfiable over huge ranges is found empty, exactly and at once; so is a constant false
  // beside them, and a constant true changes nothing.
  auto none = build({"p0 + p1 > 40000000"}, 2, 19'999'999);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->CountFeasible().ToString(), "0");
  EXPECT_FALSE(none->Sample(rng).ok());
  auto constant_false = build({"1 > 2", "p0 + p1 < 10"}, 2, 19'999'999);
  ASSERT_TRUE(constant_false.ok());
  EXPECT_EQ(constant_false->CountFeasible().ToString(), "0");
  auto constant_true = build({"p0 + p1 < 10", "2 > 1"}, 2, 19'999'999);
  ASSERT_TRUE(constant_true.ok());
  EXPECT_EQ(constant_true->CountFeasible().ToString(), "55");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0);
}

TEST(SpaceTest, ContinuousConstrainedSpaceSamplesByRejection) {
  auto x = ParseParameter({{"name", "x"}, {"type", "real"}, {"low", 0}, {"high", 1}}, "p");
  auto y = ParseParameter({{"name", "y"}, {"type", "real"}, {"low", 0}, {"high", 1}}, "p");
  auto n = ParseParameter({{"name", "n"}, {"type", "integer"}, {"low", 1}, {"high", 4}}, "p");
  auto space = Space::Create({*x, *y, *n}, {"x + y <= 0.3"});
  ASSERT_TRUE(space.ok());
  EXPECT_FALSE(space->IsDiscrete());
  EXPECT_FALSE(space->CountFeasible().finite);
  Rng rng(8);
  double sum_x = 0;
  const int samples = 4000;
  for (int t = 0; t < samples; ++t) {
    auto c = space->Sample(rng);
    ASSERT_TRUE(c.ok());
    const double xv = std::get<double>((*c)[0]), yv = std::get<double>((*c)[1]);
    EXPECT_LE(xv + yv, 0.3);
    EXPECT_GE(xv, 0);
    EXPECT_GE(yv, 0);
    sum_x += xv;
  }
  // Uniform over the triangle x + y <= 0.3: E[x] = 0.3 / 3.
  EXPECT_NEAR(sum_x / samples, 0.1, 0.005);
}

TEST(SpaceTest, NeighborsAreFeasibleAndDifferInOneParameter) {
  const Space space = Build(Cases()[3]);  // x < y < z over 1..15, w free in 0..2
  auto neighbors = [&](std::vector<int64_t> v) {
    Config c;
    for (auto x : v) c.emplace_back(x);
    Rng rng(1);
    std::set<std::string> out;
    for (const auto& n : space.Neighbors(c, rng)) out.insert(Key(n));
    return out;
  };
  EXPECT_EQ(neighbors({3, 7, 9, 1}),
            (std::set<std::string>{"2,7,9,1,", "4,7,9,1,", "3,6,9,1,", "3,8,9,1,", "3,7,8,1,",
                                   "3,7,10,1,", "3,7,9,0,", "3,7,9,2,"}));
  EXPECT_EQ(neighbors({3, 4, 5, 0}), (std::set<std::string>{"2,4,5,0,", "3,4,6,0,", "3,4,5,1,"}));

  const Space gemm = Build(Cases()[0]);
  Rng rng(12);
  for (int t = 0; t < 200; ++t) {
    auto c = gemm.Sample(rng);
    ASSERT_TRUE(c.ok());
    for (const auto& n : gemm.Neighbors(*c, rng)) {
      EXPECT_TRUE(gemm.Check(n).ok()) << Key(n);
      int differing = 0;
      for (size_t i = 0; i < n.size(); ++i) differing += !(n[i] == (*c)[i]);
      EXPECT_EQ(differing, 1) << Key(*c) << " -> " << Key(n);
    }
  }
}

TEST(SpaceTest, CompleteKeepsFixedValuesWhenPossible) {
  const Space space = Build(Cases()[3]);
  Rng rng(3);
  Config partial = {Value(int64_t{13}), Value(int64_t{0}), Value(int64_t{0}), Value(int64_t{2})};
  for (int t = 0; t < 200; ++t) {
    auto c = space.Complete(partial, {true, false, false, true}, rng);
    ASSERT_TRUE(c.ok());
    // x = 13 forces y = 14, z = 15.
    EXPECT_EQ(Key(*c), "13,14,15,2,");
  }
  // x = 14 has no feasible completion: the component is resampled, still feasible.
  partial[0] = Value(int64_t{14});
  for (int t = 0; t < 50; ++t) {
    auto c = space.Complete(partial, {true, false, false, true}, rng);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(space.Check(*c).ok());
    EXPECT_EQ((*c)[3], Value(int64_t{2}));
  }
}

TEST(SpaceTest, CheckAndConfigFromJsonNameTheParameter) {
  const Space space = Build(Cases()[3]);
  auto wrong_size = space.Check({Value(int64_t{1})});
  ASSERT_FALSE(wrong_size.ok());
  auto out_of_domain =
      space.Check({Value(int64_t{1}), Value(int64_t{99}), Value(int64_t{3}), Value(int64_t{0})});
  ASSERT_FALSE(out_of_domain.ok());
  EXPECT_NE(out_of_domain.error().message().find("'y'"), std::string::npos)
      << out_of_domain.error().message();
  EXPECT_NE(out_of_domain.error().message().find("99"), std::string::npos);
  auto violated =
      space.Check({Value(int64_t{5}), Value(int64_t{4}), Value(int64_t{6}), Value(int64_t{0})});
  ASSERT_FALSE(violated.ok());
  EXPECT_NE(violated.error().message().find("x < y"), std::string::npos)
      << violated.error().message();

  auto good = space.ConfigFromJson({{"x", 1}, {"y", 2}, {"z", 3}, {"w", 0}});
  ASSERT_TRUE(good.ok()) << good.error().message();
  EXPECT_EQ(Key(*good), "1,2,3,0,");
  auto missing = space.ConfigFromJson({{"x", 1}, {"y", 2}, {"w", 0}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("'z'"), std::string::npos) << missing.error().message();
  auto unknown = space.ConfigFromJson({{"x", 1}, {"y", 2}, {"z", 3}, {"w", 0}, {"v", 1}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("'v'"), std::string::npos) << unknown.error().message();
  auto bad_type = space.ConfigFromJson({{"x", 1}, {"y", json::object()}, {"z", 3}, {"w", 0}});
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.error().message().find("'y'"), std::string::npos)
      << bad_type.error().message();
  auto outside = space.ConfigFromJson({{"x", 1}, {"y", 2}, {"z", 30}, {"w", 0}});
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message().find("'z'"), std::string::npos) << outside.error().message();
  auto infeasible = space.ConfigFromJson({{"x", 3}, {"y", 2}, {"z", 1}, {"w", 0}});
  ASSERT_FALSE(infeasible.ok());
  EXPECT_NE(infeasible.error().message().find("x < y"), std::string::npos);
  EXPECT_FALSE(space.ConfigFromJson(json::array({1, 2, 3, 0})).ok());
}

TEST(SpaceTest, ConfigFromJsonNormalisesNumbersToTheParameterKind) {
  auto i = ParseParameter({{"name", "i"}, {"type", "integer"}, {"low", 0}, {"high", 9}}, "p");
  auto r = ParseParameter({{"name", "r"}, {"type", "real"}, {"low", 0}, {"high", 9}}, "p");
  auto o = ParseParameter({{"name", "o"}, {"type", "ordinal"}, {"values", {1, 2, 4}}}, "p");
  auto space = Space::Create({*i, *r, *o}, {});
  ASSERT_TRUE(space.ok());
  auto c = space->ConfigFromJson({{"i", 4.0}, {"r", 2}, {"o", 4.0}});
  ASSERT_TRUE(c.ok()) << c.error().message();
  // The same configuration as one written with the parameters' own kinds: equal and equally
  // hashed, so that duplicates are recognised.
  const Config expected = {Value(int64_t{4}), Value(2.0), Value(int64_t{4})};
  EXPECT_EQ(*c, expected);
  EXPECT_EQ(HashConfig(*c), HashConfig(expected));
  EXPECT_FALSE(space->ConfigFromJson({{"i", 4.5}, {"r", 2}, {"o", 4}}).ok());
}

TEST(SpaceTest, CreateRefusesDuplicateNamesAndUnknownParameters) {
  auto a = ParseParameter({{"name", "alpha"}, {"type", "integer"}, {"low", 0}, {"high", 3}}, "p");
  auto b = ParseParameter({{"name", "beta"}, {"type", "integer"}, {"low", 0}, {"high", 3}}, "p");
  auto dup = Space::Create({*a, *b, *a}, {});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message().find("alpha"), std::string::npos) << dup.error().message();
  auto unknown = Space::Create({*a, *b}, {"alpha < beta", "alpha < gamma"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("gamma"), std::string::npos)
      << unknown.error().message();
  EXPECT_NE(unknown.error().message().find("alpha < gamma"), std::string::npos);
  EXPECT_NE(unknown.error().message().find("constraints[1]"), std::string::npos);
  auto bad = Space::Create({*a, *b}, {"alpha <"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("constraints[0]"), std::string::npos);
}

TEST(SpaceTest, ToJsonFromJsonRoundTrip) {
  const json spec = {
      {"parameters",
       {{{"name", "i"}, {"type", "integer"}, {"low", 1}, {"high", 64}, {"log", true}},
        {{"name", "s"}, {"type", "integer"}, {"low", 0}, {"high", 20}, {"step", 5}, {"default", 10}},
        {{"name", "r"}, {"type", "real"}, {"low", 0.5}, {"high", 2}},
        {{"name", "o"}, {"type", "ordinal"}, {"values", {1, 2, 4}}},
        {{"name", "c"}, {"type", "categorical"}, {"values", {"a", "b"}}, {"default", "b"}},
        {{"name", "p"}, {"type", "permutation"}, {"size", 3}}}},
      {"constraints", {"i * o <= 64", "s != 5 or c == 'a'"}}};
  auto space = Space::FromJson(spec);
  ASSERT_TRUE(space.ok()) << space.error().message();
  EXPECT_EQ(space->Names(), (std::vector<std::string>{"i", "s", "r", "o", "c", "p"}));
  EXPECT_EQ(space->IndexOf("o"), 3);
  EXPECT_EQ(space->IndexOf("zz"), -1);
  EXPECT_TRUE(space->HasUserDefault());
  auto again = Space::FromJson(space->ToJson());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToJson(), space->ToJson());
  EXPECT_EQ(again->ToJson()["constraints"], spec["constraints"]);
  ASSERT_EQ(again->size(), 6u);
  for (size_t k = 0; k < 6; ++k) {
    EXPECT_EQ(again->parameters()[k].ToJson(), ParseParameter(spec["parameters"][k], "p")->ToJson());
  }
  const Config def = space->Default();
  EXPECT_EQ(def[1], Value(int64_t{10}));
  EXPECT_EQ(def[4], Value(std::string("b")));
  auto config = space->ConfigFromJson(space->ConfigToJson(def));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(*config, def);
  // Encoded layout: one column each, three for the permutation.
  EXPECT_EQ(space->layout().width, 8);
  EXPECT_EQ(space->layout().groups[5].offset, 5);
  EXPECT_EQ(space->layout().groups[5].width, 3);
  EXPECT_EQ(space->layout().groups[4].n_choices, 2);
  EXPECT_EQ(space->layout().groups[1].n_levels, 5);
  std::vector<double> row(8);
  space->Encode(def, row.data());
  EXPECT_DOUBLE_EQ(row[1], 0.5);  // 10 in 0..20
  EXPECT_DOUBLE_EQ(row[4], 1.0);  // choice index of "b"
  EXPECT_DOUBLE_EQ(row[7], 2.0);  // identity permutation, last column
  EXPECT_FALSE(Space::FromJson(json::array()).ok());
  json bad = spec;
  bad["constraints"] = {5};
  EXPECT_FALSE(Space::FromJson(bad).ok());
}

}  // namespace
}  // namespace sysopt
