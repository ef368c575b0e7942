#pragma once
/// \file
/// \brief Shared helpers for checkpoint-set solvers: evaluating a checkpoint set and the
/// baselines' candidate sets.

#include <string>
#include <vector>

#include "sysopt/remat/graph.h"
#include "sysopt/remat/schedule.h"
#include "sysopt/remat/solver.h"
#include "sysopt/remat/stages.h"

namespace sysopt::remat {

/// \brief A checkpoint set with its schedule and simulated figures (its stage plan is
/// PlanFromCheckpoints(checkpoint); not kept, as it takes n^2 bytes).
struct CheckpointEval {
  std::vector<char> checkpoint;
  Schedule schedule;
  SimulationResult sim;
};

/// \brief Builds and simulates the schedule of a checkpoint set.
CheckpointEval EvaluateCheckpoints(const Graph& graph, std::vector<char> checkpoint);

/// \brief Forward nodes that separate the forward graph: no forward edge jumps over them.
std::vector<int> ArticulationPoints(const Graph& graph);

/// \brief Forward nodes in topological order.
std::vector<int> ForwardNodes(const Graph& graph);

/// \brief Checkpoint sets of Chen's greedy algorithm for a sweep of segment budgets.
std::vector<std::vector<char>> GreedyCheckpointSweep(const Graph& graph, bool articulation);

/// \brief The cheapest evaluation within `budget`, or else the one with the least peak.
/// Returns -1 for an empty list.
int BestEvaluation(const std::vector<CheckpointEval>& evals, int64_t budget);

/// \brief Chen et al.'s sqrt(n) checkpoint set: about sqrt(#forward) evenly spaced candidates.
std::vector<char> SqrtNCheckpoints(const Graph& graph, bool articulation);

/// \brief Lexicographic order of plans: within `budget` beats over it; then the lower cost
/// (within) or the lower peak (over).
bool BetterPlan(const SimulationResult& a, const SimulationResult& b, int64_t budget);

/// \brief The best of Chen's baselines' checkpoint sets (keep-all, sqrt(n) and the greedy
/// sweeps) under `budget`, evaluated one at a time (only the best is held). Stops evaluating
/// new sets at `deadline` (keep-all is always evaluated).
CheckpointEval BestChenBaseline(const Graph& graph, int64_t budget, const Deadline& deadline);

/// \brief The greedy behind the greedy-recompute solver: every forward tensor gets a price
/// (bytes) and a benefit (the cost of recomputing it recursively from its nearest kept
/// ancestors); tensors are kept in order of benefit per byte, the rest recomputed on demand,
/// and the number kept is the largest the simulator finds within `budget` (bisection, then a
/// fill pass that keeps more one at a time while they fit). Benefits are recomputed from the
/// chosen set for a few rounds. The first round always completes; later rounds and the fill
/// pass stop at `deadline`. `note`, when given, receives a short description.
CheckpointEval GreedyRecompute(const Graph& graph, int64_t budget, const Deadline& deadline,
                               std::string* note = nullptr);

/// \brief The search behind the checkpoint-search solver: starts from the best baseline and
/// improves the checkpoint policy by random mode changes and swaps, with restarts, until
/// `options.deadline`. The start is the better of Chen's best baseline and GreedyRecompute, so
/// the result is never worse than either. Returns the best policy found (within the budget if any was);
/// `evaluations`, when given, receives the number of policies simulated.
CheckpointEval SearchCheckpoints(const Graph& graph, const SolveOptions& options,
                                 int* evaluations = nullptr);

/// \brief Simulates a stage plan and wraps it as a Plan (feasible when within `budget`).
/// A plan that fails simulation is a broken invariant and throws std::logic_error.
Plan PlanFromStages(const Graph& graph, const StagePlan& stages, int64_t budget,
                    SimulationResult* sim = nullptr);

}  // namespace sysopt::remat
