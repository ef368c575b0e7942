// Stage search: refines a plan in the full space of Checkmate's stored sets, where the checkpoint
// policy (one mode per node) cannot express nested recomputation or a tensor kept for some of
// its readers and recomputed for others. A plan is its stored matrix S; PlanFromStored gives it
// the least recomputation, and its memory comes from the liveness-freed compute order, exactly
// as the simulator counts it. Each move flips one *gap* of one tensor: the stages between two
// consecutive stages that touch it (compute or read it) are either all kept (the tensor stays
// resident across the gap) or all dropped (it is recomputed where it is next read). Simulated
// annealing on cost plus an adaptive penalty for memory above the budget, started from the
// checkpoint search's plan, keeps the cheapest plan within the budget.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "sysopt/core/rng.h"
#include "sysopt/remat/checkpoints.h"
#include "sysopt/remat/solver.h"
#include "sysopt/remat/stage_state.h"

namespace sysopt::remat {
namespace {

class StageSearchSolver : public Solver {
 public:
  std::string Name() const override { return "stage-search"; }

  Expected<Plan> Solve(const Graph& graph, const SolveOptions& options) const override {
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    const int64_t budget = options.budget_bytes;
    const int n = graph.size();
    const double total = graph.TotalCost();

    // The start: the checkpoint search (itself started from the better of Chen's baselines
    // and the greedy over kept tensors) within a third of the time left.
    SolveOptions search_options = options;
    search_options.deadline = options.deadline.Share(1.0 / 3.0);
    int policy_evaluations = 0;
    const CheckpointEval seed = SearchCheckpoints(graph, search_options, &policy_evaluations);
    // The anneals stop a little before the deadline: rebuilding, lowering and simulating the
    // final plan (linear in its compute steps), and the clock checks between batches of moves,
    // must still fit.
    const double search_seconds =
        elapsed() + std::min(0.97 * options.deadline.Remaining(),
                             std::max(0.0, options.deadline.Remaining() - 0.05 -
                                               2e-6 * static_cast<double>(n)));

    const StoredRuns seed_stored = SparsePlanFromCheckpoints(graph, seed.checkpoint).stored;
    StageSearchState state(graph, budget, seed_stored);
    StoredRuns best = state.stored();
    StageProfile best_profile = state.profile();
    bool best_fits = best_profile.peak <= budget;
    bool best_pending = false;  // the current state is `best` and has not been copied
    auto at_bound = [&] { return best_fits && best_profile.cost <= total; };

    Rng rng(DeriveSeed(options.seed, 31));
    auto pick = [&](bool want_kept) -> StageGap {
      // Mostly gaps of the kind that helps: dropping when over the budget, keeping when within.
      const std::vector<StageGap>& gaps = state.gaps();
      const bool targeted = Uniform01(rng) < 0.7;
      for (int tries = 0; tries < 8; ++tries) {
        const StageGap& gap = gaps[UniformIndex(rng, gaps.size())];
        if (!targeted || state.Kept(gap) == want_kept) return gap;
      }
      return gaps[UniformIndex(rng, gaps.size())];
    };

    // The start temperature: twice the mean cost change of a few random moves.
    double start_temperature = 0;
    {
      double sum = 0;
      int count = 0;
      for (int k = 0; k < 30 && !state.gaps().empty(); ++k) {
        const double before = state.profile().cost;
        sum += std::abs(state.Flip(pick(Uniform01(rng) < 0.5)).cost - before);
        state.Undo();
        ++count;
      }
      start_temperature = count > 0 ? 2.0 * sum / count : 0.0;
      start_temperature = std::max(start_temperature, 1e-9 * std::max(total, 1e-300));
    }
    // Independent anneals from the checkpoint search's plan, as many as the time allows (up to
    // kMaxAnneals): single anneals end in different local optima, and the best of several is
    // much steadier than one. Each anneal has a fixed number of moves, over which its
    // temperature falls geometrically by a factor of 1000; the first may use all the time left
    // (its cooling then follows the clock), a later one starts only when the time left would
    // let it finish as the one before did.
    // Within an anneal, a walk that has not improved on the anneal's own best plan for
    // kPatience moves per node goes back to it (long walks on large graphs otherwise drift away
    // at high temperature); going back to the best of all anneals instead would make them
    // less independent.
    constexpr int kMaxAnneals = 48;
    constexpr int kPatience = 100;
    const int moves_per_anneal = std::max(20000, 1000 * n);
    int moves = 0;
    int anneals = 0;
    double last_anneal_seconds = 0;
    for (int anneal = 0; anneal < kMaxAnneals && !state.gaps().empty() && !at_bound();
         ++anneal) {
      const double anneal_start = elapsed();
      const double anneal_time = search_seconds - anneal_start;
      if (anneal_time <= 0 || (anneal > 0 && anneal_time < last_anneal_seconds)) break;
      ++anneals;
      state.Reset(seed_stored);
      // Penalty weight: cost units per budget room of excess (summed over steps).
      double penalty = total;
      auto score = [&](const StageProfile& p) { return p.cost + penalty * p.excess; };
      int window_over = 0;
      int window = 0;
      int since_best = 0;
      // Snapshots of the best plans (the stored runs, O(n) vectors) are taken lazily: only
      // when the walk is about to leave a best plan, not at every improvement, which on large
      // graphs would cost more than the moves themselves. `*_pending` says the current state
      // is that best plan and has not been copied yet.
      StoredRuns anneal_best;
      StageProfile anneal_best_profile = state.profile();
      bool anneal_best_fits = anneal_best_profile.peak <= budget;
      bool anneal_pending = true;
      auto save_pending = [&] {
        if (best_pending) best = state.stored();
        if (anneal_pending) anneal_best = state.stored();
        best_pending = anneal_pending = false;
      };
      auto improves = [&](const StageProfile& p, const StageProfile& than, bool than_fits) {
        const bool fits = p.peak <= budget;
        return (fits && (!than_fits || p.cost < than.cost)) ||
               (!fits && !than_fits && p.peak < than.peak);
      };
      for (int move = 0; move < moves_per_anneal && !state.gaps().empty() && !at_bound();
           ++move) {
        double progress = static_cast<double>(move) / moves_per_anneal;
        if ((move & 63) == 0) {
          const double used = (elapsed() - anneal_start) / anneal_time;
          if (used >= 1.0) break;
          progress = std::max(progress, used);
        }
        const double temperature = start_temperature * std::pow(1e-3, progress);
        const StageProfile before = state.profile();
        const StageGap gap = pick(/*want_kept=*/before.peak > budget);
        const StageProfile after = state.Flip(gap);
        ++moves;
        const double delta = score(after) - score(before);
        const bool new_best = improves(after, best_profile, best_fits);
        const bool new_anneal_best = improves(after, anneal_best_profile, anneal_best_fits);
        const bool accepted = delta <= 0 || Uniform01(rng) < std::exp(-delta / temperature);
        if (accepted) {
          if ((best_pending && !new_best) || (anneal_pending && !new_anneal_best)) {
            // Leaving a best plan: copy it first (undo, copy, redo the same flip).
            state.Undo();
            if (best_pending && !new_best) {
              best = state.stored();
              best_pending = false;
            }
            if (anneal_pending && !new_anneal_best) {
              anneal_best = state.stored();
              anneal_pending = false;
            }
            state.Flip(gap);
          }
          state.Commit();
          if (new_best) {
            best_profile = after;
            best_fits = after.peak <= budget;
            best_pending = true;
          }
          if (new_anneal_best) {
            anneal_best_profile = after;
            anneal_best_fits = after.peak <= budget;
            anneal_pending = true;
          }
        } else {
          state.Undo();
        }
        const StageProfile& now = state.profile();
        const bool fits = now.peak <= budget;
        if (accepted && new_anneal_best) {
          since_best = 0;
        } else if (++since_best > kPatience * std::max(n, 50)) {
          save_pending();
          state.Reset(anneal_best);
          anneal_pending = true;
          since_best = 0;
        }
        // Keep the walk near the budget: raise the penalty while it is mostly over, lower it
        // while it is never over.
        window_over += fits ? 0 : 1;
        if (++window == 100) {
          if (window_over > 30) penalty *= 2.0;
          if (window_over < 5) penalty = std::max(penalty * 0.8, 1e-3 * total);
          window = window_over = 0;
        }
      }
      save_pending();
      last_anneal_seconds = elapsed() - anneal_start;
    }
    // The best plan's compute order is PlanFromStored's for its stored sets; lowered without
    // building the n x n matrices.
    state.Reset(best);
    Plan plan;
    plan.schedule = ScheduleFromComputeOrder(graph, state.ComputeOrder());
    plan.has_schedule = true;
    auto simulated = Simulate(graph, plan.schedule);
    if (!simulated.ok()) {
      throw std::logic_error("stage plan invalid: " + simulated.error().message());
    }
    SimulationResult sim = *simulated;
    plan.feasible = sim.peak_bytes <= budget;
    // Never worse than the start, whatever the lowering of the stored sets does to it.
    if (!plan.feasible ? BetterPlan(seed.sim, sim, budget)
                       : (seed.sim.peak_bytes <= budget && seed.sim.cost < sim.cost)) {
      plan.schedule = seed.schedule;
      plan.feasible = seed.sim.peak_bytes <= budget;
      sim = seed.sim;
    }
    plan.proven_optimal = plan.feasible && sim.cost <= total;
    plan.status = fmt::format("{} policy evaluations, {} anneals, {} stage moves",
                              policy_evaluations, anneals, moves);
    return plan;
  }
};

}  // namespace

std::unique_ptr<Solver> MakeStageSearchSolver() { return std::make_unique<StageSearchSolver>(); }

}  // namespace sysopt::remat
