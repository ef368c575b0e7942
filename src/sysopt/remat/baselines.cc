// Baselines: keep everything, and Chen et al.'s sqrt(n) and greedy checkpointing (2016), each
// on articulation points of the forward graph or on the linearised forward order, as in
// Checkmate's comparison.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <stdexcept>

#include "sysopt/remat/checkpoints.h"
#include "sysopt/remat/solver.h"

namespace sysopt::remat {

CheckpointEval EvaluateCheckpoints(const Graph& graph, std::vector<char> checkpoint) {
  CheckpointEval eval;
  // The sparse form of PlanFromCheckpoints: linear in the compute steps, where the matrices
  // (two n x n) dominated every evaluation of the policy searches on large graphs.
  eval.schedule = ScheduleFromComputeOrder(graph, SparsePlanFromCheckpoints(graph, checkpoint).order);
  eval.checkpoint = std::move(checkpoint);
  auto sim = Simulate(graph, eval.schedule);
  if (!sim.ok()) throw std::logic_error("checkpoint schedule invalid: " + sim.error().message());
  eval.sim = *sim;
  return eval;
}

std::vector<int> ForwardNodes(const Graph& graph) {
  std::vector<int> forward;
  for (int i = 0; i < graph.size(); ++i) {
    if (!graph.nodes[i].backward) forward.push_back(i);
  }
  return forward;
}

std::vector<int> ArticulationPoints(const Graph& graph) {
  std::vector<int> points;
  int reach = -1;  // furthest forward node read by any earlier forward node
  for (int v = 0; v < graph.size(); ++v) {
    if (graph.nodes[v].backward) continue;
    if (reach <= v) points.push_back(v);
    for (int user : graph.users[v]) {
      if (!graph.nodes[user].backward) reach = std::max(reach, user);
    }
  }
  return points;
}

std::vector<std::vector<char>> GreedyCheckpointSweep(const Graph& graph, bool articulation) {
  const std::vector<int> forward = ForwardNodes(graph);
  std::vector<char> candidate(graph.size(), articulation ? 0 : 1);
  if (articulation) {
    for (int v : ArticulationPoints(graph)) candidate[v] = 1;
  }
  int64_t total = 0;
  int64_t smallest = std::numeric_limits<int64_t>::max();
  for (int v : forward) {
    total += graph.nodes[v].bytes;
    if (graph.nodes[v].bytes > 0) smallest = std::min(smallest, graph.nodes[v].bytes);
  }
  std::set<std::vector<char>> seen;
  std::vector<std::vector<char>> sets;
  if (forward.empty() || total == 0) return sets;
  constexpr int kSteps = 48;
  // Below the smallest tensor every candidate becomes a checkpoint (no recomputation).
  const double lo = std::log(0.5 * static_cast<double>(smallest));
  const double hi = std::log(static_cast<double>(total));
  for (int k = 0; k <= kSteps; ++k) {
    const double b = std::exp(lo + (hi - lo) * k / kSteps);
    std::vector<char> checkpoint(graph.size(), 0);
    double temp = 0;
    for (int v : forward) {
      temp += static_cast<double>(graph.nodes[v].bytes);
      if (candidate[v] && temp > b) {
        checkpoint[v] = 1;
        temp = 0;
      }
    }
    if (seen.insert(checkpoint).second) sets.push_back(std::move(checkpoint));
  }
  return sets;
}

int BestEvaluation(const std::vector<CheckpointEval>& evals, int64_t budget) {
  int best = -1;
  for (int k = 0; k < static_cast<int>(evals.size()); ++k) {
    const SimulationResult& s = evals[k].sim;
    if (best < 0) {
      best = k;
      continue;
    }
    const SimulationResult& b = evals[best].sim;
    const bool fits = s.peak_bytes <= budget;
    const bool best_fits = b.peak_bytes <= budget;
    if (fits != best_fits) {
      if (fits) best = k;
    } else if (fits ? (s.cost < b.cost || (s.cost == b.cost && s.peak_bytes < b.peak_bytes))
                    : s.peak_bytes < b.peak_bytes) {
      best = k;
    }
  }
  return best;
}

std::vector<char> SqrtNCheckpoints(const Graph& graph, bool articulation) {
  const std::vector<int> forward = ForwardNodes(graph);
  const std::vector<int> candidates = articulation ? ArticulationPoints(graph) : forward;
  std::vector<char> checkpoint(graph.size(), 0);
  const int k = static_cast<int>(std::lround(std::sqrt(static_cast<double>(forward.size()))));
  const int c = static_cast<int>(candidates.size());
  if (k > 0 && c > 0) {
    // Evenly spaced candidates, as in Chen et al.'s segments of equal length.
    const double stride = static_cast<double>(c) / (k + 1);
    for (int s = 1; s <= k; ++s) {
      const int index = std::min(c - 1, static_cast<int>(std::lround(s * stride)));
      checkpoint[candidates[index]] = 1;
    }
  }
  return checkpoint;
}

bool BetterPlan(const SimulationResult& a, const SimulationResult& b, int64_t budget) {
  const bool a_fits = a.peak_bytes <= budget;
  const bool b_fits = b.peak_bytes <= budget;
  if (a_fits != b_fits) return a_fits;
  if (a_fits) {
    if (a.cost != b.cost) return a.cost < b.cost;
    return a.peak_bytes < b.peak_bytes;
  }
  if (a.peak_bytes != b.peak_bytes) return a.peak_bytes < b.peak_bytes;
  return a.cost < b.cost;
}

CheckpointEval BestChenBaseline(const Graph& graph, int64_t budget, const Deadline& deadline) {
  // One evaluation held at a time: the sweeps have about a hundred sets.
  CheckpointEval best = EvaluateCheckpoints(graph, std::vector<char>(graph.size(), 1));
  auto consider = [&](std::vector<char> set) {
    CheckpointEval eval = EvaluateCheckpoints(graph, std::move(set));
    if (BetterPlan(eval.sim, best.sim, budget)) best = std::move(eval);
  };
  for (bool articulation : {true, false}) {
    if (deadline.Expired()) break;
    consider(SqrtNCheckpoints(graph, articulation));
    for (auto& set : GreedyCheckpointSweep(graph, articulation)) {
      if (deadline.Expired()) break;
      consider(std::move(set));
    }
  }
  return best;
}

Plan PlanFromStages(const Graph& graph, const StagePlan& stages, int64_t budget,
                    SimulationResult* sim_out) {
  Plan plan;
  plan.schedule = ScheduleFromStagePlan(graph, stages);
  auto sim = Simulate(graph, plan.schedule);
  if (!sim.ok()) throw std::logic_error("stage plan invalid: " + sim.error().message());
  plan.has_schedule = true;
  plan.feasible = sim->peak_bytes <= budget;
  if (sim_out != nullptr) *sim_out = *sim;
  return plan;
}

namespace {

Plan PlanFromEval(const CheckpointEval& eval, int64_t budget, std::string status) {
  Plan plan;
  plan.schedule = eval.schedule;
  plan.has_schedule = true;
  plan.feasible = eval.sim.peak_bytes <= budget;
  plan.status = std::move(status);
  plan.policy = eval.checkpoint;
  return plan;
}

class KeepAllSolver : public Solver {
 public:
  std::string Name() const override { return "keep-all"; }
  Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const override {
    Plan plan;
    plan.schedule = KeepEverythingSchedule(graph);
    auto sim = Simulate(graph, plan.schedule);
    if (!sim.ok()) return sim.error();
    plan.has_schedule = true;
    plan.feasible = sim->peak_bytes <= options.budget_bytes;
    // Every node must run at least once, so no plan costs less than this one.
    plan.proven_optimal = plan.feasible;
    plan.status = "no recomputation";
    return plan;
  }
};

class SqrtNSolver : public Solver {
 public:
  explicit SqrtNSolver(bool articulation) : articulation_(articulation) {}
  std::string Name() const override { return articulation_ ? "sqrtn-ap" : "sqrtn-linear"; }
  Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const override {
    std::vector<char> checkpoint = SqrtNCheckpoints(graph, articulation_);
    const int k = static_cast<int>(std::count(checkpoint.begin(), checkpoint.end(), 1));
    CheckpointEval eval = EvaluateCheckpoints(graph, std::move(checkpoint));
    return PlanFromEval(eval, options.budget_bytes, fmt::format("{} checkpoints", k));
  }

 private:
  bool articulation_;
};

class GreedySolver : public Solver {
 public:
  explicit GreedySolver(bool articulation) : articulation_(articulation) {}
  std::string Name() const override { return articulation_ ? "greedy-ap" : "greedy-linear"; }
  Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const override {
    // Sets are evaluated one at a time (only the best is held) until the deadline.
    std::optional<CheckpointEval> best;
    int evaluated = 0;
    for (auto& set : GreedyCheckpointSweep(graph, articulation_)) {
      if (best && options.deadline.Expired()) break;
      CheckpointEval eval = EvaluateCheckpoints(graph, std::move(set));
      ++evaluated;
      if (!best || BetterPlan(eval.sim, best->sim, options.budget_bytes)) best = std::move(eval);
    }
    if (!best) best = EvaluateCheckpoints(graph, std::vector<char>(graph.size(), 1));
    return PlanFromEval(*best, options.budget_bytes,
                        fmt::format("best of {} segment budgets", evaluated));
  }

 private:
  bool articulation_;
};

}  // namespace

std::unique_ptr<Solver> MakeKeepAllSolver() { return std::make_unique<KeepAllSolver>(); }
std::unique_ptr<Solver> MakeSqrtNSolver(bool articulation) {
  return std::make_unique<SqrtNSolver>(articulation);
}
std::unique_ptr<Solver> MakeGreedySolver(bool articulation) {
  return std::make_unique<GreedySolver>(articulation);
}

std::vector<std::string> BaselineNames() {
  return {"keep-all", "sqrtn-ap", "sqrtn-linear", "greedy-ap", "greedy-linear", "greedy-recompute"};
}

std::vector<std::string> SolverNames() {
  std::vector<std::string> names = BaselineNames();
  for (const char* name : {"checkpoint-search", "stage-search", "lp-rounding", "milp", "lp-bound",
                           "lagrangian-bound", "paging", "milp-paging"}) {
    names.push_back(name);
  }
  return names;
}

Expected<std::unique_ptr<Solver>> MakeSolver(std::string_view name) {
  if (name == "keep-all") return MakeKeepAllSolver();
  if (name == "sqrtn-ap") return MakeSqrtNSolver(true);
  if (name == "sqrtn-linear") return MakeSqrtNSolver(false);
  if (name == "greedy-ap") return MakeGreedySolver(true);
  if (name == "greedy-linear") return MakeGreedySolver(false);
  if (name == "greedy-recompute") return MakeGreedyRecomputeSolver();
  if (name == "milp") return MakeMilpSolver();
  if (name == "lp-rounding") return MakeLpRoundingSolver();
  if (name == "lp-bound") return MakeLpBoundSolver();
  if (name == "lagrangian-bound") return MakeLagrangianBoundSolver();
  if (name == "checkpoint-search") return MakeCheckpointSearchSolver();
  if (name == "stage-search") return MakeStageSearchSolver();
  if (name == "paging") return MakePagingSolver();
  if (name == "milp-paging") return MakePagingMilpSolver();
  std::string names;
  for (const std::string& n : SolverNames()) names += (names.empty() ? "" : ", ") + n;
  return NotFound("solver '{}' does not exist; choose one of: {}", name, names);
}

}  // namespace sysopt::remat
