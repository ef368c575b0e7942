#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "sysopt/remat/formulation.h"
#include "sysopt/remat/lp_bound.h"
#include "sysopt/remat/planner.h"
#include "sysopt/remat/solver.h"
#include "sysopt/remat/stages.h"
#include "sysopt/remat/synthetic.h"

namespace sysopt::remat {
namespace {

// Exhaustive search over every R and S matrix of the frontier-advancing model: the true
// optimum of Checkmate's program, computed without any solver. Memory is checked by
// EncodeStagePlan, whose accounting is written independently of the program's rows.
std::optional<double> BruteForceOptimum(const Graph& g, int64_t budget) {
  const int n = g.size();
  std::optional<CheckmateModel> model = BuildCheckmateModel(g, budget);
  if (!model) return std::nullopt;
  std::vector<std::pair<int, int>> r_bits, s_bits;
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i < t; ++i) {
      r_bits.push_back({t, i});
      s_bits.push_back({t, i});
    }
  }
  const int bits = static_cast<int>(r_bits.size() + s_bits.size());
  std::optional<double> best;
  StagePlan plan;
  plan.compute.assign(n, std::vector<char>(n, 0));
  plan.stored.assign(n + 1, std::vector<char>(n, 0));
  for (int o : g.outputs) plan.stored[n][o] = 1;
  for (uint64_t mask = 0; mask < (uint64_t{1} << bits); ++mask) {
    for (int t = 0; t < n; ++t) {
      std::fill(plan.compute[t].begin(), plan.compute[t].end(), 0);
      std::fill(plan.stored[t].begin(), plan.stored[t].end(), 0);
      plan.compute[t][t] = 1;
    }
    for (size_t b = 0; b < r_bits.size(); ++b) {
      if (mask >> b & 1) plan.compute[r_bits[b].first][r_bits[b].second] = 1;
    }
    for (size_t b = 0; b < s_bits.size(); ++b) {
      if (mask >> (b + r_bits.size()) & 1) plan.stored[s_bits[b].first][s_bits[b].second] = 1;
    }
    bool valid = true;
    double cost = 0;
    for (int t = 0; t < n && valid; ++t) {
      for (int k = 0; k <= t && valid; ++k) {
        if (!plan.compute[t][k]) continue;
        cost += g.nodes[k].cost;
        for (int i : g.nodes[k].inputs) {
          if (!plan.compute[t][i] && !plan.stored[t][i]) valid = false;
        }
      }
      for (int i = 0; i < n && valid; ++i) {
        if (plan.stored[t + 1][i] && !plan.compute[t][i] && !plan.stored[t][i]) valid = false;
      }
    }
    if (!valid || (best && cost >= *best)) continue;
    if (!EncodeStagePlan(g, *model, plan)) continue;
    best = cost;
  }
  return best;
}

// Five nodes: a -> b -> loss, then two gradient nodes reading the activations.
Graph FiveNodes() {
  std::vector<Node> nodes(5);
  nodes[0] = {0, "a", "fwd", {}, 4, 3.0, false, ""};
  nodes[1] = {1, "b", "fwd", {0}, 3, 1.0, false, ""};
  nodes[2] = {2, "loss", "fwd", {1}, 2, 1.0, false, ""};
  nodes[3] = {3, "gb", "bwd", {2, 1, 0}, 3, 2.0, true, ""};
  nodes[4] = {4, "ga", "bwd", {3, 0}, 1, 2.0, true, ""};
  return *MakeGraph("five", nodes, {4}, 0);
}

// A big first activation read again at the very end: dropping and recomputing it saves memory.
Graph LongSkip(double first_cost) {
  std::vector<Node> nodes(5);
  nodes[0] = {0, "a", "fwd", {}, 4, first_cost, false, ""};
  nodes[1] = {1, "b", "fwd", {0}, 1, 1.0, false, ""};
  nodes[2] = {2, "c", "fwd", {1}, 1, 1.0, false, ""};
  nodes[3] = {3, "d", "bwd", {2, 1}, 1, 2.0, true, ""};
  nodes[4] = {4, "e", "bwd", {3, 0}, 1, 2.0, true, ""};
  return *MakeGraph("skip", nodes, {4}, 0);
}

TEST(MilpTest, MatchesBruteForceOnTinyGraphs) {
  std::vector<Graph> graphs = {FiveNodes(), LongSkip(1.0), LongSkip(3.5),
                               *MakeTrainingGraph("chain2", ChainOps(2, 2, 1.0))};
  int compared = 0;
  int with_recomputation = 0;
  for (const Graph& g : graphs) {
    const int64_t peak = KeepEverythingPeak(g);
    for (int64_t budget = peak; budget > 0; --budget) {
      const std::optional<double> expected = BruteForceOptimum(g, budget);
      if (!expected) break;
      auto plan = MakeMilpSolver()->Solve(g, {budget, Deadline::In(30.0), 1});
      ASSERT_TRUE(plan.ok()) << plan.error().message();
      ASSERT_TRUE(plan->feasible) << g.name << " budget " << budget;
      EXPECT_TRUE(plan->proven_optimal) << plan->status;
      EXPECT_NEAR(plan->lower_bound, *expected, 1e-6) << g.name << " budget " << budget;
      auto sim = Simulate(g, plan->schedule);
      ASSERT_TRUE(sim.ok());
      EXPECT_LE(sim->peak_bytes, budget);
      EXPECT_LE(sim->cost, *expected + 1e-9);
      ++compared;
      if (*expected > g.TotalCost()) ++with_recomputation;
    }
  }
  EXPECT_GE(compared, 6);
  EXPECT_GE(with_recomputation, 2);
}

TEST(MilpTest, ChainBudgetForcesRecomputation) {
  // Chain of 4 at budget 4: keeping everything needs 5, so one forward node is recomputed.
  auto g = MakeTrainingGraph("chain4", ChainOps(4));
  auto plan = MakeMilpSolver()->Solve(*g, {4, Deadline::In(30.0), 1});
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(plan->feasible);
  EXPECT_TRUE(plan->proven_optimal);
  EXPECT_DOUBLE_EQ(Simulate(*g, plan->schedule)->cost, 13.0);
}

TEST(LpTest, BoundNeverExceedsAnyPlanCost) {
  std::vector<Graph> graphs = {*MakeTrainingGraph("chain", ChainOps(8)),
                               *MakeTrainingGraph("res", ResidualOps(8, 3, 2, 1.5)),
                               *MakeTrainingGraph("unet", UNetOps(3, 8)),
                               *MakeTrainingGraph("diamond", DiamondOps(2)), FiveNodes()};
  int checked = 0;
  for (const Graph& g : graphs) {
    const int64_t peak = KeepEverythingPeak(g);
    for (double fraction : {1.0, 0.8, 0.6, 0.45}) {
      const int64_t budget = static_cast<int64_t>(fraction * static_cast<double>(peak));
      auto lp = SolveLpRelaxation(g, budget, 30.0);
      ASSERT_TRUE(lp.ok());
      if (!lp->solved) continue;
      EXPECT_GE(lp->lower_bound, g.TotalCost() - 1e-6);
      // The MILP only on graphs small enough to be proven optimal at once.
      std::vector<std::string> names = BaselineNames();
      for (const char* name : {"checkpoint-search", "lp-rounding"}) names.push_back(name);
      if (g.size() <= 6) names.push_back("milp");
      auto result = RunPlanner(g, {budget, names, 10.0, 3});
      ASSERT_TRUE(result.ok()) << result.error().message();
      for (const PlanEntry& e : result->entries) {
        if (!e.plan.feasible) continue;
        ++checked;
        EXPECT_LE(lp->lower_bound, e.sim.cost + 1e-6)
            << g.name << " " << fraction << " " << e.solver;
      }
    }
  }
  EXPECT_GE(checked, 20);
}

// The stage-boundary LP, the full LP and the Lagrangian bound against the exhaustive search
// (one search serves all three: it is the slow part). The Lagrangian bound must also be above
// "every node once" where recomputation is forced, so that it says something.
TEST(LpTest, StageBoundaryAndLagrangianBoundsAreValidOnTinyGraphs) {
  std::vector<Graph> graphs = {FiveNodes(), LongSkip(1.0), LongSkip(3.5),
                               *MakeTrainingGraph("chain2", ChainOps(2, 2, 1.0))};
  int compared = 0;
  int infeasible = 0;
  int informative = 0;
  for (const Graph& g : graphs) {
    for (int64_t budget = KeepEverythingPeak(g); budget > 0; --budget) {
      const std::optional<double> expected = BruteForceOptimum(g, budget);
      auto lagrangian = MakeLagrangianBoundSolver()->Solve(g, {budget, Deadline::In(10.0), 1});
      ASSERT_TRUE(lagrangian.ok()) << lagrangian.error().message();
      EXPECT_FALSE(lagrangian->has_schedule);
      if (expected) {
        EXPECT_EQ(lagrangian->status.find("infeasible"), std::string::npos)
            << g.name << " budget " << budget << ": " << lagrangian->status;
        EXPECT_TRUE(lagrangian->bound_complete);
        EXPECT_GE(lagrangian->lower_bound, g.TotalCost() * (1 - 1e-9));
        EXPECT_LE(lagrangian->lower_bound, *expected + 1e-9) << g.name << " budget " << budget;
        if (lagrangian->lower_bound > g.TotalCost() + 1e-9) ++informative;
      }
      auto boundary = SolveStageBoundaryRelaxation(g, budget, 30.0);
      ASSERT_TRUE(boundary.ok()) << boundary.error().message();
      auto full = SolveLpRelaxation(g, budget, 30.0);
      ASSERT_TRUE(full.ok()) << full.error().message();
      if (!expected) {
        infeasible += boundary->infeasible ? 1 : 0;
        continue;
      }
      // A plan exists, so neither relaxation may call the budget infeasible.
      ASSERT_TRUE(boundary->solved) << g.name << " budget " << budget << ": " << boundary->status;
      ASSERT_TRUE(full->solved) << g.name << " budget " << budget << ": " << full->status;
      EXPECT_GE(boundary->lower_bound, g.TotalCost() - 1e-6);
      EXPECT_LE(boundary->lower_bound, *expected + 1e-6) << g.name << " budget " << budget;
      // The full program contains every row of the boundary relaxation.
      EXPECT_GE(full->lower_bound, boundary->lower_bound - 1e-6) << g.name << " " << budget;
      EXPECT_LE(full->lower_bound, *expected + 1e-6) << g.name << " budget " << budget;
      ++compared;
    }
  }
  EXPECT_GE(compared, 6);
  EXPECT_GE(infeasible, 1);
  EXPECT_GE(informative, 2);
}

TEST(LpTest, StageBoundaryBoundNeverExceedsAnyPlanCost) {
  std::vector<Graph> graphs = {*MakeTrainingGraph("chain", ChainOps(10)),
                               *MakeTrainingGraph("res", ResidualOps(8, 3, 2, 1.5)),
                               *MakeTrainingGraph("unet", UNetOps(3, 8)), FiveNodes()};
  int checked = 0;
  for (const Graph& g : graphs) {
    const int64_t peak = KeepEverythingPeak(g);
    for (double fraction : {1.0, 0.7, 0.5, 0.35, 0.2}) {
      const int64_t budget = static_cast<int64_t>(fraction * static_cast<double>(peak));
      std::vector<std::string> names = BaselineNames();
      for (const char* name : {"checkpoint-search", "lp-rounding", "lp-bound"}) {
        names.push_back(name);
      }
      auto result = RunPlanner(g, {budget, names, 10.0, 3});
      ASSERT_TRUE(result.ok()) << result.error().message();
      const PlanEntry& bound = result->entries.back();
      ASSERT_EQ(bound.solver, "lp-bound");
      EXPECT_FALSE(bound.plan.has_schedule);
      const bool infeasible = bound.plan.status.find("infeasible") != std::string::npos;
      for (const PlanEntry& e : result->entries) {
        if (!e.plan.feasible) continue;
        ++checked;
        EXPECT_FALSE(infeasible) << g.name << " " << fraction << " " << e.solver;
        EXPECT_LE(bound.plan.lower_bound, e.sim.cost + 1e-6)
            << g.name << " " << fraction << " " << e.solver;
      }
    }
  }
  EXPECT_GE(checked, 20);
}

TEST(LpTest, RoundingPlansFitTheBudget) {
  auto g = MakeTrainingGraph("res", ResidualOps(10, 2, 3, 1.0));
  const int64_t budget = KeepEverythingPeak(*g) * 6 / 10;
  auto plan = MakeLpRoundingSolver()->Solve(*g, {budget, Deadline::In(30.0), 5});
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(plan->has_schedule) << plan->status;
  auto sim = Simulate(*g, plan->schedule);
  ASSERT_TRUE(sim.ok());
  EXPECT_LE(sim->peak_bytes, budget);
  EXPECT_LE(plan->lower_bound, sim->cost + 1e-9);
}

// Chain of 4 at budget 4 (keeping everything needs 5; every tensor 1 byte, forward cost 1,
// gradient cost 2, total 12): when g3 is computed it holds its output and its inputs f3 and f2
// (3 bytes), and f0 and f1 are still needed later, so one of them must go and be recomputed:
// the bound is 13, which the MILP proves optimal (ChainBudgetForcesRecomputation).
TEST(LagrangianBoundTest, ChainNeedsOneRecomputation) {
  auto g = MakeTrainingGraph("chain4", ChainOps(4));
  ASSERT_TRUE(g.ok());
  ASSERT_DOUBLE_EQ(g->TotalCost(), 12.0);
  auto plan = MakeLagrangianBoundSolver()->Solve(*g, {4, Deadline::In(10.0), 1});
  ASSERT_TRUE(plan.ok());
  EXPECT_NEAR(plan->lower_bound, 13.0, 1e-6) << plan->status;
}

TEST(LagrangianBoundTest, NeverExceedsAnyPlanCost) {
  std::vector<Graph> graphs = {*MakeTrainingGraph("chain", ChainOps(12)),
                               *MakeTrainingGraph("res", ResidualOps(10, 3, 2, 1.5)),
                               *MakeTrainingGraph("unet", UNetOps(3, 8)),
                               *MakeTrainingGraph("diamond", DiamondOps(3)),
                               *MakeTrainingGraph("random", RandomNetworkOps(30, 7))};
  int checked = 0;
  int informative = 0;
  for (const Graph& g : graphs) {
    const int64_t peak = KeepEverythingPeak(g);
    for (double fraction : {0.8, 0.6, 0.45, 0.3}) {
      const int64_t budget = static_cast<int64_t>(fraction * static_cast<double>(peak));
      std::vector<std::string> names = BaselineNames();
      for (const char* name : {"checkpoint-search", "lagrangian-bound"}) names.push_back(name);
      auto result = RunPlanner(g, {budget, names, 1.0, 3});
      ASSERT_TRUE(result.ok()) << result.error().message();
      const PlanEntry& bound = result->entries.back();
      ASSERT_EQ(bound.solver, "lagrangian-bound");
      if (bound.plan.lower_bound > g.TotalCost() * (1 + 1e-9)) ++informative;
      for (const PlanEntry& e : result->entries) {
        if (!e.plan.feasible) continue;
        ++checked;
        EXPECT_EQ(bound.plan.status.find("infeasible"), std::string::npos) << g.name;
        EXPECT_LE(bound.plan.lower_bound, e.sim.cost + 1e-6)
            << g.name << " " << fraction << " " << e.solver;
      }
    }
  }
  EXPECT_GE(checked, 30);
  EXPECT_GE(informative, 10);
}

TEST(LagrangianBoundTest, BudgetBelowOneNodesNeedsIsInfeasible) {
  // FiveNodes' gradient "gb" reads three tensors of 2 + 3 + 4 bytes and writes 3: 12 bytes.
  auto plan = MakeLagrangianBoundSolver()->Solve(FiveNodes(), {11, Deadline::In(10.0), 1});
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->status.find("infeasible"), std::string::npos) << plan->status;
  EXPECT_NE(plan->status.find("'gb'"), std::string::npos) << plan->status;
}

// Thousands of nodes: the bound comes within its deadline and still says something.
TEST(LagrangianBoundTest, LargeGraphWithinItsDeadline) {
  auto g = MakeTrainingGraph("random", RandomNetworkOps(1500, 11));
  ASSERT_TRUE(g.ok());
  ASSERT_GE(g->size(), 3000);
  const int64_t budget = BudgetAtFraction(*g, 0.4);
  const auto start = std::chrono::steady_clock::now();
  auto plan = MakeLagrangianBoundSolver()->Solve(*g, {budget, Deadline::In(1.0), 1});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(plan.ok());
  EXPECT_LT(seconds, 2.0) << plan->status;
  EXPECT_GT(plan->lower_bound, g->TotalCost() * 1.001) << plan->status;
}

}  // namespace
}  // namespace sysopt::remat
