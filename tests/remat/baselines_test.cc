#include <gtest/gtest.h>

#include <algorithm>

#include "sysopt/remat/checkpoints.h"
#include "sysopt/remat/solver.h"
#include "sysopt/remat/synthetic.h"

namespace sysopt::remat {
namespace {

Expected<Plan> RunSolver(const std::string& name, const Graph& g, int64_t budget) {
  auto solver = MakeSolver(name);
  EXPECT_TRUE(solver.ok());
  return (*solver)->Solve(g, {budget, Deadline::In(5.0), 1});
}

TEST(BaselinesTest, SqrtNOnChainMatchesHandSchedule) {
  // Forward chain f0..f3 (ids 0..3), gradients g3..g0 (ids 4..7). sqrt(4) = 2 checkpoints at
  // positions round(4/3) = 1 and round(8/3) = 3: f1 and f3. f0 is dropped after f1 and
  // recomputed once for g1, so the compute order is f0 f1 f2 f3 g3 g2 f0 g1 g0: cost 12 + 1.
  // Peak: 4 (f1 f2 f3 g3 at g3; f1 g2 f0 g1 at g1).
  auto g = MakeTrainingGraph("chain4", ChainOps(4));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(SqrtNCheckpoints(*g, false), (std::vector<char>{0, 1, 0, 1, 0, 0, 0, 0}));
  auto plan = RunSolver("sqrtn-linear", *g, 4);
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(plan->has_schedule);
  std::vector<int> computes;
  for (const Step& s : plan->schedule.steps) {
    if (s.kind == Step::Kind::kCompute) computes.push_back(s.node);
  }
  EXPECT_EQ(computes, (std::vector<int>{0, 1, 2, 3, 4, 5, 0, 6, 7}));
  auto sim = Simulate(*g, plan->schedule);
  ASSERT_TRUE(sim.ok());
  EXPECT_DOUBLE_EQ(sim->cost, 13.0);
  EXPECT_EQ(sim->peak_bytes, 4);
  EXPECT_TRUE(plan->feasible);
}

TEST(BaselinesTest, KeepAllIsFeasibleOnlyAtItsPeak) {
  auto g = MakeTrainingGraph("chain4", ChainOps(4));
  auto at_peak = RunSolver("keep-all", *g, 5);
  ASSERT_TRUE(at_peak.ok());
  EXPECT_TRUE(at_peak->feasible);
  EXPECT_TRUE(at_peak->proven_optimal);
  auto below = RunSolver("keep-all", *g, 4);
  EXPECT_FALSE(below->feasible);
}

TEST(BaselinesTest, ArticulationPointsOfResidualChain) {
  // Ops 0..6 with skips 0->3 and 3->6: nodes 1 and 2 (and 4, 5) are jumped over.
  auto g = MakeTrainingGraph("res", ResidualOps(7, 3));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(ArticulationPoints(*g), (std::vector<int>{0, 3, 6}));
}

TEST(BaselinesTest, GreedyUsesNoRecomputationWhenBudgetAllows) {
  auto g = MakeTrainingGraph("res", ResidualOps(12, 3));
  const int64_t peak = Simulate(*g, KeepEverythingSchedule(*g))->peak_bytes;
  auto plan = RunSolver("greedy-linear", *g, peak);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->feasible);
  EXPECT_DOUBLE_EQ(Simulate(*g, plan->schedule)->cost, g->TotalCost());
  // Inside residual blocks nothing is an articulation point, so the AP variant recomputes
  // them, but each at most once.
  auto ap = RunSolver("greedy-ap", *g, peak);
  ASSERT_TRUE(ap.ok());
  EXPECT_TRUE(ap->feasible);
  EXPECT_LE(Simulate(*g, ap->schedule)->cost, g->TotalCost() + g->ForwardCost());
}

TEST(BaselinesTest, GreedyFitsTighterBudgetsThanKeepAll) {
  auto g = MakeTrainingGraph("chain", ChainOps(16));
  const int64_t peak = Simulate(*g, KeepEverythingSchedule(*g))->peak_bytes;
  auto plan = RunSolver("greedy-linear", *g, peak / 2);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->feasible);
  auto sim = Simulate(*g, plan->schedule);
  EXPECT_LE(sim->peak_bytes, peak / 2);
  // Each forward node is recomputed at most once by segment checkpointing.
  EXPECT_LE(sim->cost, g->TotalCost() + g->ForwardCost());
}

TEST(BaselinesTest, EverySolverScheduleIsValidOnEveryShape) {
  std::vector<Graph> graphs = {
      *MakeTrainingGraph("chain", ChainOps(9)), *MakeTrainingGraph("res", ResidualOps(10, 3)),
      *MakeTrainingGraph("unet", UNetOps(4, 16)), *MakeTrainingGraph("diamond", DiamondOps(3))};
  for (const Graph& g : graphs) {
    const int64_t peak = Simulate(g, KeepEverythingSchedule(g))->peak_bytes;
    for (const std::string& name : BaselineNames()) {
      for (int64_t budget : {peak, peak * 7 / 10}) {
        auto plan = RunSolver(name, g, budget);
        ASSERT_TRUE(plan.ok());
        ASSERT_TRUE(plan->has_schedule);
        auto sim = Simulate(g, plan->schedule);
        ASSERT_TRUE(sim.ok()) << g.name << " " << name << ": " << sim.error().message();
        EXPECT_EQ(plan->feasible, sim->peak_bytes <= budget);
        EXPECT_GE(sim->cost, g.TotalCost() - 1e-9);
      }
    }
  }
}

TEST(BaselinesTest, UnknownSolverIsNotFound) {
  auto s = MakeSolver("gurobi");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(s.error().message().find("milp"), std::string::npos);
}

}  // namespace
}  // namespace sysopt::remat
