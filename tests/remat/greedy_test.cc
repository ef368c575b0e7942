// The greedy over kept tensors (greedy-recompute), the planner's one clock, and the promise that
// the default plan is never worse than the greedy.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sysopt/remat/checkpoints.h"
#include "sysopt/remat/planner.h"
#include "sysopt/remat/synthetic.h"

namespace sysopt::remat {
namespace {

const PlanEntry* Find(const PlannerResult& result, const std::string& solver) {
  for (const PlanEntry& e : result.entries) {
    if (e.solver == solver) return &e;
  }
  return nullptr;
}

TEST(GreedyRecomputeTest, KeepsEverythingWhenItFitsAndFitsTighterBudgets) {
  std::vector<Graph> graphs = {*MakeTrainingGraph("chain", ChainOps(30)),
                               *MakeTrainingGraph("res", ResidualOps(30, 3, 2, 1.5)),
                               *MakeTrainingGraph("random", RandomNetworkOps(60, 3))};
  for (const Graph& g : graphs) {
    SCOPED_TRACE(g.name);
    const int64_t peak = KeepEverythingPeak(g);
    // At the keep-everything peak nothing is recomputed.
    CheckpointEval all = GreedyRecompute(g, peak, Deadline::In(10));
    auto sim = Simulate(g, all.schedule);
    ASSERT_TRUE(sim.ok());
    EXPECT_LE(sim->peak_bytes, peak);
    EXPECT_DOUBLE_EQ(sim->cost, g.TotalCost());
    EXPECT_EQ(sim->recomputes, 0);
    // Below it, the greedy still fits wherever Chen's baselines do, and it recomputes.
    for (double fraction : {0.8, 0.6, 0.4}) {
      const int64_t budget = BudgetAtFraction(g, fraction);
      const CheckpointEval chen = BestChenBaseline(g, budget, Deadline::In(10));
      const CheckpointEval greedy = GreedyRecompute(g, budget, Deadline::In(10));
      auto checked = Simulate(g, greedy.schedule);
      ASSERT_TRUE(checked.ok()) << checked.error().message();
      EXPECT_EQ(checked->peak_bytes, greedy.sim.peak_bytes);
      if (chen.sim.peak_bytes <= budget) {
        EXPECT_LE(checked->peak_bytes, budget) << fraction;
      }
      if (checked->peak_bytes <= budget) {
        EXPECT_GT(checked->cost, g.TotalCost()) << fraction;
        EXPECT_GT(checked->recomputes, 0) << fraction;
      }
    }
  }
}

TEST(GreedyRecomputeTest, PrefersRecomputingCheapLargeTensors) {
  // A chain where every third op is large and cheap (an activation function's output, say)
  // and the others small and costly: under a budget that forces recomputation, the greedy
  // drops the cheap large tensors and keeps the costly ones, so its overhead is far below that
  // of recomputing segments of the chain.
  std::vector<ForwardOp> ops;
  for (int k = 0; k < 30; ++k) {
    ForwardOp op;
    if (k > 0) op.inputs = {k - 1};
    const bool large = k % 3 == 1;
    op.bytes = large ? 100 : 10;
    op.cost = large ? 0.1 : 10.0;
    ops.push_back(op);
  }
  auto g = MakeTrainingGraph("cheap-large", ops);
  ASSERT_TRUE(g.ok());
  const int64_t budget = BudgetAtFraction(*g, 0.5);
  const CheckpointEval greedy = GreedyRecompute(*g, budget, Deadline::In(10));
  ASSERT_LE(greedy.sim.peak_bytes, budget);
  // Every recomputation of a large op costs 0.1 and needs only its (kept) small input: ten
  // large ops, each recomputed at most once, cost at most 1.0 extra.
  EXPECT_LE(greedy.sim.cost, g->TotalCost() + 1.0 + 1e-9);
  for (int k = 0; k < 30; ++k) {
    if (k % 3 != 1) EXPECT_EQ(greedy.checkpoint[k], kCheckpoint) << k;
  }
}

TEST(GreedyRecomputeTest, DefaultPlanNeverWorseThanTheGreedyOnShippedGraphs) {
  // Every shipped graph at 80%, 60%, 40% and the tightest budget the greedy fits: the stage
  // search of `auto` (the default plan) costs no more than the greedy whenever the greedy fits.
  const std::string dir = std::string(SYSOPT_SOURCE_DIR) + "/data/graphs";
  int compared = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    if (file.path().extension() != ".json") continue;
    auto g = LoadGraph(file.path().string());
    ASSERT_TRUE(g.ok()) << g.error().message();
    SCOPED_TRACE(g->name);
    // The tightest: the least peak the greedy reaches (asked for the impossible budget of the
    // fixed bytes alone, it returns its least-peak plan).
    const int64_t tightest = GreedyRecompute(*g, g->fixed_bytes, Deadline::In(5)).sim.peak_bytes;
    for (int64_t budget : {BudgetAtFraction(*g, 0.8), BudgetAtFraction(*g, 0.6),
                           BudgetAtFraction(*g, 0.4), tightest}) {
      auto result = RunPlanner(*g, {budget, {"auto"}, 0.4, 1});
      ASSERT_TRUE(result.ok()) << result.error().message();
      const PlanEntry* greedy = Find(*result, "greedy-recompute");
      const PlanEntry* stage = Find(*result, "stage-search");
      ASSERT_NE(greedy, nullptr);
      ASSERT_NE(stage, nullptr);
      if (!greedy->plan.feasible) continue;
      ++compared;
      ASSERT_TRUE(stage->plan.feasible) << budget;
      EXPECT_LE(stage->sim.cost, greedy->sim.cost + 1e-9 * greedy->sim.cost) << budget;
      ASSERT_GE(result->best, 0);
      EXPECT_LE(result->entries[result->best].sim.cost, greedy->sim.cost) << budget;
    }
  }
  EXPECT_GE(compared, 24);
}

TEST(PlannerClockTest, SolversShareOneClock) {
  // Each solver gets a share of what is left, not the whole limit: together they stay within
  // it, and the later ones get what the earlier ones left.
  auto g = MakeTrainingGraph("random", RandomNetworkOps(150, 2));
  ASSERT_TRUE(g.ok());
  const double limit = 1.0;
  auto result = RunPlanner(*g, {BudgetAtFraction(*g, 0.5),
                                {"greedy-recompute", "checkpoint-search", "stage-search"},
                                limit, 1});
  ASSERT_TRUE(result.ok()) << result.error().message();
  double shares = 0, spent = 0;
  for (const PlanEntry& e : result->entries) {
    EXPECT_GT(e.share_seconds, 0.0) << e.solver;
    EXPECT_LT(e.share_seconds, limit) << e.solver;
    spent += e.solve_seconds;
    shares += e.share_seconds;
  }
  // The last solver's share is all that was left: the earlier ones' unused time flowed to it.
  EXPECT_GT(result->entries.back().share_seconds, 0.3 * limit);
  EXPECT_LT(result->entries[0].share_seconds, result->entries.back().share_seconds);
  EXPECT_LT(spent, limit * 1.1);
  EXPECT_LT(shares, limit * 1.5);
}

TEST(DeadlineTest, SharesAndExpiry) {
  const Deadline never;
  EXPECT_TRUE(never.Unlimited());
  EXPECT_FALSE(never.Expired());
  EXPECT_TRUE(never.Share(0.5).Unlimited());
  const Deadline past = Deadline::In(0);
  EXPECT_TRUE(past.Expired());
  EXPECT_EQ(past.Remaining(), 0.0);
  const Deadline soon = Deadline::In(100);
  EXPECT_GT(soon.Remaining(), 99.0);
  EXPECT_LE(soon.Remaining(), 100.0);
  const Deadline half = soon.Share(0.5);
  EXPECT_GT(half.Remaining(), 49.0);
  EXPECT_LE(half.Remaining(), 50.0);
  EXPECT_LE(soon.Share(2.0).at(), soon.at());  // never past the deadline it came from
  EXPECT_LE(soon.Sooner(10).Remaining(), 90.0);
  EXPECT_EQ(soon.EarlierOf(never).at(), soon.at());
  EXPECT_EQ(never.EarlierOf(soon).at(), soon.at());
}

}  // namespace
}  // namespace sysopt::remat
