#include "sysopt/remat/stage_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

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

std::vector<StageGap> Sorted(std::vector<StageGap> gaps) {
  std::sort(gaps.begin(), gaps.end(), [](const StageGap& a, const StageGap& b) {
    return std::tie(a.node, a.from, a.to) < std::tie(b.node, b.from, b.to);
  });
  return gaps;
}

// The gaps of a plan, written from the definition: for every node, each pair of consecutive
// stages that compute or read it. Sorted, for comparison with the state's list (unordered).
std::vector<StageGap> GapsOf(const Graph& graph, const StagePlan& plan) {
  const int n = graph.size();
  std::vector<int> last(n, -1);
  std::vector<StageGap> gaps;
  for (int t = 0; t < n; ++t) {
    std::vector<char> touched(n, 0);
    for (int k = 0; k <= t; ++k) {
      if (!plan.compute[t][k]) continue;
      touched[k] = 1;
      for (int input : graph.nodes[k].inputs) touched[input] = 1;
    }
    for (int i = 0; i < n; ++i) {
      if (!touched[i]) continue;
      if (last[i] >= 0) gaps.push_back({i, last[i], t});
      last[i] = t;
    }
  }
  return Sorted(gaps);
}

// Every stage's compute list of the state against the plan's matrix.
void ExpectSameStages(const StageSearchState& state, const StagePlan& plan, int move) {
  const int n = static_cast<int>(plan.compute.size());
  for (int t = 0; t < n; ++t) {
    std::vector<int> list;
    for (int i = 0; i <= t; ++i) {
      if (plan.compute[t][i]) list.push_back(i);
    }
    ASSERT_EQ(state.stage(t), list) << "move " << move << " stage " << t;
  }
}

// Random flips, each kept or undone, from a random checkpoint policy, with now and then a
// return to an earlier plan (as the search goes back to its best): after every flip the state
// must equal a plan rebuilt from its stored sets from scratch (compute sets, cost, peak and
// excess of the simulated schedule, and its gaps), after an undo the plan before the flip.
void CheckRandomWalk(const Graph& graph, uint64_t seed, int moves, double fraction) {
  SCOPED_TRACE(graph.name + " at " + std::to_string(fraction));
  Rng rng(seed);
  const int n = graph.size();
  const int64_t budget =
      graph.fixed_bytes +
      static_cast<int64_t>(fraction * static_cast<double>(KeepEverythingPeak(graph) -
                                                          graph.fixed_bytes));
  std::vector<char> modes(n);
  for (char& mode : modes) mode = static_cast<char>(UniformIndex(rng, 3));
  StageSearchState state(graph, budget, PlanFromCheckpoints(graph, modes));
  StoredRuns saved = state.stored();
  StageProfile saved_profile = state.profile();
  int flips = 0;
  for (int move = 0; move < moves && !state.gaps().empty(); ++move) {
    const StoredRuns stored_before = state.stored();
    const std::vector<StageGap> gaps_before = Sorted(state.gaps());
    const StageProfile profile_before = state.profile();
    const StageGap gap = state.gaps()[UniformIndex(rng, state.gaps().size())];
    const bool was_kept = state.Kept(gap);
    const StageProfile after = state.Flip(gap);
    ++flips;
    ASSERT_NE(state.Kept(gap), was_kept) << "move " << move;

    const StagePlan fresh = PlanFromStored(graph, DenseStored(n, state.stored()));
    ASSERT_EQ(DenseStored(n, state.stored()), fresh.stored) << "move " << move;
    ExpectSameStages(state, fresh, move);
    const Schedule schedule = ScheduleFromStagePlan(graph, fresh);
    auto sim = Simulate(graph, schedule);
    ASSERT_TRUE(sim.ok()) << sim.error().message();
    EXPECT_NEAR(after.cost, sim->cost, 1e-12 * sim->cost) << "move " << move;
    ASSERT_EQ(after.peak, sim->peak_bytes) << "move " << move;
    EXPECT_NEAR(after.excess, Excess(graph, schedule, budget), 1e-9) << "move " << move;
    ASSERT_EQ(Sorted(state.gaps()), GapsOf(graph, fresh)) << "move " << move;

    const uint64_t choice = UniformIndex(rng, 20);
    if (choice < 9) {
      state.Undo();
      ASSERT_EQ(state.stored(), stored_before);
      ASSERT_EQ(Sorted(state.gaps()), gaps_before);
      EXPECT_EQ(state.profile().cost, profile_before.cost);
      EXPECT_EQ(state.profile().peak, profile_before.peak);
      EXPECT_EQ(state.profile().excess, profile_before.excess);
    } else {
      state.Commit();
      if (choice == 19) {
        // Back to an earlier plan, then keep this one for a later return.
        const StoredRuns here = state.stored();
        const StageProfile here_profile = state.profile();
        state.Reset(saved);
        EXPECT_EQ(state.profile().peak, saved_profile.peak);
        EXPECT_NEAR(state.profile().cost, saved_profile.cost, 1e-12 * saved_profile.cost);
        saved = here;
        saved_profile = here_profile;
      }
    }
  }
  EXPECT_GT(flips, moves / 2);
}

// A graph whose backward nodes come in two runs with forward nodes between them (as a graph
// of two training steps would), each node reading the one before and a few further back.
Graph Interleaved() {
  std::vector<Node> nodes(16);
  for (int i = 0; i < 16; ++i) {
    nodes[i].id = i;
    nodes[i].name = "n" + std::to_string(i);
    nodes[i].op = "op";
    nodes[i].bytes = 1 + i % 4;
    nodes[i].cost = 1 + i % 3;
    nodes[i].backward = (i >= 5 && i < 8) || i >= 12;
    if (i > 0) nodes[i].inputs.push_back(i - 1);
    if (i >= 3 && i % 2 == 1) nodes[i].inputs.push_back(i - 3);
    if (i >= 6 && i % 3 == 0) nodes[i].inputs.push_back(i - 6);
  }
  return *MakeGraph("interleaved", std::move(nodes), {15}, 0);
}

TEST(StageSearchStateTest, SparseCheckpointPlansEqualTheDenseOnes) {
  const std::vector<Graph> graphs = {
      *MakeTrainingGraph("chain", ChainOps(12, 3, 1.5)),
      *MakeTrainingGraph("res", ResidualOps(16, 3, 2, 1.5)),
      *MakeTrainingGraph("unet", UNetOps(4, 32)),
      *MakeTrainingGraph("random", RandomNetworkOps(40, 11), 100), Interleaved()};
  Rng rng(9);
  for (const Graph& graph : graphs) {
    SCOPED_TRACE(graph.name);
    for (int k = 0; k < 30; ++k) {
      std::vector<char> modes(graph.size());
      // Mostly one mode (as the baselines' policies are), sometimes a random mix.
      const uint64_t kind = UniformIndex(rng, 4);
      for (char& mode : modes) {
        mode = static_cast<char>(kind < 3 ? kind : UniformIndex(rng, 3));
      }
      const StagePlan dense = PlanFromCheckpoints(graph, modes);
      const SparseStagePlan sparse = SparsePlanFromCheckpoints(graph, modes);
      ASSERT_EQ(DenseStored(graph.size(), sparse.stored), dense.stored) << "policy " << k;
      ASSERT_EQ(sparse.order, ComputeOrder(dense)) << "policy " << k;
      ASSERT_EQ(sparse.stage_begin.size(), graph.size() + 1u);
      for (int t = 0; t < graph.size(); ++t) {
        const int count = static_cast<int>(
            std::count(dense.compute[t].begin(), dense.compute[t].end(), 1));
        ASSERT_EQ(sparse.stage_begin[t + 1] - sparse.stage_begin[t], count) << "stage " << t;
      }
      ASSERT_EQ(StoredRunsFromDense(graph, dense.stored), sparse.stored) << "policy " << k;
    }
  }
}

TEST(StageSearchStateTest, FlipsMatchPlansRebuiltFromScratch) {
  for (double fraction : {0.3, 0.5, 0.8}) {
    CheckRandomWalk(*MakeTrainingGraph("chain", ChainOps(12, 3, 1.5)), 1, 300, fraction);
    CheckRandomWalk(*MakeTrainingGraph("res", ResidualOps(16, 3, 2, 1.5)), 2, 300, fraction);
    CheckRandomWalk(*MakeTrainingGraph("unet", UNetOps(4, 32)), 3, 300, fraction);
    CheckRandomWalk(*MakeTrainingGraph("diamond", DiamondOps(3)), 4, 300, fraction);
    CheckRandomWalk(Interleaved(), 8, 300, fraction);
  }
}

TEST(StageSearchStateTest, LongWalksOnRandomNetworksMatchPlansRebuiltFromScratch) {
  // Skips, dense blocks and zero-size views, with fixed bytes.
  CheckRandomWalk(*MakeTrainingGraph("random-a", RandomNetworkOps(30, 21), 1000), 6, 1500, 0.4);
  CheckRandomWalk(*MakeTrainingGraph("random-b", RandomNetworkOps(45, 22, 1 << 20, 0.5, 0.3)),
                  7, 1500, 0.6);
}

TEST(StageSearchStateTest, FlipsMatchPlansRebuiltFromScratchOnARealGraph) {
  // The extracted U-Net: multi-input nodes, skip connections and a real backward pass.
  auto graph = LoadGraph(std::string(SYSOPT_SOURCE_DIR) + "/data/graphs/unet.json");
  ASSERT_TRUE(graph.ok()) << graph.error().message();
  CheckRandomWalk(*graph, 5, 150, 0.5);
}

TEST(StageSearchStateTest, StartsFromSparseRunsAsFromTheDensePlan) {
  const Graph graph = *MakeTrainingGraph("random", RandomNetworkOps(40, 12), 64);
  const int64_t budget = BudgetAtFraction(graph, 0.5);
  std::vector<char> modes(graph.size(), kSegment);
  for (int i = 0; i < graph.size(); i += 5) modes[i] = kCheckpoint;
  const StageSearchState dense(graph, budget, PlanFromCheckpoints(graph, modes));
  const StageSearchState sparse(graph, budget, SparsePlanFromCheckpoints(graph, modes).stored);
  EXPECT_EQ(dense.stored(), sparse.stored());
  EXPECT_EQ(dense.ComputeOrder(), sparse.ComputeOrder());
  EXPECT_EQ(dense.ComputeOrder(), ComputeOrder(PlanFromCheckpoints(graph, modes)));
  auto sim = Simulate(graph, ScheduleFromComputeOrder(graph, sparse.ComputeOrder()));
  ASSERT_TRUE(sim.ok());
  EXPECT_EQ(sparse.profile().peak, sim->peak_bytes);
  EXPECT_EQ(Sorted(dense.gaps()), Sorted(sparse.gaps()));
}

}  // namespace
}  // namespace sysopt::remat
