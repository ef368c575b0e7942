#include "sysopt/remat/stage_state.h"

#include <algorithm>

namespace sysopt::remat {

StageSearchState::StageSearchState(const Graph& graph, int64_t budget, const StagePlan& plan)
    : graph_(graph), budget_(budget), n_(graph.size()) {
  room_ = static_cast<double>(std::max<int64_t>(1, budget - graph.fixed_bytes));
  Reset(plan.stored);
}

void StageSearchState::Reset(const std::vector<std::vector<char>>& stored) {
  StagePlan plan = PlanFromStored(graph_, stored);
  stored_ = std::move(plan.stored);
  compute_ = std::move(plan.compute);
  lists_.assign(n_, {});
  for (int t = 0; t < n_; ++t) RebuildList(t);
  profile_ = Evaluate();
  RebuildGaps();
}

bool StageSearchState::Kept(const StageGap& gap) const {
  for (int s = gap.from + 1; s <= gap.to; ++s) {
    if (!stored_[s][gap.node]) return false;
  }
  return true;
}

StageProfile StageSearchState::Flip(const StageGap& gap) {
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

void StageSearchState::Commit() { RebuildGaps(); }

void StageSearchState::Undo() {
  const StageGap& gap = flipped_;
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

void StageSearchState::RebuildList(int t) {
  lists_[t].clear();
  for (int i = 0; i <= t; ++i) {
    if (compute_[t][i]) lists_[t].push_back(i);
  }
}

// Cost and memory of the compute order (stages in order, ascending within a stage), freeing
// each tensor after its last read exactly as ScheduleFromComputeOrder and Simulate do.
StageProfile StageSearchState::Evaluate() {
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
  StageProfile profile;
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
void StageSearchState::RebuildGaps() {
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

}  // namespace sysopt::remat
