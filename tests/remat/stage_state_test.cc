#include "sysopt/remat/stage_state.h"

#include <gtest/gtest.h>

#include <string>

#include "sysopt/core/rng.h"
#include "sysopt/remat/planner.h"
#include "sysopt/remat/synthetic.h"

namespace sysopt::remat {
namespace {

// Memory above `budget` summed over compute steps, in rooms (budget - fixed bytes), walked
// over the schedule step by step.
double Excess(const Graph& graph, const Schedule& schedule, int64_t budget) {
  const double room = static_cast<double>(std::max<int64_t>(1, budget - graph.fixed_bytes));
  int64_t memory = graph.fixed_bytes;
  double excess = 0;
  for (const Step& step : schedule.steps) {
    if (step.kind == Step::Kind::kCompute) {
      memory += graph.nodes[step.node].bytes;
      if (memory > budget) excess += static_cast<double>(memory - budget) / room;
    } else {
      memory -= graph.nodes[step.node].bytes;
    }
  }
  return excess;
}

bool SameGaps(const std::vector<StageGap>& a, const std::vector<StageGap>& b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k].node != b[k].node || a[k].from != b[k].from || a[k].to != b[k].to) return false;
  }
  return true;
}

// Random flips, each kept or undone, from random checkpoint policies: after every flip the
// state must equal a plan rebuilt from its stored sets from scratch (compute sets, cost, peak
// and excess of the simulated schedule), after an undo the plan before the flip, and after a
// commit the gaps of a fresh state.
void CheckRandomWalk(const Graph& graph, uint64_t seed, int moves) {
  SCOPED_TRACE(graph.name);
  Rng rng(seed);
  const int n = graph.size();
  const int64_t budget = graph.fixed_bytes + (KeepEverythingPeak(graph) - graph.fixed_bytes) / 2;
  std::vector<char> modes(n);
  for (char& mode : modes) mode = static_cast<char>(UniformIndex(rng, 3));
  StageSearchState state(graph, budget, PlanFromCheckpoints(graph, modes));
  int flips = 0;
  for (int move = 0; move < moves && !state.gaps().empty(); ++move) {
    const auto stored_before = state.stored();
    const auto compute_before = state.compute();
    const StageProfile profile_before = state.profile();
    const StageGap gap = state.gaps()[UniformIndex(rng, state.gaps().size())];
    const bool was_kept = state.Kept(gap);
    const StageProfile after = state.Flip(gap);
    ++flips;
    ASSERT_NE(state.Kept(gap), was_kept) << "move " << move;

    const StagePlan fresh = PlanFromStored(graph, state.stored());
    ASSERT_EQ(state.compute(), fresh.compute) << "move " << move << ": node " << gap.node
                                              << " stages " << gap.from << ".." << gap.to;
    const Schedule schedule = ScheduleFromStagePlan(graph, fresh);
    auto sim = Simulate(graph, schedule);
    ASSERT_TRUE(sim.ok()) << sim.error().message();
    EXPECT_NEAR(after.cost, sim->cost, 1e-9 * sim->cost);
    EXPECT_EQ(after.peak, sim->peak_bytes);
    EXPECT_NEAR(after.excess, Excess(graph, schedule, budget), 1e-9);

    if (UniformIndex(rng, 2) == 0) {
      state.Undo();
      ASSERT_EQ(state.stored(), stored_before);
      ASSERT_EQ(state.compute(), compute_before);
      EXPECT_EQ(state.profile().cost, profile_before.cost);
      EXPECT_EQ(state.profile().peak, profile_before.peak);
    } else {
      state.Commit();
      const StageSearchState rebuilt(graph, budget, fresh);
      ASSERT_TRUE(SameGaps(state.gaps(), rebuilt.gaps())) << "move " << move;
    }
  }
  EXPECT_GT(flips, moves / 2);
}

TEST(StageSearchStateTest, FlipsMatchPlansRebuiltFromScratch) {
  CheckRandomWalk(*MakeTrainingGraph("chain", ChainOps(12, 3, 1.5)), 1, 300);
  CheckRandomWalk(*MakeTrainingGraph("res", ResidualOps(16, 3, 2, 1.5)), 2, 300);
  CheckRandomWalk(*MakeTrainingGraph("unet", UNetOps(4, 32)), 3, 300);
  CheckRandomWalk(*MakeTrainingGraph("diamond", DiamondOps(3)), 4, 300);
}

TEST(StageSearchStateTest, FlipsMatchPlansRebuiltFromScratchOnARealGraph) {
  // The extracted U-Net: multi-input nodes, skip connections and a real backward pass.
  auto graph = LoadGraph(std::string(SYSOPT_SOURCE_DIR) + "/data/graphs/unet.json");
  ASSERT_TRUE(graph.ok()) << graph.error().message();
  CheckRandomWalk(*graph, 5, 150);
}

}  // namespace
}  // namespace sysopt::remat
