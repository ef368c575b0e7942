#pragma once
/// \file
/// \brief Stage matrices in Checkmate's frontier-advancing form: stage t computes node t and
/// whatever it must recompute; `stored[t]` is what is kept from stage t-1 into stage t. Every
/// solver in this part describes its plan this way and lowers it to a Schedule.

#include <vector>

#include "sysopt/remat/graph.h"
#include "sysopt/remat/schedule.h"

namespace sysopt::remat {

/// \brief R (compute) and S (stored) matrices, each n x n (stored has n + 1 rows; the last row
/// is what exists at the end).
struct StagePlan {
  std::vector<std::vector<char>> compute;  ///< compute[t][i]: node i is computed in stage t.
  std::vector<std::vector<char>> stored;   ///< stored[t][i]: node i is resident entering stage t.
};

/// \brief Completes a plan from the stored sets alone: stage t computes node t, anything stored
/// into stage t+1 that is not already stored, and (recursively) each missing input. Entries of
/// `stored[t]` for nodes >= t are ignored; the last row is set to the graph's outputs.
StagePlan PlanFromStored(const Graph& graph, std::vector<std::vector<char>> stored);

/// \brief Stage t of PlanFromStored: `compute` (n entries, overwritten) gets node t, every node
/// kept into stage t + 1 (`stored_next`) but not into stage t (`stored`), and, recursively,
/// each input they need that `stored` does not hold.
void ComputeStageFromStored(const Graph& graph, int t, const std::vector<char>& stored,
                            const std::vector<char>& stored_next, std::vector<char>& compute);

/// \brief Per-node modes of a checkpoint policy.
inline constexpr char kSegment = 0;     ///< Recomputed once per backward segment (Chen et al.).
inline constexpr char kCheckpoint = 1;  ///< Kept from its computation until its last read.
inline constexpr char kTransient = 2;   ///< Kept only into a stage whose node reads it, so it is
                                        ///< recomputed at every later use.

/// \brief The stage plan of a checkpoint policy (`checkpoint[i]` is node i's mode). Backward
/// nodes are always kept while still needed; every forward node is kept into the next stage
/// when that stage's node reads it; checkpoints are kept while still needed; kSegment nodes are
/// also kept during the backward pass once (re)computed, while still needed.
StagePlan PlanFromCheckpoints(const Graph& graph, const std::vector<char>& checkpoint);

/// \brief A run of consecutive stages, `first` to `last` inclusive, into which a tensor is kept.
struct StageRun {
  int first = 0, last = 0;
  bool operator==(const StageRun&) const = default;
};

/// \brief Stored sets in sparse form: `runs[i]` holds the stages t with stored[t][i], as runs in
/// ascending order, disjoint and not adjacent. Normalised as PlanFromStored leaves them: node i's
/// runs lie within [i + 1, n], and stage n (the end) holds exactly the outputs. O(n + runs)
/// memory where the dense matrix takes n^2.
using StoredRuns = std::vector<std::vector<StageRun>>;

/// \brief The runs of a dense stored matrix, normalised as PlanFromStored normalises it.
StoredRuns StoredRunsFromDense(const Graph& graph, const std::vector<std::vector<char>>& stored);

/// \brief The dense (n + 1) x n stored matrix of `runs`.
std::vector<std::vector<char>> DenseStored(int n, const StoredRuns& runs);

/// \brief A stage plan without its n x n matrices: the stored runs and the compute order, stage
/// by stage (stage t computes order[stage_begin[t]] .. order[stage_begin[t + 1] - 1], ascending).
struct SparseStagePlan {
  StoredRuns stored;
  std::vector<int> order;
  std::vector<int> stage_begin;  ///< n + 1 offsets into `order`.
};

/// \brief PlanFromCheckpoints in sparse form, in time linear in the compute steps (times the
/// inputs per node): the same stored sets and compute order, without building n x n matrices.
SparseStagePlan SparsePlanFromCheckpoints(const Graph& graph, const std::vector<char>& checkpoint);

/// \brief All compute steps in stage order (topological within a stage).
std::vector<int> ComputeOrder(const StagePlan& plan);

/// \brief ScheduleFromComputeOrder(graph, ComputeOrder(plan)).
Schedule ScheduleFromStagePlan(const Graph& graph, const StagePlan& plan);

}  // namespace sysopt::remat
