// Checkmate's two-phase rounding: solve the LP relaxation (its optimum bounds every plan in the
// model from below), round the stored matrix S by deterministic thresholds and by randomized
// rounding, then give each rounded S the least recomputation that realises it.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <coin/ClpEventHandler.hpp>
#include <coin/ClpSimplex.hpp>

#include "sysopt/core/rng.h"
#include "sysopt/remat/checkpoints.h"
#include "sysopt/remat/formulation.h"
#include "sysopt/remat/lp_bound.h"
#include "sysopt/remat/solver.h"

namespace sysopt::remat {

namespace {

// CLP's own time limit counts CPU seconds and is checked at its own pace; on a loaded machine
// it runs well past a wall-clock deadline. This handler stops the simplex at the end of any
// iteration past the deadline (CLP status 5).
class ClpDeadlineHandler : public ClpEventHandler {
 public:
  explicit ClpDeadlineHandler(Deadline deadline) : deadline_(deadline) {}
  int event(Event) override { return deadline_.Expired() ? 0 : -1; }
  ClpEventHandler* clone() const override { return new ClpDeadlineHandler(*this); }

 private:
  Deadline deadline_;
};

Expected<LpRelaxation> SolveModelLp(const Graph& graph, std::optional<CheckmateModel> model,
                                    const Deadline& deadline, Deadline::Clock::time_point start) {
  LpRelaxation result;
  if (!model) {
    result.status = "budget does not hold the fixed bytes";
    result.infeasible = true;
    return result;
  }
  ClpSimplex lp;
  lp.setLogLevel(0);
  lp.loadProblem(model->matrix, model->col_lb.data(), model->col_ub.data(), model->objective.data(),
                 model->row_lb.data(), model->row_ub.data());
  // CLP reaches its first event only after its initial factorisation, and finishes the one it
  // is in when stopped: on the 355-node ResNet-50 program that ran about as long as building
  // and loading the program (0.6 s against 0.7 s), so as much time as that is kept back, and
  // the simplex is not started at all when nothing would be left.
  const double setup =
      std::chrono::duration<double>(Deadline::Clock::now() - start).count();
  const Deadline stop = deadline.Sooner(setup);
  int status = 3;
  if (!stop.Expired()) {
    lp.setMaximumSeconds(std::max(0.01, stop.Remaining()));
    ClpDeadlineHandler handler(stop);
    lp.passInEventHandler(&handler);
    lp.dual();
    status = lp.status();
  }
  if (status == 0) {
    result.solved = true;
    result.lower_bound = lp.objectiveValue() / model->cost_scale;
    result.columns.assign(lp.primalColumnSolution(),
                          lp.primalColumnSolution() + lp.numberColumns());
    result.status = "LP optimal";
  } else if (status == 1) {
    result.infeasible = true;
    result.status = "LP infeasible: no plan fits in Checkmate's model";
  } else if (status == 3 || status == 5) {
    result.status = "LP time limit";
    result.stopped = true;
  } else {
    return RuntimeError("CLP failed on the LP relaxation of graph '{}' (status {})", graph.name,
                        status);
  }
  result.model = std::make_shared<CheckmateModel>(std::move(*model));
  return result;
}

}  // namespace

Expected<LpRelaxation> SolveLpRelaxation(const Graph& graph, int64_t budget_bytes,
                                         double time_limit_s) {
  // The clock starts before the program is built: building it counts against the limit.
  const auto start = Deadline::Clock::now();
  const Deadline deadline = Deadline::In(time_limit_s);
  return SolveModelLp(graph, BuildCheckmateModel(graph, budget_bytes), deadline, start);
}

Expected<LpRelaxation> SolveStageBoundaryRelaxation(const Graph& graph, int64_t budget_bytes,
                                                    double time_limit_s) {
  const auto start = Deadline::Clock::now();
  const Deadline deadline = Deadline::In(time_limit_s);
  return SolveModelLp(graph, BuildStageBoundaryRelaxation(graph, budget_bytes), deadline, start);
}

namespace {

class LpRoundingSolver : public Solver {
 public:
  std::string Name() const override { return "lp-rounding"; }

  Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const override {
    const Deadline& deadline = options.deadline;
    Plan plan;
    std::optional<Plan> best;
    double best_cost = 0;
    int candidates = 0;
    auto consider = [&](std::vector<std::vector<char>> stored) {
      ++candidates;
      SimulationResult sim;
      Plan p = PlanFromStages(graph, PlanFromStored(graph, std::move(stored)), options.budget_bytes,
                              &sim);
      if (p.feasible && (!best || sim.cost < best_cost)) {
        best_cost = sim.cost;
        best = std::move(p);
      }
    };
    Rng rng(DeriveSeed(options.seed, 17));
    // As in Checkmate's approximation, later LPs are solved under a reduced budget so that the
    // rounded plans, which overshoot the fractional memory, still fit the real one.
    const int64_t room = options.budget_bytes - graph.fixed_bytes;
    int solved = 0;
    for (double factor : {1.0, 0.9, 0.8, 0.7}) {
      if (deadline.Expired()) break;
      const int64_t budget = graph.fixed_bytes + static_cast<int64_t>(factor * room);
      auto relaxation = SolveLpRelaxation(graph, budget, deadline.Remaining());
      if (!relaxation.ok()) return relaxation.error();
      if (factor == 1.0) {
        plan.status = relaxation->status;
        if (relaxation->solved) plan.lower_bound = relaxation->lower_bound;
        plan.bound_complete = relaxation->solved || relaxation->infeasible;
      }
      if (!relaxation->solved) break;
      ++solved;
      const CheckmateModel& model = *relaxation->model;
      const std::vector<double>& x = relaxation->columns;
      for (double threshold : {0.5, 0.01, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 0.99}) {
        consider(StoredFromColumns(model, x, threshold));
      }
      constexpr int kRandomRoundings = 48;
      for (int k = 0; k < kRandomRoundings && !deadline.Expired(); ++k) {
        std::vector<std::vector<char>> stored(model.n + 1, std::vector<char>(model.n, 0));
        for (int t = 1; t < model.n; ++t) {
          for (int i = 0; i < t; ++i) stored[t][i] = Uniform01(rng) < x[model.s[t][i]];
        }
        consider(std::move(stored));
      }
      // A fitting plan already within 1% of the bound is not worth another LP.
      if (best && plan.lower_bound > 0 && best_cost <= 1.01 * plan.lower_bound) break;
    }
    const std::string status = plan.status;
    if (best) {
      const double lb = plan.lower_bound;
      plan = std::move(*best);
      plan.lower_bound = lb;
    }
    plan.status = fmt::format("{}, {} LPs, {} roundings{}", status, solved, candidates,
                              best ? "" : ", none within budget");
    return plan;
  }
};

// Lower bound only: the stage-boundary relaxation's LP. It gives no schedule; the planner
// takes its bound like any other solver's.
class LpBoundSolver : public Solver {
 public:
  std::string Name() const override { return "lp-bound"; }

  Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const override {
    // Building the program and loading it into CLP take time too; what is left after that
    // goes to the simplex, stopped at the deadline by an event handler.
    auto relaxation = SolveStageBoundaryRelaxation(graph, options.budget_bytes,
                                                   options.deadline.Remaining());
    if (!relaxation.ok()) return relaxation.error();
    Plan plan;
    if (relaxation->solved) plan.lower_bound = relaxation->lower_bound;
    plan.bound_complete = relaxation->solved || relaxation->infeasible;
    plan.status = relaxation->infeasible
                      ? "infeasible in Checkmate's model (stage-boundary LP)"
                      : relaxation->solved ? "stage-boundary " + relaxation->status
                                           : "bound not computed: the stage-boundary LP did "
                                             "not finish within its share of the time limit";
    return plan;
  }
};

}  // namespace

std::unique_ptr<Solver> MakeLpBoundSolver() { return std::make_unique<LpBoundSolver>(); }

std::unique_ptr<Solver> MakeLpRoundingSolver() { return std::make_unique<LpRoundingSolver>(); }

}  // namespace sysopt::remat
