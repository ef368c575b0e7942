#include "sysopt/remat/paging.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <stdexcept>

#include "sysopt/remat/solver.h"
#include "sysopt/remat/stages.h"

namespace sysopt::remat {

double ComputeObjective(const Graph& graph, int i, Objective objective) {
  return objective == Objective::kEnergy ? graph.NodeEnergy(i) : graph.nodes[i].cost;
}

double TransferObjective(const Graph& graph, int i, Objective objective) {
  const int64_t bytes = graph.nodes[i].bytes;
  return objective == Objective::kEnergy ? graph.paging->TransferEnergy(bytes)
                                         : graph.paging->TransferSeconds(bytes);
}

namespace {

// A materialisation list under change, with what the passes below need of the graph.
class PagingList {
 public:
  PagingList(const Graph& graph, Objective objective) : graph_(graph), objective_(objective) {}

  // The objective of `order` as ScheduleFromMaterializations lowers it: each compute, each
  // page-in and each page-out.
  double Value(const std::vector<Materialization>& order) const {
    double value = 0.0;
    for (const Materialization& x : order) {
      value += x.page_in ? TransferObjective(graph_, x.node, objective_)
                         : ComputeObjective(graph_, x.node, objective_);
      if (x.page_out) value += TransferObjective(graph_, x.node, objective_);
    }
    return value;
  }

  // Removes what no longer serves, sweeping backwards: an instance with no reader before its
  // node's next instance (readers that are themselves removed do not count), unless it is the
  // node's first instance, the last instance of an output, or the source of a host copy that a
  // later page-in reads; and a page-out whose host copy no page-in reads.
  void DropDead(std::vector<Materialization>& order) {
    const int n = graph_.size();
    const int m = static_cast<int>(order.size());
    first_.assign(n, -1);
    for (int p = m - 1; p >= 0; --p) first_[order[p].node] = p;
    needed_.assign(n, 0);
    host_needed_.assign(n, 0);
    seen_.assign(n, 0);
    keep_.assign(m, 0);
    for (int p = m - 1; p >= 0; --p) {
      Materialization& x = order[p];
      const int v = x.node;
      const bool last = !seen_[v];
      seen_[v] = 1;
      if (x.page_out && !host_needed_[v]) x.page_out = false;
      const bool alive =
          needed_[v] || x.page_out || (last && graph_.is_output[v]) || p == first_[v];
      needed_[v] = 0;
      keep_[p] = alive;
      if (!alive) continue;
      if (x.page_in) {
        host_needed_[v] = 1;
      } else {
        for (int input : graph_.nodes[v].inputs) needed_[input] = 1;
      }
    }
    int w = 0;
    for (int p = 0; p < m; ++p) {
      if (keep_[p]) order[w++] = order[p];
    }
    order.resize(w);
  }

  // `order` with the instances at `positions` (computes of node v) paged in instead, v's first
  // instance paged out unless v already has a host copy, and what then serves nothing dropped.
  std::vector<Materialization> Replace(std::vector<Materialization> order, int v,
                                       const std::vector<int>& positions) {
    for (int p : positions) order[p].page_in = true;
    if (!HasHostCopy(order, v)) {
      for (Materialization& x : order) {
        if (x.node == v) {
          x.page_out = true;
          break;
        }
      }
    }
    DropDead(order);
    return order;
  }

  static bool HasHostCopy(const std::vector<Materialization>& order, int v) {
    return std::any_of(order.begin(), order.end(),
                       [v](const Materialization& x) { return x.node == v && x.page_out; });
  }

 private:
  const Graph& graph_;
  Objective objective_;
  std::vector<int> first_;
  std::vector<char> needed_, host_needed_, seen_, keep_;
};

}  // namespace

PagingPass PageRecomputations(const Graph& graph, const Schedule& start, int64_t budget,
                              Objective objective, const Deadline& deadline) {
  PagingPass pass;
  pass.schedule = start;
  auto start_sim = Simulate(graph, start);
  if (!start_sim.ok()) {
    throw std::logic_error("paging: the start schedule is invalid: " + start_sim.error().message());
  }
  pass.sim = *start_sim;
  pass.recomputations = start_sim->recomputes;
  if (!graph.paging) return pass;
  const int n = graph.size();
  const int64_t peak_limit = std::max(budget, start_sim->peak_bytes);
  PagingList list(graph, objective);
  std::vector<Materialization> current = MaterializationsOf(start, n);
  const int start_page_ins = static_cast<int>(std::count_if(
      current.begin(), current.end(), [](const Materialization& x) { return x.page_in; }));
  double current_value = ObjectiveValue(pass.sim, objective);
  // Nodes in decreasing order of compute per transfer: where paging saves the most first.
  std::vector<double> ratio(n, 0.0);
  for (int v = 0; v < n; ++v) {
    const double transfer = TransferObjective(graph, v, objective);
    const double compute = ComputeObjective(graph, v, objective);
    ratio[v] = transfer > 0 ? compute / transfer : (compute > 0 ? HUGE_VAL : 0.0);
  }
  std::vector<int> nodes(n);
  std::iota(nodes.begin(), nodes.end(), 0);
  std::stable_sort(nodes.begin(), nodes.end(), [&](int a, int b) { return ratio[a] > ratio[b]; });
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds && !deadline.Expired(); ++round) {
    bool changed = false;
    for (int v : nodes) {
      if (deadline.Expired()) break;
      if (graph.nodes[v].bytes == 0) continue;
      // The recomputations of v: computes after its first instance.
      std::vector<int> recomputes;
      bool first = true;
      for (int p = 0; p < static_cast<int>(current.size()); ++p) {
        if (current[p].node != v) continue;
        if (!first && !current[p].page_in) recomputes.push_back(p);
        first = false;
      }
      if (recomputes.empty()) continue;
      const double base = list.Value(current);
      const double tolerance = 1e-12 * std::max(1.0, std::fabs(base));
      // Each alone, with the host copy taken as made: does it pay for its page-in?
      const double copy =
          PagingList::HasHostCopy(current, v) ? 0.0 : TransferObjective(graph, v, objective);
      std::vector<int> chosen;
      for (int p : recomputes) {
        const double saving = base - list.Value(list.Replace(current, v, {p})) + copy;
        if (saving > tolerance) chosen.push_back(p);
      }
      if (chosen.empty()) continue;
      std::vector<Materialization> trial = list.Replace(current, v, chosen);
      if (list.Value(trial) >= base - tolerance) continue;
      Schedule schedule = ScheduleFromMaterializations(graph, trial);
      auto sim = Simulate(graph, schedule);
      ++pass.evaluations;
      if (!sim.ok()) {
        throw std::logic_error("paging: a candidate schedule is invalid: " + sim.error().message());
      }
      const double value = ObjectiveValue(*sim, objective);
      if (sim->peak_bytes > peak_limit || value >= current_value - tolerance) continue;
      current = std::move(trial);
      current_value = value;
      pass.schedule = std::move(schedule);
      pass.sim = *sim;
      changed = true;
    }
    if (!changed) break;
  }
  pass.replaced =
      static_cast<int>(std::count_if(current.begin(), current.end(),
                                     [](const Materialization& x) { return x.page_in; })) -
      start_page_ins;
  return pass;
}

Schedule ScheduleFromPagingStages(const Graph& graph, const std::vector<std::vector<char>>& stored,
                                  const std::vector<std::vector<char>>& paged_in,
                                  const std::vector<std::vector<char>>& paged_out) {
  const int n = graph.size();
  std::vector<Materialization> order;
  std::vector<int> live(n, -1);  // position of each node's latest instance
  std::vector<char> host(n, 0);  // a host copy is made by an instance placed so far
  std::vector<char> available(n, 0), compute(n, 0), page_in(n, 0), placed(n, 0);
  auto place = [&](Materialization x) {
    live[x.node] = static_cast<int>(order.size());
    order.push_back(x);
  };
  for (int t = 0; t < n; ++t) {
    // A page-in counts only where an earlier stage made the host copy.
    for (int i = 0; i < n; ++i) {
      page_in[i] = i < t && paged_in[t][i] && !stored[t][i] && host[i];
      available[i] = i < t && (stored[t][i] || page_in[i]);
      placed[i] = 0;
    }
    ComputeStageFromStored(graph, t, available, stored[t + 1], compute);
    for (int k = 0; k <= t; ++k) {
      if (!compute[k]) continue;
      for (int input : graph.nodes[k].inputs) {
        if (page_in[input] && !placed[input]) {
          place({input, true});
          placed[input] = 1;
        }
      }
      place({k});
    }
    for (int i = 0; i < t; ++i) {
      if (page_in[i] && !placed[i] && stored[t + 1][i]) place({i, true});
    }
    for (int i = 0; i <= t; ++i) {
      if (!paged_out[t][i] || host[i] || live[i] < 0 || order[live[i]].page_in) continue;
      order[live[i]].page_out = true;
      host[i] = 1;
    }
  }
  return ScheduleFromMaterializations(graph, order);
}

namespace {

class PagingSolver : public Solver {
 public:
  std::string Name() const override { return "paging"; }
  bool Pages() const override { return true; }

  Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const override {
    if (!graph.paging) {
      return InvalidInput(
          "graph '{}' has no paging parameters (give it a 'paging' field or use "
          "--page-bandwidth)",
          graph.name);
    }
    std::vector<Schedule> starts = options.start_schedules;
    std::string from = "the planner's plans";
    if (starts.empty()) {
      // Alone, it starts from the stage search's plan, which gets most of the time.
      SolveOptions search = options;
      search.deadline = options.deadline.Share(0.8);
      auto plan = MakeStageSearchSolver()->Solve(graph, search);
      if (!plan.ok()) return plan.error();
      starts.push_back(plan->schedule);
      from = "stage-search's plan";
    }
    // Each start in turn (the best first, which always runs), the best result kept.
    std::optional<PagingPass> best;
    int tried = 0;
    for (const Schedule& start : starts) {
      if (best && options.deadline.Expired()) break;
      PagingPass pass = PageRecomputations(graph, start, options.budget_bytes, options.objective,
                                           options.deadline);
      ++tried;
      const bool fits = pass.sim.peak_bytes <= options.budget_bytes;
      const bool best_fits = best && best->sim.peak_bytes <= options.budget_bytes;
      if (!best || (fits && !best_fits) ||
          (fits == best_fits && ObjectiveValue(pass.sim, options.objective) <
                                    ObjectiveValue(best->sim, options.objective))) {
        best = std::move(pass);
      }
    }
    const PagingPass& pass = *best;
    Plan plan;
    plan.schedule = pass.schedule;
    plan.has_schedule = true;
    plan.feasible = pass.sim.peak_bytes <= options.budget_bytes;
    plan.status = fmt::format(
        "{} page-ins and {} page-outs replace {} of {} recomputations (best of {} of {})",
        pass.replaced, pass.sim.page_outs, pass.recomputations - pass.sim.recomputes,
        pass.recomputations, tried, from);
    return plan;
  }
};

}  // namespace

std::unique_ptr<Solver> MakePagingSolver() { return std::make_unique<PagingSolver>(); }

}  // namespace sysopt::remat
