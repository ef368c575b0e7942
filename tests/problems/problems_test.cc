#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "sysopt/problems/problem.h"

namespace sysopt {
namespace {

Problem Make(const std::string& name) {
  auto p = MakeProblem(name);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message());
  return std::move(*p);
}

double Eval(const Problem& p, const Config& c) {
  auto v = p.evaluate(c);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message());
  return v.ok() ? v->front() : NAN;
}

Value I(int64_t v) { return Value(v); }
Value R(double v) { return Value(v); }
Value S(const char* v) { return Value(std::string(v)); }

TEST(Problems, EveryNameBuildsAConsistentProblem) {
  const auto names = ProblemNames();
  ASSERT_EQ(names.size(), 9u);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    Problem p = Make(name);
    EXPECT_EQ(p.name, name);
    EXPECT_EQ(p.spec.name, name);
    EXPECT_FALSE(p.description.empty());
    EXPECT_FALSE(p.spec.run.has_value());
    ASSERT_TRUE(p.evaluate);
    for (const auto& o : p.spec.objectives) EXPECT_TRUE(o.minimize);
    // The spec document is an example of the spec format: it parses to the same spec.
    auto reparsed = ParseSpec(p.spec_json, name + ".json");
    ASSERT_TRUE(reparsed.ok()) << reparsed.error().message();
    EXPECT_EQ(reparsed->ToJson(), p.spec.ToJson());
    if (p.spec.objectives.size() == 1) {
      ASSERT_TRUE(p.optimum.has_value());
      ASSERT_TRUE(p.optimum_config.has_value());
      EXPECT_TRUE(p.spec.space.Check(*p.optimum_config).ok());
      EXPECT_NEAR(Eval(p, *p.optimum_config), *p.optimum, 1e-5);
    } else {
      EXPECT_EQ(p.reference_point.size(), p.spec.objectives.size());
      EXPECT_TRUE(p.max_hypervolume.has_value());
    }
  }
}

TEST(Problems, UnknownNameListsTheKnownOnes) {
  auto p = MakeProblem("nope");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(p.error().message().find("'nope'"), std::string::npos);
  EXPECT_NE(p.error().message().find("tsp10"), std::string::npos);
}

TEST(Problems, ConfigurationsOutsideTheSpaceAreErrors) {
  Problem p = Make("branin");
  EXPECT_FALSE(p.evaluate(Config{R(0)}).ok());
  EXPECT_FALSE(p.evaluate(Config{R(11), R(0)}).ok());
  Problem k = Make("kernel_constrained");
  // block_x * block_y = 2048 breaks the first constraint.
  auto v = k.evaluate(Config{I(64), I(32), I(4), I(4), I(4), I(4)});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("block_x * block_y"), std::string::npos);
}

TEST(Branin, KnownMinimaAndValues) {
  Problem p = Make("branin");
  const double pi = 3.14159265358979323846;
  EXPECT_NEAR(Eval(p, {R(-pi), R(12.275)}), 0.397887, 1e-6);
  EXPECT_NEAR(Eval(p, {R(pi), R(2.275)}), 0.397887, 1e-6);
  EXPECT_NEAR(Eval(p, {R(9.42478), R(2.475)}), 0.397887, 1e-6);
  // (0, 0): (0 - 6)^2 + 10 (1 - 1/(8 pi)) + 10 = 56 - 10 / (8 pi).
  EXPECT_NEAR(Eval(p, {R(0), R(0)}), 55.602112642, 1e-8);
}

TEST(Hartmann6, KnownMinimumAndValue) {
  Problem p = Make("hartmann6");
  EXPECT_NEAR(Eval(p, {R(0.20169), R(0.150011), R(0.476874), R(0.275332), R(0.311652), R(0.6573)}),
              -3.32237, 1e-5);
  EXPECT_NEAR(Eval(p, Config(6, R(0.5))), -0.5053149917, 1e-9);
}

TEST(RosenbrockInt, KnownMinimumAndValues) {
  Problem p = Make("rosenbrock_int");
  EXPECT_EQ(Eval(p, {I(1), I(1), I(1), I(1)}), 0.0);
  EXPECT_EQ(Eval(p, {I(0), I(0), I(0), I(0)}), 3.0);     // 3 * (1 - 0)^2
  EXPECT_EQ(Eval(p, {I(2), I(2), I(2), I(2)}), 1203.0);  // 3 * (100 * 4 + 1)
  EXPECT_EQ(Eval(p, {I(-1), I(1), I(1), I(1)}), 4.0);    // (1 - (-1))^2
  EXPECT_EQ(p.spec.space.CountFeasible().value, 65536.0L);
}

TEST(AckleyMixed, AnalyticMinimumAndValues) {
  Problem p = Make("ackley_mixed");
  EXPECT_NEAR(Eval(p, {R(1.5), R(-2), S("shifted"), I(8)}), 0.0, 1e-12);
  // Each variant's floor at its own centre and preferred level.
  EXPECT_NEAR(Eval(p, {R(0), R(0), S("base"), I(2)}), 0.6, 1e-12);
  EXPECT_NEAR(Eval(p, {R(-1), R(2.5), S("scaled"), I(1)}), 0.3, 1e-12);
  // base at (1, 0): 20 (1 - exp(-0.2 sqrt(0.5))) = 2.637531; + 0.6 + 0.25 (4 - 1)^2.
  EXPECT_NEAR(Eval(p, {R(1), R(0), S("base"), I(16)}), 5.487531092, 1e-8);
  // scaled at (0, 0): z = (2, -5); + 0.3 + 0.25 (2 - 0)^2.
  EXPECT_NEAR(Eval(p, {R(0), R(0), S("scaled"), I(4)}), 11.961412935, 1e-8);
}

TEST(Tsp10, HeldKarpOptimumMatchesBruteForce) {
  Problem p = Make("tsp10");
  std::vector<int> rest(9);
  std::iota(rest.begin(), rest.end(), 1);
  double best = INFINITY;
  do {
    if (rest.front() > rest.back()) continue;  // each tour once, not also reversed
    Permutation tour;
    tour.order.push_back(0);
    tour.order.insert(tour.order.end(), rest.begin(), rest.end());
    best = std::min(best, Eval(p, {Value(tour)}));
  } while (std::next_permutation(rest.begin(), rest.end()));
  EXPECT_NEAR(*p.optimum, best, 1e-9);
}

TEST(Tsp10, TourLengthIgnoresStartAndDirection) {
  Problem p = Make("tsp10");
  Permutation tour{{3, 1, 4, 0, 5, 9, 2, 6, 8, 7}};
  const double length = Eval(p, {Value(tour)});
  EXPECT_GT(length, *p.optimum);
  Permutation reversed{{tour.order.rbegin(), tour.order.rend()}};
  EXPECT_NEAR(Eval(p, {Value(reversed)}), length, 1e-9);
  std::rotate(tour.order.begin(), tour.order.begin() + 4, tour.order.end());
  EXPECT_NEAR(Eval(p, {Value(tour)}), length, 1e-9);
}

TEST(LoopOrder, HandComputedValues) {
  Problem p = Make("loop_order");
  EXPECT_EQ(p.spec.space.CountFeasible().value, 5880.0L);
  const Value identity(Permutation{{0, 1, 2, 3, 4}});
  // Loops n, co, ci, y, x; no tiling: out and in stream along x (I / 8 lines each), w is
  // reloaded per (n, co, ci) (8 * 64 * 64 / 8 lines); 10 cycles per line + I + 20 I.
  EXPECT_NEAR(Eval(p, {identity, I(1), I(1)}), 788.570112, 1e-9);
  // Tiles 32 x 32: misses scaled by 1 / (1 + 0.15 * 10), overhead 20 I / 1024.
  EXPECT_NEAR(Eval(p, {identity, I(32), I(32)}), 67.780608, 1e-9);
}

TEST(KernelConstrained, HandComputedValueAndSmallFeasibleFraction) {
  Problem p = Make("kernel_constrained");
  const auto count = p.spec.space.CountFeasible();
  ASSERT_TRUE(count.exact);
  EXPECT_LT(count.value, 0.1L * 60500);
  EXPECT_GT(count.value, 1000.0L);
  // 256 threads, 3 blocks per SM (registers), occupancy 0.375, 5 waves of 1024 blocks,
  // 36 FMA cycles per k step: 5 * 2048 * 36 / 0.75 * 3 + 5000 cycles at 1.5 GHz.
  EXPECT_NEAR(Eval(p, {I(32), I(8), I(4), I(4), I(4), I(4)}), 0.98637333333, 1e-9);
}

TEST(KernelConstrained, HiddenRegionFailsWithAReason) {
  Problem p = Make("kernel_constrained");
  const Space& space = p.spec.space;
  const auto total = static_cast<uint64_t>(space.CountFeasible().value);
  uint64_t shared = 0, resources = 0;
  for (uint64_t r = 0; r < total; ++r) {
    auto v = p.evaluate(space.FeasibleAt(r));
    if (v.ok()) continue;
    const auto& m = v.error().message();
    if (m.find("out of shared memory") != std::string::npos) ++shared;
    if (m.find("too many resources") != std::string::npos) ++resources;
  }
  EXPECT_GT(shared, 0u);
  EXPECT_GT(resources, 0u);
  EXPECT_LT(shared + resources, total / 2);
  // A known member: 32 x 8 threads, 8 x 8 tiles, unroll 16 needs (256 + 64) * 512 bytes.
  auto v = p.evaluate({I(32), I(8), I(8), I(8), I(4), I(16)});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("out of shared memory"), std::string::npos);
}

TEST(TwoObjective, ValuesAndHypervolume) {
  Problem p = Make("two_objective");
  auto on_front = p.evaluate({R(0.25), R(0), R(0), R(0)});
  ASSERT_TRUE(on_front.ok());
  EXPECT_NEAR((*on_front)[0], 0.25, 1e-12);
  EXPECT_NEAR((*on_front)[1], 0.5, 1e-12);
  auto worst = p.evaluate({R(1), R(1), R(1), R(1)});
  ASSERT_TRUE(worst.ok());
  EXPECT_NEAR((*worst)[1], 10 - std::sqrt(10.0), 1e-12);  // g = 10
  // A dense sample of the true front approaches the stated hypervolume from below.
  std::vector<std::vector<double>> front;
  for (int i = 0; i <= 20000; ++i) {
    auto v = p.evaluate({R(i / 20000.0), R(0), R(0), R(0)});
    front.push_back(*v);
  }
  const double hv = Hypervolume2D(front, p.reference_point);
  EXPECT_LT(hv, *p.max_hypervolume);
  EXPECT_NEAR(hv, *p.max_hypervolume, 1e-3);
}

TEST(Hypervolume2D, HandComputed) {
  const std::vector<double> ref = {10, 10};
  EXPECT_EQ(Hypervolume2D({}, ref), 0.0);
  EXPECT_EQ(Hypervolume2D({{1, 5}}, ref), 45.0);
  EXPECT_EQ(Hypervolume2D({{3, 2}, {1, 5}}, ref), 66.0);            // 9 * 5 + 7 * 3
  EXPECT_EQ(Hypervolume2D({{3, 2}, {1, 5}, {4, 6}}, ref), 66.0);    // (4, 6) is dominated
  EXPECT_EQ(Hypervolume2D({{3, 2}, {12, 1}, {1, 10}}, ref), 56.0);  // outside points add nothing
}

TEST(Problems, OptimaAreBelowEveryRandomSample) {
  for (const auto& name : ProblemNames()) {
    SCOPED_TRACE(name);
    Problem p = Make(name);
    if (!p.optimum) continue;
    Rng rng(7);
    int ok = 0;
    for (int i = 0; i < 2000; ++i) {
      auto c = p.spec.space.Sample(rng);
      ASSERT_TRUE(c.ok());
      auto v = p.evaluate(*c);
      if (!v.ok()) continue;
      ++ok;
      ASSERT_GE(v->front(), *p.optimum - 1e-9) << p.spec.space.ConfigToJson(*c).dump();
    }
    EXPECT_GT(ok, 1000);
  }
}

TEST(Problems, EnumeratedOptimaAreBelowEveryFeasibleConfiguration) {
  for (const auto& name : {"loop_order", "kernel_constrained", "rosenbrock_int"}) {
    SCOPED_TRACE(name);
    Problem p = Make(name);
    const auto total = static_cast<uint64_t>(p.spec.space.CountFeasible().value);
    double best = INFINITY;
    for (uint64_t r = 0; r < total; ++r) {
      auto v = p.evaluate(p.spec.space.FeasibleAt(r));
      if (v.ok()) best = std::min(best, v->front());
    }
    EXPECT_EQ(best, *p.optimum);
  }
}

}  // namespace
}  // namespace sysopt
