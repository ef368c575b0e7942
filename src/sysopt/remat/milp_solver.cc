// Checkmate's exact program solved by COIN-OR CBC through its C++ library. The checkpoint
// search's plan (itself never worse than the baselines) is handed to CBC as its first incumbent,
// so the answer is never worse than the baselines and the reported gap is CBC's proven one.
// With paging (`milp-paging`), the same program with POET's page-in and page-out variables;
// the incumbent (no paging) is still a solution of it.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <coin/CbcEventHandler.hpp>
#include <coin/CbcHeuristic.hpp>
#include <coin/CbcHeuristicLocal.hpp>
#include <coin/CbcModel.hpp>
#include <coin/CglGomory.hpp>
#include <coin/CglKnapsackCover.hpp>
#include <coin/CglMixedIntegerRounding2.hpp>
#include <coin/CglProbing.hpp>
#include <coin/ClpEventHandler.hpp>
#include <coin/OsiClpSolverInterface.hpp>
#include <stdexcept>

#include "sysopt/remat/checkpoints.h"
#include "sysopt/remat/formulation.h"
#include "sysopt/remat/paging.h"
#include "sysopt/remat/solver.h"

namespace sysopt::remat {
namespace {

// CBC checks its own time limit between nodes only; a root cut loop on a large program can run
// well past it. This handler stops the search at any event past the deadline.
class DeadlineHandler : public CbcEventHandler {
 public:
  explicit DeadlineHandler(std::chrono::steady_clock::time_point deadline)
      : deadline_(deadline) {}
  CbcAction event(CbcEvent) override {
    return std::chrono::steady_clock::now() > deadline_ ? stop : noAction;
  }
  CbcEventHandler* clone() const override { return new DeadlineHandler(*this); }

 private:
  std::chrono::steady_clock::time_point deadline_;
};

// The same for CLP's root LP (its own limit counts CPU seconds).
class ClpDeadlineHandler : public ClpEventHandler {
 public:
  explicit ClpDeadlineHandler(Deadline deadline) : deadline_(deadline) {}
  int event(Event) override { return deadline_.Expired() ? 0 : -1; }
  ClpEventHandler* clone() const override { return new ClpDeadlineHandler(*this); }

 private:
  Deadline deadline_;
};

class MilpSolver : public Solver {
 public:
  explicit MilpSolver(bool paging) : paging_(paging) {}
  std::string Name() const override { return paging_ ? "milp-paging" : "milp"; }
  bool Pages() const override { return paging_; }

  Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const override {
    const Deadline& deadline = options.deadline;
    if (paging_ && !graph.paging) {
      return InvalidInput(
          "graph '{}' has no paging parameters (give it a 'paging' field or use "
          "--page-bandwidth)",
          graph.name);
    }
    std::optional<CheckmateModel> model =
        paging_ ? BuildPagingModel(graph, options.budget_bytes, options.objective)
                : BuildCheckmateModel(graph, options.budget_bytes);
    if (!model) {
      Plan plan;
      plan.status = "budget does not hold the fixed bytes";
      return plan;
    }
    // The incumbent: the checkpoint search (itself seeded by the best baseline) within a fifth
    // of the time, so CBC starts from a good plan and prunes with it from the first node.
    SolveOptions search_options = options;
    search_options.deadline = deadline.Share(0.2);
    const CheckpointEval incumbent = SearchCheckpoints(graph, search_options);
    const bool incumbent_fits = incumbent.sim.peak_bytes <= options.budget_bytes;
    std::optional<std::vector<double>> warm;
    // With paging, the incumbent's recomputations paged where that pays (PageRecomputations,
    // milliseconds here), so the program is never worse than the paging heuristic from it.
    std::optional<Plan> paged;
    if (paging_ && incumbent_fits) {
      PagingPass pass = PageRecomputations(graph, incumbent.schedule, options.budget_bytes,
                                           options.objective, deadline.Share(0.1));
      warm = EncodePagingSchedule(graph, *model, pass.schedule);
      if (pass.replaced > 0) {
        paged = Plan{};
        paged->schedule = std::move(pass.schedule);
        paged->has_schedule = true;
        paged->feasible = true;
      }
    }
    // The incumbent's stage plan (the graphs here are small enough for its matrices).
    const StagePlan incumbent_stages = PlanFromCheckpoints(graph, incumbent.checkpoint);
    if (incumbent_fits && !warm) warm = EncodeStagePlan(graph, *model, incumbent_stages);
    // The plan to fall back on when CBC has none (or none that fits).
    auto fallback = [&]() {
      return paged ? *paged : PlanFromStages(graph, incumbent_stages, options.budget_bytes);
    };

    OsiClpSolverInterface lp;
    lp.messageHandler()->setLogLevel(0);
    lp.loadProblem(model->matrix, model->col_lb.data(), model->col_ub.data(),
                   model->objective.data(), model->row_lb.data(), model->row_ub.data());
    for (size_t c = 0; c < model->integer.size(); ++c) {
      if (model->integer[c]) lp.setInteger(static_cast<int>(c));
    }
    // The root LP alone can exceed the time limit on large graphs, and CBC checks its clock
    // only between nodes: solve the root under the limit first and give up cleanly if it
    // does not finish.
    lp.getModelPtr()->setMaximumSeconds(std::max(0.01, deadline.Remaining()));
    ClpDeadlineHandler root_deadline(deadline);
    lp.getModelPtr()->passInEventHandler(&root_deadline);
    lp.initialSolve();
    if (!lp.isProvenOptimal()) {
      Plan plan;
      if (incumbent_fits) plan = fallback();
      plan.status = lp.isProvenPrimalInfeasible()
                        ? "proven infeasible in Checkmate's model"
                        : "bound not computed: time limit in the root LP; checkpoint search's plan";
      plan.bound_complete = lp.isProvenPrimalInfeasible();
      return plan;
    }
    lp.getModelPtr()->setMaximumSeconds(-1);
    ClpEventHandler no_deadline;
    lp.getModelPtr()->passInEventHandler(&no_deadline);
    CbcModel cbc(lp);
    cbc.setMaximumCutPassesAtRoot(5);
    cbc.setLogLevel(0);
    cbc.messageHandler()->setLogLevel(0);
    cbc.solver()->messageHandler()->setLogLevel(0);
    CglProbing probing;
    probing.setUsingObjective(1);
    probing.setMaxPass(1);
    probing.setMaxProbe(50);
    probing.setMaxLook(20);
    CglGomory gomory;
    CglKnapsackCover knapsack;
    CglMixedIntegerRounding2 mir;
    cbc.addCutGenerator(&probing, -1, "Probing");
    cbc.addCutGenerator(&gomory, -1, "Gomory");
    cbc.addCutGenerator(&knapsack, -1, "Knapsack");
    cbc.addCutGenerator(&mir, -1, "MIR");
    // CBC finishes the LP it is in after the limit (several seconds on a 100-node program, more
    // on a busy machine): leave it 30% of the time.
    const double cbc_seconds = std::max(0.01, 0.7 * deadline.Remaining());
    cbc.setMaximumSeconds(cbc_seconds);
    // Wall-clock seconds, not CPU seconds (on a busy machine these differ by several times).
    cbc.setUseElapsedTime(true);
    DeadlineHandler cbc_deadline(std::chrono::steady_clock::now() +
                             std::chrono::milliseconds(static_cast<int64_t>(1000 * cbc_seconds)));
    cbc.passInEventHandler(&cbc_deadline);
    CbcRounding rounding(cbc);
    CbcHeuristicLocal local(cbc);
    cbc.addHeuristic(&rounding);
    // No feasibility pump: it fires no event while it runs (on the 109-node U-Net program it
    // ran 47 s past the deadline, its own time limit notwithstanding). Rounding, local search
    // and branching still find solutions.
    cbc.addHeuristic(&local);
    cbc.setAllowableGap(1e-7);
    cbc.setAllowableFractionGap(1e-6);
    if (warm) {
      double objective = 0.0;
      for (size_t c = 0; c < warm->size(); ++c) objective += (*warm)[c] * model->objective[c];
      cbc.setBestSolution(warm->data(), static_cast<int>(warm->size()), objective, true);
    }
    cbc.branchAndBound();

    Plan plan;
    const double to_cost = 1.0 / model->cost_scale;
    if (cbc.isProvenInfeasible()) {
      plan.status = "proven infeasible in Checkmate's model";
    }
    if (cbc.bestSolution() != nullptr) {
      std::vector<double> x(cbc.bestSolution(), cbc.bestSolution() + cbc.getNumCols());
      plan = paging_
                 ? PagingPlanFromColumns(graph, *model, x, options)
                 : PlanFromStages(graph, PlanFromStored(graph, StoredFromColumns(*model, x, 0.5)),
                                  options.budget_bytes);
      if (!plan.feasible && incumbent_fits) plan = fallback();
      if (paged && plan.schedule.steps != paged->schedule.steps) {
        // CBC may have dropped the paged incumbent (its accounting of page-ins is
        // conservative) and ended on a worse solution.
        auto mine = Simulate(graph, plan.schedule);
        auto theirs = Simulate(graph, paged->schedule);
        if (mine.ok() && theirs.ok() &&
            ObjectiveValue(*theirs, options.objective) < ObjectiveValue(*mine, options.objective)) {
          plan = *paged;
        }
      }
    } else if (incumbent_fits) {
      // CBC rejected the incumbent (its memory accounting is more conservative than the
      // simulator's); the checkpoint search's plan is still a valid one.
      plan = fallback();
    }
    const double bound = cbc.getBestPossibleObjValue();
    if (std::isfinite(bound) && bound < 1e20 && !cbc.isProvenInfeasible()) {
      plan.lower_bound = bound * to_cost;
    }
    plan.proven_optimal = cbc.isProvenOptimal() && cbc.bestSolution() != nullptr;
    if (plan.status.empty()) {
      if (plan.proven_optimal) {
        plan.status = "optimal";
      } else if (cbc.bestSolution() != nullptr) {
        const double incumbent = cbc.getObjValue();
        plan.status = fmt::format("time limit, CBC gap {:.2f}%",
                                  100.0 * (incumbent - bound) / std::max(bound, 1e-12));
      } else {
        plan.status = "time limit, no integer solution";
      }
    }
    if (!warm) plan.status += ", no warm start";
    return plan;
  }

 private:
  // The schedule of a paging program's solution; a plan without a schedule when it does not
  // fit the budget (then the caller falls back to the incumbent). The lowering never breaks
  // the schedule rules: a failure to simulate is a broken invariant.
  static Plan PagingPlanFromColumns(const Graph& graph, const CheckmateModel& model,
                                    const std::vector<double>& x, const SolveOptions& options) {
    const PagingStages stages = PagingStagesFromColumns(graph, model, x);
    Plan plan;
    Schedule schedule =
        ScheduleFromPagingStages(graph, stages.stored, stages.paged_in, stages.paged_out);
    auto sim = Simulate(graph, schedule);
    if (!sim.ok()) throw std::logic_error("paging plan invalid: " + sim.error().message());
    if (sim->peak_bytes > options.budget_bytes) return plan;
    plan.schedule = std::move(schedule);
    plan.has_schedule = true;
    plan.feasible = true;
    return plan;
  }

  bool paging_;
};

}  // namespace

std::unique_ptr<Solver> MakeMilpSolver() { return std::make_unique<MilpSolver>(false); }
std::unique_ptr<Solver> MakePagingMilpSolver() { return std::make_unique<MilpSolver>(true); }

}  // namespace sysopt::remat
