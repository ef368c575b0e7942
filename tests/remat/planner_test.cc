#include "sysopt/remat/planner.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sysopt/remat/synthetic.h"

namespace sysopt::remat {
namespace {

TEST(PlannerTest, CheckpointSearchNeverWorseThanBestBaseline) {
  std::vector<Graph> graphs = {*MakeTrainingGraph("chain", ChainOps(24)),
                               *MakeTrainingGraph("res", ResidualOps(24, 4, 3, 2.0)),
                               *MakeTrainingGraph("unet", UNetOps(5, 32))};
  for (const Graph& g : graphs) {
    const int64_t peak = KeepEverythingPeak(g);
    for (double fraction : {0.9, 0.7, 0.5}) {
      const int64_t budget = static_cast<int64_t>(fraction * static_cast<double>(peak));
      std::vector<std::string> names = BaselineNames();
      names.push_back("checkpoint-search");
      auto result = RunPlanner(g, {budget, names, 5.0, 7});
      ASSERT_TRUE(result.ok());
      const PlanEntry& search = result->entries.back();
      ASSERT_EQ(search.solver, "checkpoint-search");
      for (const PlanEntry& e : result->entries) {
        if (!e.plan.feasible) continue;
        EXPECT_TRUE(search.plan.feasible) << g.name << " " << fraction;
        EXPECT_LE(search.sim.cost, e.sim.cost + 1e-9)
            << g.name << " " << fraction << " " << e.solver;
        EXPECT_LE(e.sim.peak_bytes, budget);
      }
    }
  }
}

TEST(PlannerTest, StageSearchNeverWorseThanCheckpointSearch) {
  // The stage search starts from the checkpoint search's plan and keeps the best plan it sees,
  // so it fits whenever the checkpoint search does, at no more cost; at tight budgets it should
  // also find plans the checkpoint policies cannot express.
  // Small graphs, so that the search ends on its own move budget well within the time limit and
  // the result does not depend on the machine's speed.
  std::vector<Graph> graphs = {*MakeTrainingGraph("chain", ChainOps(10)),
                               *MakeTrainingGraph("res", ResidualOps(10, 3, 2, 1.5)),
                               *MakeTrainingGraph("unet", UNetOps(3, 32))};
  int strictly_better = 0;
  for (const Graph& g : graphs) {
    const int64_t peak = KeepEverythingPeak(g);
    for (double fraction : {0.7, 0.4}) {
      const int64_t budget = static_cast<int64_t>(fraction * static_cast<double>(peak));
      auto result = RunPlanner(g, {budget, {"checkpoint-search", "stage-search"}, 60.0, 3});
      ASSERT_TRUE(result.ok()) << result.error().message();
      const PlanEntry& policy = result->entries[0];
      const PlanEntry& stage = result->entries[1];
      SCOPED_TRACE(g.name + " " + std::to_string(fraction));
      if (policy.plan.feasible) {
        ASSERT_TRUE(stage.plan.feasible);
        EXPECT_LE(stage.sim.cost, policy.sim.cost + 1e-9);
      }
      if (stage.plan.feasible) {
        EXPECT_LE(stage.sim.peak_bytes, budget);
        EXPECT_GE(stage.sim.cost, g.TotalCost() - 1e-9);
        if (!policy.plan.feasible || stage.sim.cost < policy.sim.cost - 1e-9) ++strictly_better;
      }
    }
  }
  EXPECT_GT(strictly_better, 0);
}

TEST(PlannerTest, StageSearchReachesTheProvenOptimumOnSmallGraphs) {
  // Where CBC proves Checkmate's program optimal, the stage search must do at least as well (its
  // liveness-based memory is never above the program's, so it may also do better).
  std::vector<Graph> graphs = {*MakeTrainingGraph("chain", ChainOps(8)),
                               *MakeTrainingGraph("res", ResidualOps(8, 3, 2, 1.5)),
                               *MakeTrainingGraph("unet", UNetOps(3, 16)),
                               *MakeTrainingGraph("diamond", DiamondOps(3))};
  int proven = 0;
  for (const Graph& g : graphs) {
    const int64_t peak = KeepEverythingPeak(g);
    for (double fraction : {0.7, 0.45}) {
      const int64_t budget = static_cast<int64_t>(fraction * static_cast<double>(peak));
      auto result = RunPlanner(g, {budget, {"milp", "stage-search"}, 60.0, 5});
      ASSERT_TRUE(result.ok()) << result.error().message();
      const PlanEntry& milp = result->entries[0];
      const PlanEntry& stage = result->entries[1];
      if (!milp.plan.proven_optimal) continue;
      ++proven;
      SCOPED_TRACE(g.name + " " + std::to_string(fraction));
      ASSERT_TRUE(stage.plan.feasible);
      EXPECT_LE(stage.sim.cost, milp.sim.cost + 1e-9);
    }
  }
  EXPECT_GE(proven, 4);
}

TEST(PlannerTest, ReportsGapToBoundAndBestEntry) {
  auto g = MakeTrainingGraph("chain", ChainOps(6));
  const int64_t budget = KeepEverythingPeak(*g) - 1;
  auto result = RunPlanner(*g, {budget, {"greedy-linear", "milp"}, 20.0, 1});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->entries.size(), 2u);
  ASSERT_GE(result->best, 0);
  const PlanEntry& best = result->entries[result->best];
  EXPECT_GE(result->lower_bound, g->TotalCost());
  EXPECT_NEAR(best.gap, (best.sim.cost - result->lower_bound) / result->lower_bound, 1e-12);
  EXPECT_NEAR(best.overhead, best.sim.cost / g->TotalCost() - 1.0, 1e-12);
  for (const PlanEntry& e : result->entries) {
    if (e.plan.feasible) {
      EXPECT_GE(e.sim.cost, best.sim.cost);
    }
  }
}

TEST(PlannerTest, AutoHasABoundAtEverySize) {
  auto has = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  auto small = MakeTrainingGraph("chain", ChainOps(20));
  auto large = MakeTrainingGraph("random", RandomNetworkOps(1200, 3));
  ASSERT_TRUE(small.ok() && large.ok());
  ASSERT_GT(large->size(), 2000);
  EXPECT_TRUE(has(AutoSolvers(*small), "milp"));
  EXPECT_TRUE(has(AutoSolvers(*small), "lagrangian-bound"));
  // Above the size where Checkmate's programs are built, the Lagrangian bound is the only one.
  EXPECT_FALSE(has(AutoSolvers(*large), "lp-bound"));
  EXPECT_TRUE(has(AutoSolvers(*large), "lagrangian-bound"));
  // It runs before the stage search, whose share then holds what it left unused.
  const std::vector<std::string> names = AutoSolvers(*large);
  EXPECT_LT(std::find(names.begin(), names.end(), "lagrangian-bound"),
            std::find(names.begin(), names.end(), "stage-search"));
}

TEST(PlannerTest, UnknownSolverFails) {
  auto g = MakeTrainingGraph("chain", ChainOps(3));
  auto result = RunPlanner(*g, {100, {"nope"}, 1.0, 1});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::kNotFound);
}

TEST(PlannerTest, MaxBatchGrowsWithBudgetAndRespectsCap) {
  auto g = MakeTrainingGraph("chain", ChainOps(16, 100, 1.0), 0, 1);
  const int64_t peak_at_one = KeepEverythingPeak(*g);
  auto entries = MaxBatch(*g, 8 * peak_at_one, 0.0, {"keep-all", "greedy-linear"}, 5.0, 64, 1);
  ASSERT_TRUE(entries.ok()) << entries.error().message();
  // Keep-everything scales linearly: exactly 8 copies fit.
  EXPECT_EQ((*entries)[0].max_batch, 8);
  EXPECT_GE((*entries)[1].max_batch, 8);
  auto relaxed = MaxBatch(*g, 8 * peak_at_one, g->ForwardCost() / g->TotalCost(), {"greedy-linear"},
                          5.0, 64, 1);
  ASSERT_TRUE(relaxed.ok());
  EXPECT_GT((*relaxed)[0].max_batch, 8);
  EXPECT_LE((*relaxed)[0].overhead, g->ForwardCost() / g->TotalCost() + 1e-9);
}

}  // namespace
}  // namespace sysopt::remat
