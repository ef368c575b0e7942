#pragma once
/// \file
/// \brief The Solver interface for rematerialisation: given a graph and a memory budget, return
/// a schedule. Concrete solvers (baselines, Checkmate MILP, LP rounding, checkpoint search) are
/// hidden behind MakeSolver.
/// Thread safety: a Solver holds no mutable state; Solve may be called concurrently.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/remat/deadline.h"
#include "sysopt/remat/graph.h"
#include "sysopt/remat/schedule.h"

namespace sysopt::remat {

/// \brief What a solve may use.
struct SolveOptions {
  int64_t budget_bytes = 0;  ///< Peak memory allowed, fixed bytes included.
  Deadline deadline = {};    ///< When the solver must have returned (its share of the command's
                             ///< clock); every phase inside it takes a share of what is left.
  uint64_t seed = 1;         ///< Seed for randomized rounding and search.
  /// \brief Checkpoint policies (one mode per node, see stages.h) of plans found before, e.g.
  /// by the solvers the planner ran earlier: a search starts from the best of these and its
  /// own starts, so it is never worse than any of them.
  std::vector<std::vector<char>> start_policies = {};
  /// \brief What to minimise. Only the paging solvers read it: the others minimise compute,
  /// which is the time of a schedule without paging.
  Objective objective = Objective::kTime;
  /// \brief Schedules found before (by the planner's earlier solvers), the best first: those
  /// within the budget by the objective, or else the one with the least peak. For solvers that
  /// improve given plans (`paging`); empty when the solver runs alone.
  std::vector<Schedule> start_schedules = {};
};

/// \brief A solver's answer. A solver that finds nothing within the budget returns a plan with
/// `feasible == false` (its least-memory schedule, if any), not an error.
struct Plan {
  Schedule schedule;          ///< Valid schedule (checked by Simulate before it is returned).
  bool feasible = false;      ///< The schedule's simulated peak is within the budget.
  bool has_schedule = false;  ///< False when the solver produced no schedule at all.
  double lower_bound = 0;     ///< A proven lower bound on the optimal cost under the budget, or 0.
  bool bound_complete = true;  ///< False when a bound solver stopped at its deadline before
                               ///< its bound was computed (lower_bound is then the best bound it
                               ///< had so far, or 0).
  bool proven_optimal = false;  ///< The solver proved no cheaper schedule exists (its model).
  std::string status;           ///< Short human-readable note (e.g. "time limit, gap 3.1%").
  std::vector<char> policy;     ///< The checkpoint policy the schedule comes from, when it comes
                                ///< from one (empty otherwise).
};

/// \brief A rematerialisation algorithm.
class Solver {
 public:
  virtual ~Solver() = default;
  /// \brief The name MakeSolver accepts.
  virtual std::string Name() const = 0;
  /// \brief Plans `graph` under `options.budget_bytes`. Errors only for failures of the
  /// solver itself (e.g. the MILP library) or a graph it cannot plan (a paging solver on a
  /// graph without paging parameters), never for an infeasible budget.
  virtual Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const = 0;
  /// \brief Whether the solver's plans may page tensors to host memory (so that bounds on
  /// plans without paging do not bound them).
  virtual bool Pages() const { return false; }
};

/// \brief Names of every solver, baselines first, the paging solvers last.
std::vector<std::string> SolverNames();

/// \brief Names of the baselines only (keep-all, Chen et al. variants, the greedy over kept
/// tensors with recomputation on demand).
std::vector<std::string> BaselineNames();

/// \brief Creates a solver by name; NotFound for an unknown name (the message lists the names).
Expected<std::unique_ptr<Solver>> MakeSolver(std::string_view name);

/// \brief Factories of the concrete solvers (also reachable through MakeSolver).
std::unique_ptr<Solver> MakeKeepAllSolver();
/// \brief Chen et al. sqrt(n) checkpointing; `articulation` restricts checkpoints to
/// articulation points of the forward graph, otherwise the graph is linearised.
std::unique_ptr<Solver> MakeSqrtNSolver(bool articulation);
/// \brief Chen et al. greedy segmentation with a sweep over its segment budget.
std::unique_ptr<Solver> MakeGreedySolver(bool articulation);
/// \brief Greedy choice of the forward tensors to keep, by recomputation cost per byte (the
/// cost of recomputing a tensor recursively from its nearest kept ancestors), the rest
/// recomputed on demand when the backward pass reads them; the number kept is searched with
/// the simulator under the budget.
std::unique_ptr<Solver> MakeGreedyRecomputeSolver();
/// \brief Checkmate's MILP solved with COIN-OR CBC, warm-started from the best baseline.
std::unique_ptr<Solver> MakeMilpSolver();
/// \brief Checkmate's LP relaxation (lower bound) with two-phase deterministic and randomized
/// rounding.
std::unique_ptr<Solver> MakeLpRoundingSolver();
/// \brief Lower bound only (no schedule): the LP of the stage-boundary relaxation of Checkmate's
/// program, which scales to graphs of several hundred nodes.
std::unique_ptr<Solver> MakeLpBoundSolver();
/// \brief Lower bound only (no schedule), for graphs of any size: Lagrangian relaxation of the
/// covering program "whatever is dropped at a stage covers its bytes over the budget, and each
/// dropped tensor is recomputed at least once", raised by coordinate ascent on the multipliers.
std::unique_ptr<Solver> MakeLagrangianBoundSolver();
/// \brief Search over checkpoint policies (one of three modes per forward node), seeded by the best
/// baseline; scales to large graphs.
std::unique_ptr<Solver> MakeCheckpointSearchSolver();
/// \brief Checkmate's MILP extended with POET's paging variables (page-in, page-out and host
/// copy per stage and tensor), solved with CBC; needs the graph's paging parameters.
std::unique_ptr<Solver> MakePagingMilpSolver();
/// \brief The scalable paging heuristic: the plans found before (or the stage search's, when
/// run alone) with recomputations replaced by page-ins where that lowers the objective
/// (PageRecomputations), the best of them; needs the graph's paging parameters.
std::unique_ptr<Solver> MakePagingSolver();
/// \brief Simulated annealing over Checkmate's stored sets (keep or recompute each tensor across
/// each gap between its uses), started from the checkpoint search's plan; never worse than it.
std::unique_ptr<Solver> MakeStageSearchSolver();

}  // namespace sysopt::remat
