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

#include "sysopt/core/rng.h"
#include "sysopt/remat/checkpoints.h"
#include "sysopt/remat/solver.h"

namespace sysopt::remat {
namespace {

// Cost and memory of a stage plan, counted as Simulate counts the schedule built from it.
struct Profile {
  double cost = 0;
  int64_t peak = 0;
  double excess = 0;  // sum over compute steps of the bytes above the budget, in budget rooms
};

// One gap: node `node` is touched (computed or read) in stages `from` and `to` (from < to) and
// in none between. It is kept when stored[t][node] holds for every t in (from, to].
struct Gap {
  int node, from, to;
};

// A stage plan kept up to date under flips: flipping a gap of node i between stages `from` and
// `to` changes stored[s][i] for s in (from, to] only, so only stages from..to are recomputed.
class SearchState {
 public:
  SearchState(const Graph& graph, int64_t budget, const StagePlan& plan)
      : graph_(graph), budget_(budget), n_(graph.size()) {
    room_ = static_cast<double>(std::max<int64_t>(1, budget - graph.fixed_bytes));
    Reset(plan.stored);
  }

  // Starts over from `stored` (normalised as PlanFromStored does).
  void Reset(const std::vector<std::vector<char>>& stored) {
    StagePlan plan = PlanFromStored(graph_, stored);
    stored_ = std::move(plan.stored);
    compute_ = std::move(plan.compute);
    lists_.assign(n_, {});
    for (int t = 0; t < n_; ++t) RebuildList(t);
    profile_ = Evaluate();
    RebuildGaps();
  }

  const std::vector<std::vector<char>>& stored() const { return stored_; }
  const Profile& profile() const { return profile_; }
  const std::vector<Gap>& gaps() const { return gaps_; }

  bool Kept(const Gap& gap) const {
    for (int s = gap.from + 1; s <= gap.to; ++s) {
      if (!stored_[s][gap.node]) return false;
    }
    return true;
  }

  // Flips `gap` (kept <-> dropped) and returns the new profile; Undo() restores the state.
  // Only stages `from` (what it keeps changes) and `to` (what it finds stored changes) are
  // recomputed: no stage strictly inside the gap reads or computes the node, before the flip
  // or after it (it is either stored on both sides of such a stage or on neither), so their
  // compute sets stay as they are.
  Profile Flip(const Gap& gap) {
    flipped_ = gap;
    const char value = Kept(gap) ? 0 : 1;
    saved_stored_.clear();
    for (int s = gap.from + 1; s <= gap.to; ++s) {
      saved_stored_.push_back(stored_[s][gap.node]);
      stored_[s][gap.node] = value;
    }
    for (int k = 0; k < 2; ++k) {
      const int t = k == 0 ? gap.from : gap.to;
      saved_compute_[k] = compute_[t];
      saved_lists_[k] = lists_[t];
      ComputeStageFromStored(graph_, t, stored_[t], stored_[t + 1], compute_[t]);
      RebuildList(t);
    }
    saved_profile_ = profile_;
    profile_ = Evaluate();
    return profile_;
  }

  // Keeps the last flip: the gap list changes with the plan.
  void Commit() { RebuildGaps(); }

  void Undo() {
    const Gap& gap = flipped_;
    for (int s = gap.from + 1; s <= gap.to; ++s) {
      stored_[s][gap.node] = saved_stored_[s - gap.from - 1];
    }
    for (int k = 0; k < 2; ++k) {
      const int t = k == 0 ? gap.from : gap.to;
      compute_[t].swap(saved_compute_[k]);
      lists_[t].swap(saved_lists_[k]);
    }
    profile_ = saved_profile_;
  }

 private:
  void RebuildList(int t) {
    lists_[t].clear();
    for (int i = 0; i <= t; ++i) {
      if (compute_[t][i]) lists_[t].push_back(i);
    }
  }

  // Cost and memory of the compute order (stages in order, ascending within a stage), freeing
  // each tensor after its last read exactly as ScheduleFromComputeOrder and Simulate do.
  Profile Evaluate() {
    order_.clear();
    for (int t = 0; t < n_; ++t) order_.insert(order_.end(), lists_[t].begin(), lists_[t].end());
    const int m = static_cast<int>(order_.size());
    last_use_.assign(n_, -1);
    live_.assign(n_, 0);
    freed_after_.assign(m, 0);
    for (int p = 0; p < m; ++p) {
      const int v = order_[p];
      for (int input : graph_.nodes[v].inputs) last_use_[input] = p;
      if (live_[v]) freed_after_[last_use_[v]] += graph_.nodes[v].bytes;
      live_[v] = 1;
      last_use_[v] = p;
    }
    for (int v = 0; v < n_; ++v) {
      if (live_[v] && !graph_.is_output[v]) freed_after_[last_use_[v]] += graph_.nodes[v].bytes;
    }
    Profile profile;
    int64_t memory = graph_.fixed_bytes;
    profile.peak = memory;
    for (int p = 0; p < m; ++p) {
      const Node& node = graph_.nodes[order_[p]];
      memory += node.bytes;
      profile.cost += node.cost;
      profile.peak = std::max(profile.peak, memory);
      if (memory > budget_) profile.excess += static_cast<double>(memory - budget_) / room_;
      memory -= freed_after_[p];
    }
    return profile;
  }

  // The gaps of every node: consecutive stages that compute or read it.
  void RebuildGaps() {
    gaps_.clear();
    last_touch_.assign(n_, -1);
    auto touch = [&](int i, int t) {
      const int from = last_touch_[i];
      if (from >= 0 && from < t) gaps_.push_back({i, from, t});
      last_touch_[i] = t;
    };
    for (int t = 0; t < n_; ++t) {
      for (int k : lists_[t]) {
        for (int input : graph_.nodes[k].inputs) touch(input, t);
        touch(k, t);
      }
    }
  }

  const Graph& graph_;
  int64_t budget_;
  int n_;
  double room_ = 1;
  std::vector<std::vector<char>> stored_, compute_;
  std::vector<std::vector<int>> lists_;
  Profile profile_;
  std::vector<Gap> gaps_;
  // Undo buffers of the last flip.
  Gap flipped_{};
  std::vector<char> saved_stored_;
  std::vector<char> saved_compute_[2];  // stages `from` and `to`
  std::vector<int> saved_lists_[2];
  Profile saved_profile_;
  // Scratch.
  std::vector<int> order_, last_use_, last_touch_;
  std::vector<char> live_;
  std::vector<int64_t> freed_after_;
};

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

    // The start: the checkpoint search within a third of the time.
    SolveOptions search_options = options;
    search_options.time_limit_s = options.time_limit_s / 3.0;
    int policy_evaluations = 0;
    const CheckpointEval seed = SearchCheckpoints(graph, search_options, &policy_evaluations);

    SearchState state(graph, budget, seed.stages);
    std::vector<std::vector<char>> best = state.stored();
    Profile best_profile = state.profile();
    bool best_fits = best_profile.peak <= budget;
    auto at_bound = [&] { return best_fits && best_profile.cost <= total; };

    Rng rng(DeriveSeed(options.seed, 31));
    auto pick = [&](bool want_kept) -> Gap {
      // Mostly gaps of the kind that helps: dropping when over the budget, keeping when within.
      const std::vector<Gap>& gaps = state.gaps();
      const bool targeted = Uniform01(rng) < 0.7;
      for (int tries = 0; tries < 8; ++tries) {
        const Gap& gap = gaps[UniformIndex(rng, gaps.size())];
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
      const double anneal_time = options.time_limit_s - anneal_start;
      if (anneal_time <= 0 || (anneal > 0 && anneal_time < last_anneal_seconds)) break;
      ++anneals;
      state.Reset(seed.stages.stored);
      // Penalty weight: cost units per budget room of excess (summed over steps).
      double penalty = total;
      auto score = [&](const Profile& p) { return p.cost + penalty * p.excess; };
      int window_over = 0;
      int window = 0;
      int since_best = 0;
      std::vector<std::vector<char>> anneal_best = state.stored();
      Profile anneal_best_profile = state.profile();
      bool anneal_best_fits = anneal_best_profile.peak <= budget;
      for (int move = 0; move < moves_per_anneal && !state.gaps().empty() && !at_bound();
           ++move) {
        double progress = static_cast<double>(move) / moves_per_anneal;
        if ((move & 63) == 0) {
          const double used = (elapsed() - anneal_start) / anneal_time;
          if (used >= 1.0) break;
          progress = std::max(progress, used);
        }
        const double temperature = start_temperature * std::pow(1e-3, progress);
        const Profile before = state.profile();
        const Profile after = state.Flip(pick(/*want_kept=*/before.peak > budget));
        ++moves;
        const double delta = score(after) - score(before);
        if (delta <= 0 || Uniform01(rng) < std::exp(-delta / temperature)) {
          state.Commit();
        } else {
          state.Undo();
        }
        const Profile& now = state.profile();
        const bool fits = now.peak <= budget;
        if ((fits && (!best_fits || now.cost < best_profile.cost)) ||
            (!fits && !best_fits && now.peak < best_profile.peak)) {
          best = state.stored();
          best_profile = now;
          best_fits = fits;
        }
        if ((fits && (!anneal_best_fits || now.cost < anneal_best_profile.cost)) ||
            (!fits && !anneal_best_fits && now.peak < anneal_best_profile.peak)) {
          anneal_best = state.stored();
          anneal_best_profile = now;
          anneal_best_fits = fits;
          since_best = 0;
        } else if (++since_best > kPatience * std::max(n, 50)) {
          state.Reset(anneal_best);
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
      last_anneal_seconds = elapsed() - anneal_start;
    }
    Plan plan = PlanFromStages(graph, PlanFromStored(graph, best), budget);
    plan.proven_optimal = plan.feasible && best_profile.cost <= total;
    plan.status = fmt::format("{} policy evaluations, {} anneals, {} stage moves",
                              policy_evaluations, anneals, moves);
    return plan;
  }
};

}  // namespace

std::unique_ptr<Solver> MakeStageSearchSolver() { return std::make_unique<StageSearchSolver>(); }

}  // namespace sysopt::remat
