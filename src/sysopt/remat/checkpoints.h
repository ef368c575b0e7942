#pragma once
/// \file
/// \brief Shared helpers for checkpoint-set solvers: evaluating a checkpoint set and the
/// baselines' candidate sets.

#include <vector>

#include "sysopt/remat/graph.h"
#include "sysopt/remat/schedule.h"
#include "sysopt/remat/solver.h"
#include "sysopt/remat/stages.h"

namespace sysopt::remat {

/// \brief A checkpoint set with its schedule and simulated figures.
struct CheckpointEval {
  std::vector<char> checkpoint;
  StagePlan stages;
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

/// \brief Every baseline's checkpoint sets (keep-all, sqrt(n) and the greedy sweeps), evaluated.
std::vector<CheckpointEval> BaselineEvaluations(const Graph& graph);

/// \brief The search behind the checkpoint-search solver: starts from the best baseline and
/// improves the checkpoint policy by random mode changes and swaps, with restarts, within
/// `options.time_limit_s`. Returns the best policy found (within the budget if any was);
/// `evaluations`, when given, receives the number of policies simulated.
CheckpointEval SearchCheckpoints(const Graph& graph, const SolveOptions& options,
                                 int* evaluations = nullptr);

/// \brief Simulates a stage plan and wraps it as a Plan (feasible when within `budget`).
/// A plan that fails simulation is a broken invariant and throws std::logic_error.
Plan PlanFromStages(const Graph& graph, const StagePlan& stages, int64_t budget,
                    SimulationResult* sim = nullptr);

}  // namespace sysopt::remat
