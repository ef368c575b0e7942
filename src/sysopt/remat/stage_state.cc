#include "sysopt/remat/stage_state.h"

#include <algorithm>

namespace sysopt::remat {

// How the simulator's memory is split here. ScheduleFromComputeOrder frees each instance of a
// tensor right after its last read (outputs live to the end). Within a stage the order is
// ascending, so a tensor computed in a stage is read there only by its own new instance; hence
// the instance resident when a stage starts is the one its next touch reads: a tensor is
// resident across the boundaries (p, q] between two consecutive touches p < q exactly when it
// is only read (not computed) at q, which is when the gap (p, q) is kept; after its last touch
// only an output stays. The memory at a compute step of stage t is then
//   fixed + carry[t] + local(t, step),
// where carry[t] sums the tensors resident across boundary t and local() is the stage's own
// walk: + each tensor it computes, - each tensor after its last read in the stage (or right
// after its computation when the stage does not read it) unless it is resident across the
// next boundary. A flip changes the touches of the two recomputed stages only; each changed
// touch of node x at stage t changes carry over (previous touch, t] and whether x stays
// resident after its previous touch, so that stage's local walk is redone too.

StageSearchState::StageSearchState(const Graph& graph, int64_t budget, const StagePlan& plan)
    : StageSearchState(graph, budget, StoredRunsFromDense(graph, plan.stored)) {}

StageSearchState::StageSearchState(const Graph& graph, int64_t budget, const StoredRuns& stored)
    : graph_(graph), n_(graph.size()) {
  threshold_ = budget - graph.fixed_bytes;
  room_ = static_cast<double>(std::max<int64_t>(1, budget - graph.fixed_bytes));
  mark_.assign(n_, 0);
  last_read_.assign(n_, -1);
  dirty_mark_.assign(n_, 0);
  old_kind_.assign(n_, kNone);
  new_kind_.assign(n_, kNone);
  Reset(stored);
}

void StageSearchState::Reset(const StoredRuns& stored) {
  runs_ = stored;
  runs_.resize(n_);
  starts_.assign(n_, {});
  for (int x = 0; x < n_; ++x) {
    for (const StageRun& run : runs_[x]) starts_[run.first - 1].push_back(x);
  }
  lists_.assign(n_, {});
  for (int t = 0; t < n_; ++t) ComputeStage(t, lists_[t]);
  touches_.assign(n_, {});
  for (int t = 0; t < n_; ++t) {
    changed_.clear();
    for (int v : lists_[t]) {
      if (new_kind_[v] == kNone) changed_.push_back(v);
      new_kind_[v] = kComputed;
      for (int input : graph_.nodes[v].inputs) {
        if (new_kind_[input] == kNone) {
          new_kind_[input] = kRead;
          changed_.push_back(input);
        }
      }
    }
    for (int x : changed_) {
      touches_[x].push_back({t, new_kind_[x], -1});
      new_kind_[x] = kNone;
    }
  }
  gaps_.clear();
  std::vector<int64_t> diff(n_ + 1, 0);
  for (int x = 0; x < n_; ++x) {
    const std::vector<Touch>& touches = touches_[x];
    const int64_t bytes = graph_.nodes[x].bytes;
    for (size_t k = 0; k + 1 < touches.size(); ++k) {
      AddGap(x, static_cast<int>(k));
      if (touches[k + 1].kind == kRead) {
        diff[touches[k].stage + 1] += bytes;
        diff[touches[k + 1].stage + 1] -= bytes;
      }
    }
    if (!touches.empty() && graph_.is_output[x]) diff[touches.back().stage + 1] += bytes;
  }
  carry_.assign(n_, 0);
  int64_t carry = 0;
  for (int t = 0; t < n_; ++t) {
    carry += diff[t];
    carry_[t] = carry;
  }
  local_.assign(n_, {});
  local_sum_.assign(n_, {});
  stage_cost_.assign(n_, 0);
  for (int t = 0; t < n_; ++t) RebuildLocal(t);
  tree_.assign(4 * static_cast<size_t>(std::max(n_, 1)), TreeNode{});
  if (n_ > 0) BuildTree(1, 0, n_ - 1);
  profile_ = ReadProfile();
}

std::vector<int> StageSearchState::ComputeOrder() const {
  std::vector<int> order;
  for (const std::vector<int>& list : lists_) order.insert(order.end(), list.begin(), list.end());
  return order;
}

bool StageSearchState::Stored(int t, int node) const {
  const std::vector<StageRun>& runs = runs_[node];
  auto it = std::lower_bound(runs.begin(), runs.end(), t,
                             [](const StageRun& run, int s) { return run.last < s; });
  return it != runs.end() && it->first <= t;
}

bool StageSearchState::Kept(const StageGap& gap) const {
  const std::vector<StageRun>& runs = runs_[gap.node];
  auto it = std::lower_bound(runs.begin(), runs.end(), gap.from + 1,
                             [](const StageRun& run, int s) { return run.last < s; });
  return it != runs.end() && it->first <= gap.from + 1 && it->last >= gap.to;
}

void StageSearchState::AddStart(int node, int stage) { starts_[stage].push_back(node); }

void StageSearchState::RemoveStart(int node, int stage) {
  std::vector<int>& starts = starts_[stage];
  auto it = std::find(starts.begin(), starts.end(), node);
  *it = starts.back();
  starts.pop_back();
}

// Sets stored[s][node] for s in [from, to] and keeps starts_ in step with the runs' firsts.
void StageSearchState::SetRange(int node, int from, int to, bool value) {
  std::vector<StageRun>& runs = runs_[node];
  std::vector<StageRun> out;
  out.reserve(runs.size() + 2);
  auto append = [&](StageRun run) {
    if (!out.empty() && out.back().last + 1 >= run.first) {
      out.back().last = std::max(out.back().last, run.last);
    } else {
      out.push_back(run);
    }
  };
  bool placed = !value;
  for (const StageRun& run : runs) {
    if (!placed && run.first >= from) {
      append({from, to});
      placed = true;
    }
    if (run.first < from) append({run.first, std::min(run.last, from - 1)});
    if (!placed && run.last >= from) {
      append({from, to});
      placed = true;
    }
    if (run.last > to) append({std::max(run.first, to + 1), run.last});
  }
  if (!placed) append({from, to});
  for (const StageRun& run : runs) RemoveStart(node, run.first - 1);
  for (const StageRun& run : out) AddStart(node, run.first - 1);
  runs.swap(out);
}

// Stage t of PlanFromStored: node t, each node whose run begins at t + 1, and recursively each
// input they need that stage t does not find stored.
void StageSearchState::ComputeStage(int t, std::vector<int>& list) {
  list.clear();
  ++stamp_;
  stack_.clear();
  auto reach = [&](int v) {
    if (mark_[v] == stamp_) return;
    mark_[v] = stamp_;
    stack_.push_back(v);
  };
  reach(t);
  for (int v : starts_[t]) reach(v);
  while (!stack_.empty()) {
    const int v = stack_.back();
    stack_.pop_back();
    list.push_back(v);
    for (int input : graph_.nodes[v].inputs) {
      if (mark_[input] != stamp_ && !Stored(t, input)) reach(input);
    }
  }
  std::sort(list.begin(), list.end());
}

// Makes `list` stage t's compute list (the old one is left in `list`), updating the touches it
// changes.
void StageSearchState::ReplaceStage(int t, std::vector<int>& list) {
  // Often one of the two stages keeps its list (e.g. keeping a tensor that stage computes
  // anyway): then nothing it touches changes.
  if (list == lists_[t]) return;
  changed_.clear();
  auto kinds = [&](const std::vector<int>& nodes, std::vector<Kind>& kind) {
    for (int v : nodes) {
      if (old_kind_[v] == kNone && new_kind_[v] == kNone) changed_.push_back(v);
      kind[v] = kComputed;
      for (int input : graph_.nodes[v].inputs) {
        if (kind[input] != kNone) continue;
        if (old_kind_[input] == kNone && new_kind_[input] == kNone) changed_.push_back(input);
        kind[input] = kRead;
      }
    }
  };
  kinds(lists_[t], old_kind_);
  kinds(list, new_kind_);
  for (int x : changed_) {
    if (old_kind_[x] != new_kind_[x]) ChangeTouch(x, t, old_kind_[x], new_kind_[x]);
    old_kind_[x] = new_kind_[x] = kNone;
  }
  lists_[t].swap(list);
  if (!dirty_mark_[t]) {
    dirty_mark_[t] = 1;
    dirty_.push_back(t);
  }
}

int StageSearchState::TouchIndex(int node, int t) const {
  const std::vector<Touch>& touches = touches_[node];
  auto it = std::lower_bound(touches.begin(), touches.end(), t,
                             [](const Touch& touch, int s) { return touch.stage < s; });
  return static_cast<int>(it - touches.begin());
}

bool StageSearchState::CarriedOut(int node, int touch_index) const {
  const std::vector<Touch>& touches = touches_[node];
  if (touch_index + 1 < static_cast<int>(touches.size())) {
    return touches[touch_index + 1].kind == kRead;
  }
  return graph_.is_output[node] != 0;
}

void StageSearchState::ChangeTouch(int node, int t, Kind old_kind, Kind new_kind) {
  std::vector<Touch>& touches = touches_[node];
  const int k = TouchIndex(node, t);
  // Stage `node` always computes the node, so a changed touch (t > node) has one before it.
  const int prev = touches[k - 1].stage;
  const int next = old_kind == kNone ? k : k + 1;
  const bool resident_after =
      next < static_cast<int>(touches.size()) ? touches[next].kind == kRead
                                              : graph_.is_output[node] != 0;
  // Whether the node is resident across (prev, t]: read at t, computed at t, or (no touch at
  // t) as it is across the boundaries after t.
  auto resident = [&](Kind kind) { return kind == kNone ? resident_after : kind == kRead; };
  const int delta = static_cast<int>(resident(new_kind)) - static_cast<int>(resident(old_kind));
  if (delta != 0) {
    CarryAdd(prev + 1, t, delta * graph_.nodes[node].bytes);
    if (!dirty_mark_[prev]) {
      dirty_mark_[prev] = 1;
      dirty_.push_back(prev);
    }
  }
  if (old_kind == kNone) {
    if (touches[k - 1].gap >= 0) RemoveGap(touches[k - 1].gap);
    touches.insert(touches.begin() + k, Touch{t, new_kind, -1});
    AddGap(node, k - 1);
    if (k + 1 < static_cast<int>(touches.size())) AddGap(node, k);
  } else if (new_kind == kNone) {
    if (touches[k].gap >= 0) RemoveGap(touches[k].gap);
    RemoveGap(touches[k - 1].gap);
    touches.erase(touches.begin() + k);
    if (k < static_cast<int>(touches.size())) AddGap(node, k - 1);
  } else {
    touches[k].kind = new_kind;
  }
}

void StageSearchState::AddGap(int node, int touch_index) {
  std::vector<Touch>& touches = touches_[node];
  touches[touch_index].gap = static_cast<int>(gaps_.size());
  gaps_.push_back({node, touches[touch_index].stage, touches[touch_index + 1].stage});
}

void StageSearchState::RemoveGap(int gap) {
  const StageGap removed = gaps_[gap];
  touches_[removed.node][TouchIndex(removed.node, removed.from)].gap = -1;
  const StageGap last = gaps_.back();
  gaps_.pop_back();
  if (gap == static_cast<int>(gaps_.size())) return;
  gaps_[gap] = last;
  touches_[last.node][TouchIndex(last.node, last.from)].gap = gap;
}

// Stage t's walk relative to what it finds resident (see the top of the file).
void StageSearchState::RebuildLocal(int t) {
  const std::vector<int>& list = lists_[t];
  ++stamp_;
  for (int j = 0; j < static_cast<int>(list.size()); ++j) {
    for (int input : graph_.nodes[list[j]].inputs) {
      mark_[input] = stamp_;
      last_read_[input] = j;
    }
  }
  auto stays = [&](int x) { return CarriedOut(x, TouchIndex(x, t)); };
  std::vector<int64_t>& values = local_[t];
  values.clear();
  int64_t memory = 0;
  double cost = 0;
  for (int j = 0; j < static_cast<int>(list.size()); ++j) {
    const Node& node = graph_.nodes[list[j]];
    memory += node.bytes;
    cost += node.cost;
    values.push_back(memory);
    for (int input : node.inputs) {
      if (last_read_[input] == j && !stays(input)) memory -= graph_.nodes[input].bytes;
    }
    if (mark_[list[j]] != stamp_ && !stays(list[j])) memory -= node.bytes;
  }
  std::sort(values.begin(), values.end(), std::greater<int64_t>());
  std::vector<WideSum>& sums = local_sum_[t];
  sums.assign(values.size() + 1, 0);
  for (size_t j = 0; j < values.size(); ++j) sums[j + 1] = sums[j] + values[j];
  stage_cost_[t] = cost;
}

void StageSearchState::Settle() {
  for (int t : dirty_) {
    RebuildLocal(t);
    UpdateLeaf(1, 0, n_ - 1, t);
    dirty_mark_[t] = 0;
  }
  dirty_.clear();
}

StageProfile StageSearchState::ReadProfile() const {
  StageProfile profile;
  if (n_ == 0) {
    profile.peak = graph_.fixed_bytes;
    return profile;
  }
  const TreeNode& root = tree_[1];
  profile.cost = root.cost;
  profile.peak = graph_.fixed_bytes + root.max;
  profile.excess = static_cast<double>(root.sum) / room_;
  return profile;
}

void StageSearchState::LeafFromLocal(int node, int t) {
  const std::vector<int64_t>& values = local_[t];
  const int64_t carry = carry_[t];
  const int64_t key = threshold_ - carry;
  const int count = static_cast<int>(
      std::partition_point(values.begin(), values.end(), [&](int64_t v) { return v > key; }) -
      values.begin());
  TreeNode& leaf = tree_[node];
  leaf.max = carry + values.front();
  leaf.count = count;
  leaf.sum = local_sum_[t][count] + static_cast<WideSum>(count) * (carry - threshold_);
  leaf.above_min = count > 0 ? carry + values[count - 1] : 0;
  leaf.has_below = count < static_cast<int>(values.size());
  leaf.below_max = leaf.has_below ? carry + values[count] : 0;
  leaf.lazy = 0;
  leaf.cost = stage_cost_[t];
}

void StageSearchState::BuildTree(int node, int lo, int hi) {
  if (lo == hi) {
    LeafFromLocal(node, lo);
    return;
  }
  const int mid = lo + (hi - lo) / 2;
  BuildTree(2 * node, lo, mid);
  BuildTree(2 * node + 1, mid + 1, hi);
  tree_[node].lazy = 0;
  Pull(node);
}

void StageSearchState::Pull(int node) {
  const TreeNode& a = tree_[2 * node];
  const TreeNode& b = tree_[2 * node + 1];
  TreeNode& p = tree_[node];
  p.max = std::max(a.max, b.max);
  p.count = a.count + b.count;
  p.sum = a.sum + b.sum;
  p.above_min = a.count == 0   ? b.above_min
                : b.count == 0 ? a.above_min
                               : std::min(a.above_min, b.above_min);
  p.has_below = a.has_below || b.has_below;
  p.below_max = !a.has_below   ? b.below_max
                : !b.has_below ? a.below_max
                               : std::max(a.below_max, b.below_max);
  p.cost = a.cost + b.cost;
}

// Whether adding `delta` to every step under the node moves none across the threshold, so
// that the node's figures shift without visiting its leaves.
bool StageSearchState::CanShift(const TreeNode& node, int64_t delta) const {
  if (delta > 0) return !node.has_below || node.below_max + delta <= threshold_;
  return node.count == 0 || node.above_min + delta > threshold_;
}

void StageSearchState::Shift(int node, int lo, int hi, int64_t delta) {
  TreeNode& p = tree_[node];
  p.max += delta;
  if (p.has_below) p.below_max += delta;
  if (p.count > 0) p.above_min += delta;
  p.sum += static_cast<WideSum>(p.count) * delta;
  if (lo == hi) {
    carry_[lo] += delta;
  } else {
    p.lazy += delta;
  }
}

void StageSearchState::Push(int node, int lo, int hi) {
  const int64_t lazy = tree_[node].lazy;
  if (lazy == 0) return;
  const int mid = lo + (hi - lo) / 2;
  Shift(2 * node, lo, mid, lazy);
  Shift(2 * node + 1, mid + 1, hi, lazy);
  tree_[node].lazy = 0;
}

// A range addition that descends only where some step crosses the threshold (the excess of a
// step is a kink at the threshold); the crossing leaves are redone from their sorted walks.
void StageSearchState::RangeAdd(int node, int lo, int hi, int l, int r, int64_t delta) {
  if (r < lo || hi < l) return;
  if (l <= lo && hi <= r && CanShift(tree_[node], delta)) {
    Shift(node, lo, hi, delta);
    return;
  }
  if (lo == hi) {
    carry_[lo] += delta;
    LeafFromLocal(node, lo);
    return;
  }
  Push(node, lo, hi);
  const int mid = lo + (hi - lo) / 2;
  RangeAdd(2 * node, lo, mid, l, r, delta);
  RangeAdd(2 * node + 1, mid + 1, hi, l, r, delta);
  Pull(node);
}

void StageSearchState::UpdateLeaf(int node, int lo, int hi, int t) {
  if (lo == hi) {
    LeafFromLocal(node, t);
    return;
  }
  Push(node, lo, hi);
  const int mid = lo + (hi - lo) / 2;
  if (t <= mid) {
    UpdateLeaf(2 * node, lo, mid, t);
  } else {
    UpdateLeaf(2 * node + 1, mid + 1, hi, t);
  }
  Pull(node);
}

void StageSearchState::CarryAdd(int from_stage, int to_stage, int64_t delta) {
  to_stage = std::min(to_stage, n_ - 1);
  if (from_stage > to_stage || delta == 0) return;
  RangeAdd(1, 0, n_ - 1, from_stage, to_stage, delta);
}

StageProfile StageSearchState::Flip(const StageGap& gap) {
  flipped_ = gap;
  saved_runs_ = runs_[gap.node];
  SetRange(gap.node, gap.from + 1, gap.to, !Kept(gap));
  for (int k = 0; k < 2; ++k) {
    const int t = k == 0 ? gap.from : gap.to;
    ComputeStage(t, saved_lists_[k]);
    ReplaceStage(t, saved_lists_[k]);
  }
  Settle();
  profile_ = ReadProfile();
  return profile_;
}

void StageSearchState::Undo() {
  const StageGap& gap = flipped_;
  for (const StageRun& run : runs_[gap.node]) RemoveStart(gap.node, run.first - 1);
  runs_[gap.node].swap(saved_runs_);
  for (const StageRun& run : runs_[gap.node]) AddStart(gap.node, run.first - 1);
  for (int k = 0; k < 2; ++k) ReplaceStage(k == 0 ? gap.from : gap.to, saved_lists_[k]);
  Settle();
  profile_ = ReadProfile();
}

}  // namespace sysopt::remat
