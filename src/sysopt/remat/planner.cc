#include "sysopt/remat/planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "sysopt/remat/size.h"

namespace sysopt::remat {

std::vector<std::string> AutoSolvers(const Graph& graph) {
  std::vector<std::string> names = BaselineNames();
  // The plan: the stage search (which starts from the checkpoint search's plan, itself seeded
  // by the best baseline). The bound: Checkmate's program has O(n^2) binaries, so CBC proves
  // optimality only on small graphs, but on graphs up to about 120 nodes its root (LP plus
  // cuts) still fits in a minute and gives the tightest bound we have; CLP's LP alone stays
  // within a minute up to about 200 nodes on two cores (at 312 nodes it did not finish in
  // 60 s). Above that, the stage-boundary relaxation still gives a real bound within seconds.
  // The Lagrangian bound first: it costs O(n^2) per sweep at most and usually converges in a
  // small part of its share, which then goes to the stage search; it is the only bound above
  // a few thousand nodes and often the tightest before that.
  names.push_back("lagrangian-bound");
  names.push_back("stage-search");
  // Above a few thousand nodes Checkmate's programs (O(n^2) columns) do not even build within
  // a minute; no bound is attempted there beyond "every node once".
  if (graph.size() <= 120) {
    names.push_back("milp");
  } else if (graph.size() <= 200) {
    names.push_back("lp-rounding");
  } else if (graph.size() <= 2000) {
    names.push_back("lp-bound");
  }
  if (graph.paging) {
    // The paging pass improves the plans found before it; POET's program has about 1.5 times
    // the columns of Checkmate's and CBC closes its gap on fewer nodes, so it runs on smaller
    // graphs only.
    auto after_search = std::find(names.begin(), names.end(), "stage-search") + 1;
    after_search = names.insert(after_search, "paging") + 1;
    if (graph.size() <= kPagingMilpNodes) names.insert(after_search, "milp-paging");
  }
  return names;
}

std::vector<std::string> AllSolvers(const Graph& graph) {
  std::vector<std::string> names;
  for (const std::string& name : SolverNames()) {
    auto solver = MakeSolver(name);
    if (graph.paging || (solver.ok() && !(*solver)->Pages())) names.push_back(name);
  }
  return names;
}

int64_t KeepEverythingPeak(const Graph& graph) {
  auto sim = Simulate(graph, KeepEverythingSchedule(graph));
  return sim.ok() ? sim->peak_bytes : 0;
}

int64_t BudgetAtFraction(const Graph& graph, double fraction) {
  const double activations = static_cast<double>(KeepEverythingPeak(graph) - graph.fixed_bytes);
  return graph.fixed_bytes + static_cast<int64_t>(std::floor(fraction * activations));
}

double TimeWeight(const std::string& solver) {
  if (solver == "greedy-recompute" || solver == "paging" || solver == "lagrangian-bound") {
    return 0.3;
  }
  if (solver == "lp-bound") return 1.0;
  for (const std::string& name : BaselineNames()) {
    if (name == solver) return 0.05;
  }
  return 1.5;
}

Expected<PlannerResult> RunPlanner(const Graph& graph, const PlannerOptions& options,
                                   const SolverStarted& on_start) {
  std::vector<std::string> names = options.solvers;
  if (names.empty() || (names.size() == 1 && names[0] == "auto")) names = AutoSolvers(graph);
  if (names.size() == 1 && names[0] == "all") names = AllSolvers(graph);
  std::vector<std::unique_ptr<Solver>> solvers;
  for (const std::string& name : names) {
    auto solver = MakeSolver(name);
    if (!solver.ok()) return solver.error();
    solvers.push_back(std::move(*solver));
  }
  PlannerResult result;
  result.keep_all_cost = graph.TotalCost();
  result.keep_all_energy = graph.TotalEnergy();
  result.keep_all_peak = KeepEverythingPeak(graph);
  result.lower_bound = result.keep_all_cost;
  result.bound_source = "every node once";
  result.paging = graph.paging.has_value();
  result.objective = options.objective;
  result.paging_lower_bound =
      options.objective == Objective::kEnergy ? result.keep_all_energy : result.keep_all_cost;
  result.paging_bound_source = "every node once";
  const Objective objective = options.objective;
  // The schedules plan-improving solvers start from: those within the budget, the best by the
  // objective first, or else the one with the least peak.
  auto starts = [&]() {
    std::vector<const PlanEntry*> fits;
    const PlanEntry* least_peak = nullptr;
    for (const PlanEntry& e : result.entries) {
      if (!e.plan.has_schedule) continue;
      if (e.plan.feasible) fits.push_back(&e);
      if (least_peak == nullptr || e.sim.peak_bytes < least_peak->sim.peak_bytes) least_peak = &e;
    }
    std::stable_sort(fits.begin(), fits.end(), [&](const PlanEntry* a, const PlanEntry* b) {
      return ObjectiveValue(a->sim, objective) < ObjectiveValue(b->sim, objective);
    });
    if (fits.empty() && least_peak != nullptr) fits.push_back(least_peak);
    std::vector<Schedule> schedules;
    for (const PlanEntry* e : fits) schedules.push_back(e->plan.schedule);
    return schedules;
  };
  // One clock for the whole run, with a small reserve for simulating the last plan.
  const Deadline total = Deadline::In(options.time_limit_s).EarlierOf(options.deadline);
  // Solvers stop at their deadlines only at their own checks (CLP after an iteration, CBC at
  // an event), a fraction of a second late on a busy machine: a tenth (at most half a second)
  // of the time is kept back for that and for simulating the plans.
  const Deadline end = total.Sooner(std::min(0.5, 0.1 * total.Remaining()));
  // Policies of the plans found so far: later searches start from the best of them, so the
  // stage search is never worse than a baseline run before it, whatever its share of time.
  std::vector<std::vector<char>> start_policies;
  std::vector<double> weights;
  for (const auto& solver : solvers) weights.push_back(TimeWeight(solver->Name()));
  for (size_t k = 0; k < solvers.size(); ++k) {
    const auto& solver = solvers[k];
    double weight_left = 0;
    for (size_t j = k; j < solvers.size(); ++j) weight_left += weights[j];
    SolveOptions solve_options{options.budget_bytes, end.Share(weights[k] / weight_left),
                               options.seed, start_policies, objective};
    if (solver->Pages()) solve_options.start_schedules = starts();
    PlanEntry entry;
    entry.solver = solver->Name();
    entry.share_seconds = solve_options.deadline.Remaining();
    if (on_start) {
      on_start(entry.solver, static_cast<int>(result.entries.size()),
               static_cast<int>(solvers.size()));
    }
    const auto start = std::chrono::steady_clock::now();
    auto plan = solver->Solve(graph, solve_options);
    entry.solve_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!plan.ok()) return plan.error().WithContext(fmt::format("solver {}", entry.solver));
    entry.plan = std::move(*plan);
    if (entry.plan.has_schedule) {
      // Whatever the solver claims, the reported figures are the simulator's.
      auto sim = Simulate(graph, entry.plan.schedule);
      if (!sim.ok()) {
        return RuntimeError("solver {} produced an invalid schedule: {}", entry.solver,
                            sim.error().message());
      }
      entry.sim = *sim;
      entry.plan.feasible = sim->peak_bytes <= options.budget_bytes;
    } else {
      entry.plan.feasible = false;
    }
    if (entry.plan.has_schedule && !entry.plan.policy.empty()) {
      start_policies.push_back(entry.plan.policy);
    }
    // A paging solver's bound holds for every plan (in its objective); the others' only for
    // plans without paging.
    if (solver->Pages()) {
      if (entry.plan.lower_bound > result.paging_lower_bound) {
        result.paging_lower_bound = entry.plan.lower_bound;
        result.paging_bound_source = entry.solver;
      }
    } else if (entry.plan.lower_bound > result.lower_bound) {
      result.lower_bound = entry.plan.lower_bound;
      result.bound_source = entry.solver;
    }
    result.entries.push_back(std::move(entry));
  }
  for (int k = 0; k < static_cast<int>(result.entries.size()); ++k) {
    PlanEntry& entry = result.entries[k];
    if (!entry.plan.has_schedule) continue;
    const double base = std::max(result.keep_all_cost, 1e-300);
    entry.overhead = entry.sim.cost / base - 1.0;
    if (result.paging) {
      entry.gap = (ObjectiveValue(entry.sim, objective) - result.paging_lower_bound) /
                  std::max(result.paging_lower_bound, 1e-300);
    } else {
      entry.gap = (entry.sim.cost - result.lower_bound) / std::max(result.lower_bound, 1e-300);
    }
    if (entry.plan.feasible &&
        (result.best < 0 || ObjectiveValue(entry.sim, objective) <
                                ObjectiveValue(result.entries[result.best].sim, objective))) {
      result.best = k;
    }
  }
  return result;
}

Expected<std::vector<MaxBatchEntry>> MaxBatch(const Graph& graph, int64_t budget_bytes,
                                              double max_overhead,
                                              const std::vector<std::string>& solvers,
                                              double time_limit_s, int64_t batch_limit,
                                              uint64_t seed) {
  if (graph.batch_size <= 0) {
    return InvalidInput(
        "graph '{}': field 'batch_size' is missing; max-batch needs the batch "
        "size the graph was extracted at",
        graph.name);
  }
  std::vector<MaxBatchEntry> entries;
  for (const std::string& name : solvers) {
    auto solver = MakeSolver(name);
    if (!solver.ok()) return solver.error();
    MaxBatchEntry entry;
    entry.solver = name;
    // fits(b): the solver's plan at batch b is within budget and overhead.
    auto fits = [&](int64_t batch, double* overhead) -> Expected<bool> {
      const Graph scaled =
          ScaleGraph(graph, static_cast<double>(batch) / static_cast<double>(graph.batch_size));
      auto plan = (*solver)->Solve(scaled, {budget_bytes, Deadline::In(time_limit_s), seed});
      if (!plan.ok()) return plan.error();
      if (!plan->has_schedule) return false;
      auto sim = Simulate(scaled, plan->schedule);
      if (!sim.ok())
        return RuntimeError("solver {}: invalid schedule: {}", name, sim.error().message());
      const double o = sim->cost / scaled.TotalCost() - 1.0;
      *overhead = o;
      return sim->peak_bytes <= budget_bytes && o <= max_overhead + 1e-9;
    };
    int64_t lo = 0;  // largest known fitting batch
    double lo_overhead = 0;
    int64_t hi = 1;
    double o = 0;
    // Doubling, then bisection between the last fit and the first failure.
    while (hi <= batch_limit) {
      auto ok = fits(hi, &o);
      if (!ok.ok()) return ok.error();
      if (!*ok) break;
      lo = hi;
      lo_overhead = o;
      hi *= 2;
    }
    if (hi > batch_limit) hi = batch_limit + 1;
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      auto ok = fits(mid, &o);
      if (!ok.ok()) return ok.error();
      if (*ok) {
        lo = mid;
        lo_overhead = o;
      } else {
        hi = mid;
      }
    }
    entry.max_batch = lo;
    entry.overhead = lo_overhead;
    entries.push_back(entry);
  }
  return entries;
}

bool FractionGivesBudget(double fraction, const Graph& graph) {
  const double activations = static_cast<double>(KeepEverythingPeak(graph) - graph.fixed_bytes);
  return std::isfinite(fraction) && fraction > 0 &&
         static_cast<double>(graph.fixed_bytes) + fraction * activations <= 9.0e18;
}

Expected<int64_t> ParseBudget(const std::string& text, const Graph& graph) {
  if (!text.empty() && text.back() == '%') {
    double percent = 0;
    try {
      size_t used = 0;
      percent = std::stod(text.substr(0, text.size() - 1), &used);
      if (used != text.size() - 1) throw std::invalid_argument(text);
    } catch (const std::exception&) {
      return InvalidInput("'{}': expected a size (6GiB) or a percentage (50%)", text);
    }
    if (!FractionGivesBudget(percent / 100.0, graph)) {
      return InvalidInput("'{}': must be a positive percentage within range", text);
    }
    return BudgetAtFraction(graph, percent / 100.0);
  }
  return ParseSize(text);
}

nlohmann::json PlannerResultJson(const PlannerResult& r, int64_t budget_bytes) {
  using nlohmann::json;
  json entries = json::array();
  for (const auto& e : r.entries) {
    json j = {{"solver", e.solver},
              {"feasible", e.plan.feasible},
              {"has_schedule", e.plan.has_schedule},
              {"solve_seconds", e.solve_seconds},
              {"proven_optimal", e.plan.proven_optimal},
              {"lower_bound", e.plan.lower_bound},
              {"bound_complete", e.plan.bound_complete},
              {"time_share_seconds", e.share_seconds},
              {"status", e.plan.status}};
    if (e.plan.has_schedule) {
      j["peak_bytes"] = e.sim.peak_bytes;
      j["cost"] = e.sim.cost;
      j["overhead"] = e.overhead;
      j["gap"] = e.gap;
      j["recomputes"] = e.sim.recomputes;
      if (r.paging) {
        j["compute_cost"] = e.sim.compute_cost;
        j["paging_seconds"] = e.sim.paging_seconds;
        j["energy"] = e.sim.energy;
        j["page_outs"] = e.sim.page_outs;
        j["page_ins"] = e.sim.page_ins;
        j["paged_bytes"] = e.sim.paged_bytes;
      }
    }
    entries.push_back(std::move(j));
  }
  json j = {{"budget_bytes", budget_bytes},
            {"keep_all_peak", r.keep_all_peak},
            {"keep_all_cost", r.keep_all_cost},
            {"lower_bound", r.lower_bound},
            {"bound_source", r.bound_source},
            {"best", r.best >= 0 ? json(r.entries[r.best].solver) : json(nullptr)},
            {"plans", entries}};
  if (r.paging) {
    j["objective"] = r.objective == Objective::kEnergy ? "energy" : "time";
    j["keep_all_energy"] = r.keep_all_energy;
    j["paging_lower_bound"] = r.paging_lower_bound;
    j["paging_bound_source"] = r.paging_bound_source;
  }
  return j;
}

}  // namespace sysopt::remat
