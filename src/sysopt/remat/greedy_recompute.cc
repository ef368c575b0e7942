// A strong simple baseline: choose the forward tensors to keep, recompute the rest on demand
// (recursively, from the nearest kept ancestors) when the backward pass reads them. As in
// PyTorch's activation-budget partitioner, this is a knapsack over saved tensors: each tensor's
// price is its size, its value the compute that keeping it saves, and tensors are taken in
// order of value per byte. Unlike a fixed per-op cost, the value of keeping a tensor is the cost
// of recomputing it from what is kept, so it is recomputed from the chosen set and the
// selection repeated. How many to keep is decided by the simulator, not by a memory model.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <optional>

#include "sysopt/remat/checkpoints.h"
#include "sysopt/remat/solver.h"

namespace sysopt::remat {
namespace {

// Cost of recomputing each forward tensor from the kept ones: its own cost plus that of each
// dropped forward input, recursively. Sums over paths (an input reached twice counts twice),
// capped at the forward cost so that dense graphs do not overflow.
std::vector<double> RecomputeCosts(const Graph& graph, const std::vector<int>& forward,
                                   const std::vector<char>& keep) {
  std::vector<double> rc(graph.size(), 0.0);
  const double cap = std::max(graph.ForwardCost(), 1e-300);
  for (int v : forward) {
    double c = graph.nodes[v].cost;
    for (int u : graph.nodes[v].inputs) {
      if (!graph.nodes[u].backward && !keep[u]) c += rc[u];
    }
    rc[v] = std::min(c, cap);
  }
  return rc;
}

class Greedy {
 public:
  Greedy(const Graph& graph, int64_t budget) : graph_(graph), budget_(budget) {
    forward_ = ForwardNodes(graph);
  }

  // The policy keeping the first k of `order` (and every zero-byte tensor); the rest get `mode`.
  std::vector<char> Policy(const std::vector<int>& order, int k, char mode) const {
    std::vector<char> policy(graph_.size(), kCheckpoint);
    for (int v : forward_) policy[v] = graph_.nodes[v].bytes == 0 ? kCheckpoint : mode;
    for (int j = 0; j < k; ++j) policy[order[j]] = kCheckpoint;
    return policy;
  }

  void Consider(CheckpointEval eval) {
    if (!best_ || BetterPlan(eval.sim, best_->sim, budget_)) best_ = std::move(eval);
  }

  const CheckpointEval& Evaluate(const std::vector<int>& order, int k, char mode) {
    last_ = EvaluateCheckpoints(graph_, Policy(order, k, mode));
    ++evaluations_;
    return last_;
  }

  // Largest k whose plan fits (bisection: keeping more costs less and uses more memory), or
  // the least-peak plan if none fits. Considers every plan it simulates.
  void SearchCount(const std::vector<int>& order, char mode) {
    const int m = static_cast<int>(order.size());
    if (Evaluate(order, m, mode).sim.peak_bytes <= budget_) {
      Consider(last_);
      return;
    }
    Consider(last_);
    if (Evaluate(order, 0, mode).sim.peak_bytes > budget_) {
      Consider(last_);
      return;
    }
    Consider(last_);
    int lo = 0, hi = m;  // lo fits, hi does not
    while (hi - lo > 1) {
      const int mid = lo + (hi - lo) / 2;
      const bool fits = Evaluate(order, mid, mode).sim.peak_bytes <= budget_;
      Consider(last_);
      (fits ? lo : hi) = mid;
    }
  }

  // Tensors with a size, in decreasing order of recomputation cost per byte under `keep`.
  std::vector<int> Order(const std::vector<char>& keep) const {
    const std::vector<double> rc = RecomputeCosts(graph_, forward_, keep);
    std::vector<int> order;
    for (int v : forward_) {
      if (graph_.nodes[v].bytes > 0) order.push_back(v);
    }
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return rc[a] * static_cast<double>(graph_.nodes[b].bytes) >
             rc[b] * static_cast<double>(graph_.nodes[a].bytes);
    });
    return order;
  }

  CheckpointEval Run(const Deadline& deadline, std::string* note) {
    // Two starts for the values: every tensor kept (the value is a tensor's own cost, as a
    // per-op knapsack prices it) and none kept (the value is its whole recomputation chain).
    int rounds = 0;
    for (char start : {char{1}, char{0}}) {
      std::vector<char> keep(graph_.size(), start);
      for (int round = 0; round < 3; ++round) {
        if (rounds > 0 && deadline.Expired()) break;
        ++rounds;
        const std::vector<int> order = Order(keep);
        const SimulationResult before = best_ ? best_->sim : SimulationResult{};
        const bool had = best_.has_value();
        // Dropped tensors recomputed once per backward segment first; recomputed at every use
        // (less memory, more compute) when that does not fit or while time is left.
        SearchCount(order, kSegment);
        if (best_->sim.peak_bytes > budget_ || !deadline.Expired()) SearchCount(order, kTransient);
        // The next round's values come from the set just chosen.
        std::vector<char> next(graph_.size(), 0);
        for (int v = 0; v < graph_.size(); ++v) next[v] = best_->checkpoint[v] == kCheckpoint;
        if (next == keep) break;
        keep = std::move(next);
        if (had && !BetterPlan(best_->sim, before, budget_)) break;
      }
    }
    // Fill: keep more tensors, one at a time in order of value per byte, while the plan still
    // fits and gets cheaper (the bisection stops at the first tensor that does not fit; later,
    // smaller ones may).
    int filled = 0;
    if (best_->sim.peak_bytes <= budget_) {
      std::vector<char> keep(graph_.size(), 0);
      for (int v = 0; v < graph_.size(); ++v) keep[v] = best_->checkpoint[v] == kCheckpoint;
      const std::vector<int> order = Order(keep);
      for (int v : order) {
        if (deadline.Expired()) break;
        if (best_->checkpoint[v] == kCheckpoint) continue;
        std::vector<char> policy = best_->checkpoint;
        policy[v] = kCheckpoint;
        CheckpointEval eval = EvaluateCheckpoints(graph_, std::move(policy));
        ++evaluations_;
        if (eval.sim.peak_bytes <= budget_ && eval.sim.cost < best_->sim.cost) {
          best_ = std::move(eval);
          ++filled;
        }
      }
    }
    if (note != nullptr) {
      const int kept = static_cast<int>(
          std::count_if(forward_.begin(), forward_.end(),
                        [&](int v) { return best_->checkpoint[v] == kCheckpoint; }));
      *note = fmt::format("{} of {} forward tensors kept, {} rounds, {} filled, {} evaluations",
                          kept, forward_.size(), rounds, filled, evaluations_);
    }
    return std::move(*best_);
  }

 private:
  const Graph& graph_;
  int64_t budget_;
  std::vector<int> forward_;
  std::optional<CheckpointEval> best_;
  CheckpointEval last_;
  int evaluations_ = 0;
};

class GreedyRecomputeSolver : public Solver {
 public:
  std::string Name() const override { return "greedy-recompute"; }
  Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const override {
    std::string note;
    const CheckpointEval eval =
        GreedyRecompute(graph, options.budget_bytes, options.deadline, &note);
    Plan plan;
    plan.schedule = eval.schedule;
    plan.has_schedule = true;
    plan.feasible = eval.sim.peak_bytes <= options.budget_bytes;
    plan.status = std::move(note);
    plan.policy = eval.checkpoint;
    return plan;
  }
};

}  // namespace

CheckpointEval GreedyRecompute(const Graph& graph, int64_t budget, const Deadline& deadline,
                               std::string* note) {
  Greedy greedy(graph, budget);
  return greedy.Run(deadline, note);
}

std::unique_ptr<Solver> MakeGreedyRecomputeSolver() {
  return std::make_unique<GreedyRecomputeSolver>();
}

}  // namespace sysopt::remat
