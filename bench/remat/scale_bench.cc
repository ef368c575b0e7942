// Stage-search scaling benchmark: on held-out random training graphs of 1,000 to 10,000 nodes
// (RandomNetworkOps, as the planner bench's "Scale" row), times the pieces the stage search
// spends its time in: one checkpoint-policy evaluation (what SearchCheckpoints repeats), building
// the stage state, random gap flips (half committed, half undone) as moves per second (unbiased
// flips drift into plans that recompute much of the graph in single stages, so this is a harsher
// mix than the search's), and then the stage-search solver itself with its status line.
// Prints one line per graph; with --write DIR also writes each graph as DIR/random<n>.json for
// `sysopt remat plan`.
//
// Usage: remat_scale_bench [--nodes 1000,5000,10000] [--seconds S] [--write DIR]
#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "sysopt/core/rng.h"
#include "sysopt/remat/checkpoints.h"
#include "sysopt/remat/graph.h"
#include "sysopt/remat/planner.h"
#include "sysopt/remat/solver.h"
#include "sysopt/remat/stage_state.h"
#include "sysopt/remat/synthetic.h"

namespace remat = sysopt::remat;

namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1000, 5000, 10000};
  double seconds = 3.0;
  std::string write_dir;
  for (int k = 1; k < argc; ++k) {
    const std::string arg = argv[k];
    if (arg == "--nodes" && k + 1 < argc) {
      sizes.clear();
      std::stringstream in(argv[++k]);
      std::string item;
      while (std::getline(in, item, ',')) sizes.push_back(std::stoi(item));
    } else if (arg == "--seconds" && k + 1 < argc) {
      seconds = std::stod(argv[++k]);
    } else if (arg == "--write" && k + 1 < argc) {
      write_dir = argv[++k];
    } else {
      fmt::print(stderr, "usage: remat_scale_bench [--nodes N,...] [--seconds S] [--write DIR]\n");
      return 2;
    }
  }
  for (int nodes : sizes) {
    // The planner bench's Scale graph at 5,000 nodes (seed 1004); the same generator elsewhere.
    auto graph = remat::MakeTrainingGraph(fmt::format("random{}", nodes),
                                          remat::RandomNetworkOps(nodes / 2, 1004), 64 << 20, 1);
    if (!graph.ok()) {
      fmt::print(stderr, "{}\n", graph.error().message());
      return 1;
    }
    if (!write_dir.empty()) {
      auto saved = remat::SaveGraph(*graph, fmt::format("{}/random{}.json", write_dir, nodes));
      if (!saved.ok()) {
        fmt::print(stderr, "{}\n", saved.error().message());
        return 1;
      }
    }
    const int64_t budget = remat::BudgetAtFraction(*graph, 0.6);

    // One policy evaluation: the greedy's kind of policy (every forward tensor kept).
    auto start = std::chrono::steady_clock::now();
    const remat::CheckpointEval eval =
        remat::EvaluateCheckpoints(*graph, std::vector<char>(graph->size(), 1));
    const double eval_seconds = SecondsSince(start);
    // A checkpoint search short enough to time a few evaluations of mixed policies.
    start = std::chrono::steady_clock::now();
    int evaluations = 0;
    const remat::CheckpointEval seed = remat::SearchCheckpoints(
        *graph, {budget, remat::Deadline::In(seconds), 1}, &evaluations);
    const double search_seconds = SecondsSince(start);

    start = std::chrono::steady_clock::now();
    remat::StageSearchState state(*graph, budget, remat::SparsePlanFromCheckpoints(*graph, seed.checkpoint).stored);
    const double build_seconds = SecondsSince(start);

    sysopt::Rng rng(7);
    int moves = 0;
    start = std::chrono::steady_clock::now();
    while (!state.gaps().empty() && SecondsSince(start) < seconds) {
      for (int k = 0; k < 16; ++k) {
        const remat::StageGap gap = state.gaps()[sysopt::UniformIndex(rng, state.gaps().size())];
        state.Flip(gap);
        if (sysopt::UniformIndex(rng, 2) == 0) {
          state.Undo();
        } else {
          state.Commit();
        }
        ++moves;
      }
    }
    const double move_seconds = SecondsSince(start);

    // The stage search itself (its checkpoint search, then the anneals) for twice as long.
    auto solver = remat::MakeSolver("stage-search");
    start = std::chrono::steady_clock::now();
    auto plan = (*solver)->Solve(*graph, {budget, remat::Deadline::In(2 * seconds), 1});
    const double solve_seconds = SecondsSince(start);
    if (!plan.ok()) {
      fmt::print(stderr, "{}\n", plan.error().message());
      return 1;
    }
    auto sim = remat::Simulate(*graph, plan->schedule);
    if (!sim.ok()) {
      fmt::print(stderr, "{}\n", sim.error().message());
      return 1;
    }
    fmt::print(
        "{} nodes: policy evaluation {:.3f} s, checkpoint search {} evaluations in {:.1f} s "
        "({:.3f} s each), state build {:.3f} s, random flips {} in {:.1f} s = {:.0f} moves/s; "
        "stage-search at 60% in {:.1f} s: {:.2f}% overhead, {}\n",
        graph->size(), eval_seconds, evaluations, search_seconds,
        search_seconds / std::max(1, evaluations), build_seconds, moves, move_seconds,
        moves / move_seconds, solve_seconds, 100 * (sim->cost / graph->TotalCost() - 1),
        plan->status);
    std::fflush(stdout);
  }
  return 0;
}
