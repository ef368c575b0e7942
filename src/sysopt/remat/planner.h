#pragma once
/// \file
/// \brief The planner: runs several solvers on one graph and budget, checks every plan with the
/// simulator, and reports each plan's cost, peak, overhead and gap to the best lower bound.
/// Also budget sweeps and the maximum-batch search built on it.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/remat/graph.h"
#include "sysopt/remat/schedule.h"
#include "sysopt/remat/solver.h"

namespace sysopt::remat {

/// \brief What to run.
struct PlannerOptions {
  int64_t budget_bytes = 0;
  std::vector<std::string> solvers;  ///< Names; empty or {"auto"} picks by graph size.
  double time_limit_s = 60;          ///< For the whole run, every solver included.
  uint64_t seed = 1;
  /// \brief An earlier end than `time_limit_s` from the start, when the caller's own clock
  /// started before (e.g. when the command started); the earlier of the two applies.
  Deadline deadline = {};
  /// \brief What the best plan minimises (and what the paging solvers minimise): time
  /// (compute plus transfers) or energy.
  Objective objective = Objective::kTime;
};

/// \brief Called before each solver starts, with its name, its position (from 0) and the
/// number of solvers: for progress lines.
using SolverStarted = std::function<void(const std::string& solver, int index, int count)>;

/// \brief One solver's outcome, checked by Simulate.
struct PlanEntry {
  std::string solver;
  Plan plan;
  SimulationResult sim;  ///< Valid when plan.has_schedule.
  double solve_seconds = 0;
  double overhead = 0;  ///< cost / keep-everything cost - 1.
  double gap = 0;       ///< (cost - lower bound) / lower bound; with paging, (objective -
                        ///< paging_lower_bound) / paging_lower_bound.
  double share_seconds = 0;  ///< The time this solver was given (its share of what was left).
};

/// \brief All outcomes of one planner run.
struct PlannerResult {
  std::vector<PlanEntry> entries;
  double lower_bound = 0;     ///< Best lower bound known on the cost within the budget, of
                              ///< plans without paging.
  std::string bound_source;   ///< Which solver gave it ("every node once" if none better).
  bool paging = false;        ///< The graph has paging parameters (so plans may page).
  Objective objective = Objective::kTime;
  /// \brief With paging: the best lower bound on the objective of any plan, paging or not
  /// (every node computed once, or a paging solver's bound), and its source.
  double paging_lower_bound = 0;
  std::string paging_bound_source;
  double keep_all_energy = 0;  ///< Energy of computing every node once.
  double keep_all_cost = 0;   ///< Cost of computing every node once.
  int64_t keep_all_peak = 0;  ///< Peak of the keep-everything schedule.
  int best = -1;              ///< Index of the cheapest feasible entry, or -1.
};

/// \brief {"budget_bytes", "keep_all_peak", "keep_all_cost", "lower_bound", "bound_source",
/// "best" (the solver's name, or null), "plans": [{"solver", "feasible", "has_schedule",
/// "solve_seconds", "proven_optimal", "lower_bound", "status", and with a schedule "peak_bytes",
/// "cost", "overhead", "gap", "recomputes"}]}: what `sysopt remat plan --json` prints. With
/// paging also "objective", "keep_all_energy", "paging_lower_bound",
/// "paging_bound_source", and per plan "compute_cost", "paging_seconds", "energy",
/// "page_outs", "page_ins", "paged_bytes".
nlohmann::json PlannerResultJson(const PlannerResult& result, int64_t budget_bytes);

/// \brief The solvers "auto" runs for this graph: the baselines, the stage search, and the
/// MILP (up to 120 nodes), LP rounding (up to 200) or the stage-boundary LP bound (above).
/// With paging parameters also `paging` after the stage search, and `milp-paging` up to
/// kPagingMilpNodes nodes.
std::vector<std::string> AutoSolvers(const Graph& graph);

/// \brief Largest graph for which "auto" runs `milp-paging`.
inline constexpr int kPagingMilpNodes = 60;

/// \brief The solvers "all" runs: every solver, the paging ones only with paging parameters.
std::vector<std::string> AllSolvers(const Graph& graph);

/// \brief Share weights of the time: what is left when a solver starts is split among it and
/// the solvers after it in proportion to these (a baseline 0.05, the greedy over kept tensors
/// and the paging pass 0.3, a search or exact solver 1.5, a bound 1), so time a solver leaves
/// unused goes to those after it.
double TimeWeight(const std::string& solver);

/// \brief Runs the solvers in order, all within one clock of `options.time_limit_s` seconds.
/// Fails on an unknown solver name or a solver failure. `on_start`, when set, is called before
/// each solver.
Expected<PlannerResult> RunPlanner(const Graph& graph, const PlannerOptions& options,
                                   const SolverStarted& on_start = nullptr);

/// \brief Peak memory of the keep-everything schedule.
int64_t KeepEverythingPeak(const Graph& graph);

/// \brief fixed bytes + `fraction` of the keep-everything activation peak (peak minus fixed
/// bytes), rounded down: the budgets "30%", "50%" ... of sweeps and benchmarks.
int64_t BudgetAtFraction(const Graph& graph, double fraction);

/// \brief Whether fixed bytes + `fraction` of the keep-everything activation peak is a positive
/// byte count (false for NaN, infinities, non-positive fractions and budgets too large for
/// int64_t).
bool FractionGivesBudget(double fraction, const Graph& graph);

/// \brief Reads a memory budget: a size ("6GiB", see ParseSize) or a percentage of the
/// keep-everything activation peak on top of the fixed bytes ("50%"). The error names the
/// text; the caller adds what it was given as (e.g. "--budget").
Expected<int64_t> ParseBudget(const std::string& text, const Graph& graph);

/// \brief Result of the maximum-batch search for one solver.
struct MaxBatchEntry {
  std::string solver;
  int64_t max_batch = 0;  ///< Largest batch that fits; 0 if none.
  double overhead = 0;    ///< Overhead of the plan at that batch.
};

/// \brief For each solver, the largest batch size (graph scaled by batch / graph.batch_size)
/// whose plan fits `budget_bytes` with overhead at most `max_overhead`. Uses a doubling then
/// bisection search on the batch size up to `batch_limit`; each probe (one solve) is limited
/// to `time_limit_s`.
Expected<std::vector<MaxBatchEntry>> MaxBatch(const Graph& graph, int64_t budget_bytes,
                                              double max_overhead,
                                              const std::vector<std::string>& solvers,
                                              double time_limit_s, int64_t batch_limit,
                                              uint64_t seed);

}  // namespace sysopt::remat
