// A lower bound that scales to graphs of many thousand nodes, for every plan in the
// frontier-advancing model (stage t computes node t for the first time; before that, only
// nodes below t have been computed).
//
// When node t is computed for the first time, its inputs and its output are resident, and every
// other tensor j < t that a node after t reads (or that is an output of the graph) is either
// resident too or will have to be computed again later, at a cost of at least c_j. Call that
// set L_t and the bytes over the budget if all of L_t stayed resident e_t. Whatever a plan drops
// at stage t must cover e_t, and a tensor dropped at any stage is recomputed at least once, so
// with y_j = 1 for a tensor the plan ever drops while still needed:
//
//   extra cost >= min sum_j c_j y_j   s.t.   sum_{j in L_t} b_j y_j >= e_t for every t,
//                                            0 <= y_j <= 1.
//
// Relaxing each stage's row with a multiplier mu_t >= 0 gives, for any mu, the valid bound
//
//   L(mu) = sum_t mu_t e_t + sum_j min(0, c_j - b_j S_j),   S_j = sum_{t : j in L_t} mu_t,
//
// which needs no LP solver and O(n + edges) memory. It is raised by exact coordinate ascent:
// with the other multipliers fixed, L is concave and piecewise linear in mu_t, and its maximum
// is a weighted median of the break points c_j / b_j - (S_j - mu_t) over L_t. The best single
// row on its own is the fractional knapsack of that stage, so after one sweep the bound is at
// least the best per-stage knapsack; further sweeps couple the stages. Coordinate ascent on a
// non-smooth function can stop short of the LP's optimum, so the bound is reported with the
// sweeps it took and whether they converged.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "sysopt/remat/solver.h"

namespace sysopt::remat {
namespace {

class LagrangianBoundSolver : public Solver {
 public:
  std::string Name() const override { return "lagrangian-bound"; }

  Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const override {
    const int n = graph.size();
    const int64_t budget = options.budget_bytes;
    Plan plan;
    // last_use[j]: the last node that reads j, or n for an output of the graph (it must exist
    // at the end); j is in L_t exactly for j < t < last_use[j], t not reading j.
    std::vector<int> last_use(n, 0);
    for (int j = 0; j < n; ++j) {
      last_use[j] = graph.is_output[j] ? n : (graph.users[j].empty() ? j : graph.users[j].back());
    }
    // Bytes resident at node t's first computation when nothing is dropped: the fixed bytes,
    // t's output, and every tensor live across t or read by t (its inputs die at t or later).
    std::vector<int64_t> across(n + 1, 0);  // difference array over t in (j, last_use[j])
    for (int j = 0; j < n; ++j) {
      if (last_use[j] > j + 1) {
        across[j + 1] += graph.nodes[j].bytes;
        across[last_use[j]] -= graph.nodes[j].bytes;
      }
    }
    std::vector<int> rows;
    std::vector<double> excess(n, 0);
    std::vector<int> stamp(n, -1);
    int64_t live = 0;
    for (int t = 0; t < n; ++t) {
      live += across[t];
      int64_t forced = graph.fixed_bytes + graph.nodes[t].bytes;
      int64_t droppable = live;
      for (int i : graph.nodes[t].inputs) {
        if (stamp[i] == t) continue;
        stamp[i] = t;
        forced += graph.nodes[i].bytes;
        if (last_use[i] > t) droppable -= graph.nodes[i].bytes;  // counted in `live` too
      }
      if (forced > budget) {
        plan.status = fmt::format(
            "infeasible: node '{}' needs {} bytes with its inputs and the fixed bytes alone, "
            "over the budget of {}",
            graph.nodes[t].name, forced, budget);
        return plan;
      }
      const int64_t over = forced + droppable - budget;
      if (over <= 0) continue;
      if (droppable < over) {
        plan.status = fmt::format(
            "infeasible in Checkmate's model: at node '{}' dropping every other live tensor "
            "leaves {} bytes over the budget",
            graph.nodes[t].name, over - droppable);
        return plan;
      }
      rows.push_back(t);
      excess[t] = static_cast<double>(over);
    }
    const double total = graph.TotalCost();
    plan.lower_bound = total;
    if (rows.empty()) {
      plan.status = "no stage is above the budget with everything kept: every node once";
      return plan;
    }
    // The most constrained stages first: the first sweep then starts from the strongest
    // single-stage bounds.
    std::stable_sort(rows.begin(), rows.end(),
                     [&](int a, int b) { return excess[a] > excess[b]; });

    std::vector<double> mu(n, 0.0), sum_mu(n, 0.0);
    auto value = [&] {
      double v = 0;
      for (int t : rows) v += mu[t] * excess[t];
      for (int j = 0; j < n; ++j) {
        const double b = static_cast<double>(graph.nodes[j].bytes);
        v += std::min(0.0, graph.nodes[j].cost - b * sum_mu[j]);
      }
      return v;
    };
    std::vector<std::pair<double, int>> breaks;  // (break point, j)
    double best = 0;
    int sweeps = 0;
    bool converged = false;
    bool stopped = false;
    std::fill(stamp.begin(), stamp.end(), -1);
    while (!converged && !stopped) {
      for (size_t r = 0; r < rows.size(); ++r) {
        if ((r & 15) == 0 && options.deadline.Expired()) {
          stopped = true;
          break;
        }
        const int t = rows[r];
        for (int i : graph.nodes[t].inputs) stamp[i] = t;
        breaks.clear();
        for (int j = 0; j < t; ++j) {
          if (last_use[j] <= t || stamp[j] == t || graph.nodes[j].bytes <= 0) continue;
          const double b = static_cast<double>(graph.nodes[j].bytes);
          breaks.emplace_back(graph.nodes[j].cost / b - (sum_mu[j] - mu[t]), j);
        }
        std::sort(breaks.begin(), breaks.end());
        // The slope in mu_t is e_t minus the bytes of the tensors whose break point is below
        // mu_t: the maximum is at the first break point where those bytes reach e_t.
        double covered = 0;
        double best_mu = 0;
        for (const auto& [point, j] : breaks) {
          covered += static_cast<double>(graph.nodes[j].bytes);
          if (covered >= excess[t]) {
            best_mu = std::max(0.0, point);
            break;
          }
        }
        const double delta = best_mu - mu[t];
        if (delta != 0) {
          for (const auto& entry : breaks) sum_mu[entry.second] += delta;
          mu[t] = best_mu;
        }
      }
      // Any mu >= 0 gives a valid bound, a sweep cut short by the clock included.
      const double v = value();
      if (!stopped) {
        ++sweeps;
        converged = v <= best + 1e-9 * std::max(total, 1e-300);
      }
      best = std::max(best, v);
    }
    // Coordinate ascent stops at the first point where no single multiplier can rise, which on
    // a non-smooth function may be a kink well below the maximum. Subgradient steps move all
    // multipliers at once: g_t = e_t minus the bytes of L_t whose tensors the current mu
    // drops (c_j < b_j S_j), each step O(n + edges) through prefix sums over the stages.
    int steps = 0;
    if (!stopped) {
      std::vector<double> prefix(n + 1, 0.0), covered(n + 1, 0.0), g(n, 0.0);
      std::vector<char> drop(n, 0);
      std::vector<double> best_mu = mu;
      double theta = 1.0;
      int since_better = 0;
      constexpr int kMaxSteps = 300;
      for (; steps < kMaxSteps && !options.deadline.Expired(); ++steps) {
        // S_j: the multipliers of the stages strictly between j and its last use, less those of
        // the stages that read j (there it is an input, not in L_t).
        for (int t = 0; t < n; ++t) prefix[t + 1] = prefix[t] + mu[t];
        std::fill(covered.begin(), covered.end(), 0.0);
        for (int j = 0; j < n; ++j) {
          drop[j] = 0;
          if (last_use[j] <= j + 1 || graph.nodes[j].bytes <= 0) continue;
          double s_j = prefix[last_use[j]] - prefix[j + 1];
          int previous = -1;
          for (int u : graph.users[j]) {
            if (u != previous && u < last_use[j]) s_j -= mu[u];
            previous = u;
          }
          sum_mu[j] = s_j;
          const double b = static_cast<double>(graph.nodes[j].bytes);
          if (graph.nodes[j].cost < b * s_j) {
            drop[j] = 1;
            covered[j + 1] += b;
            covered[last_use[j]] -= b;
          }
        }
        double running = 0, norm = 0;
        for (int t = 0; t < n; ++t) {
          running += covered[t];
          g[t] = 0;
          if (excess[t] <= 0) continue;
          double c = running;
          for (int i : graph.nodes[t].inputs) {
            if (stamp[i] == -2 - t) continue;  // each input once
            stamp[i] = -2 - t;
            if (drop[i] && last_use[i] > t) c -= static_cast<double>(graph.nodes[i].bytes);
          }
          g[t] = excess[t] - c;
          if (mu[t] <= 0 && g[t] < 0) g[t] = 0;  // projected: mu_t cannot go below 0
          norm += g[t] * g[t];
        }
        // sum_mu of a tensor in no L_t (or of no bytes) was never raised, so value() holds.
        const double v = value();
        if (v > best + 1e-12 * std::max(total, 1e-300)) {
          best = v;
          best_mu = mu;
          since_better = 0;
        } else if (++since_better >= 10) {
          theta *= 0.5;
          since_better = 0;
          mu = best_mu;
          continue;
        }
        if (norm <= 0 || theta < 1e-4) break;
        // Polyak's step towards a target a little above the best bound so far.
        const double target = best + 0.05 * std::max(best, 1e-3 * total);
        const double step = theta * (target - v) / norm;
        for (int t : rows) mu[t] = std::max(0.0, mu[t] + step * g[t]);
      }
    }
    // Rounding in the sums above is far below this margin.
    plan.lower_bound = total + std::max(0.0, best) * (1 - 1e-9);
    // Complete once a whole sweep is done: the bound is then at least every stage's own
    // knapsack bound.
    plan.bound_complete = sweeps > 0;
    plan.status = fmt::format(
        "Lagrangian bound over {} stages above the budget, {} sweeps and {} subgradient steps{}",
        rows.size(), sweeps, steps, converged ? "" : ", stopped at the time limit");
    return plan;
  }
};

}  // namespace

std::unique_ptr<Solver> MakeLagrangianBoundSolver() {
  return std::make_unique<LagrangianBoundSolver>();
}

}  // namespace sysopt::remat
