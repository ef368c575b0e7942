#pragma once
/// \file
/// \brief The stage search's state: a plan in Checkmate's stored sets, kept up to date under
/// flips of one *gap* of one tensor, with its cost and memory counted as the simulator counts
/// them. Internal to the remat part (used by the stage-search solver and its tests).

#include <cstdint>
#include <vector>

#include "sysopt/remat/graph.h"
#include "sysopt/remat/stages.h"

namespace sysopt::remat {

/// \brief Cost and memory of a stage plan, as Simulate counts the schedule built from it.
struct StageProfile {
  double cost = 0;
  int64_t peak = 0;   ///< Peak bytes, fixed bytes included.
  double excess = 0;  ///< Sum over compute steps of the bytes above the budget, in budget rooms.
};

/// \brief One gap: `node` is touched (computed or read) in stages `from` and `to`
/// (from < to) and in none between. It is kept when stored[t][node] holds for every t in
/// (from, to].
struct StageGap {
  int node = 0, from = 0, to = 0;
  bool operator==(const StageGap&) const = default;
};

/// \brief A stage plan under gap flips. Flipping a gap of node i changes stored[s][i] for s in
/// (from, to] only, and only stages `from` (what it keeps changes) and `to` (what it finds
/// stored changes) are recomputed: no stage strictly inside the gap reads or computes the
/// node, before the flip or after it (the node is either stored on both sides of such a stage
/// or on neither), so their compute sets stay as they are.
///
/// Everything is sparse and incremental, so that a flip costs about the size of the two stages
/// it recomputes (times log n), not n^2: stored sets as runs per node, the touches (stages that
/// compute or read a node) per node, and the memory profile split into the bytes each stage
/// finds resident on entry (tensors kept across the boundary) plus each stage's own profile
/// relative to that, the two combined in a segment tree over stages that keeps the peak and
/// the excess under range additions.
class StageSearchState {
 public:
  /// \brief Sums of many byte counts (up to n^2 steps of up to kMaxGraphBytes each).
  __extension__ typedef __int128 WideSum;

  /// \brief Starts from a dense plan (its stored sets, normalised as PlanFromStored does).
  StageSearchState(const Graph& graph, int64_t budget, const StagePlan& plan);
  /// \brief Starts from stored runs (normalised as StoredRuns says).
  StageSearchState(const Graph& graph, int64_t budget, const StoredRuns& stored);

  /// \brief Starts over from `stored` (normalised as StoredRuns says).
  void Reset(const StoredRuns& stored);

  /// \brief The current stored sets, as runs (a snapshot costs their size, not n^2).
  const StoredRuns& stored() const { return runs_; }
  /// \brief Nodes stage t computes, ascending.
  const std::vector<int>& stage(int t) const { return lists_[t]; }
  /// \brief All compute steps in stage order: the plan's ComputeOrder.
  std::vector<int> ComputeOrder() const;
  const StageProfile& profile() const { return profile_; }
  /// \brief The gaps of the current plan, in no particular order (valid at any time; a flip
  /// and its undo may reorder them).
  const std::vector<StageGap>& gaps() const { return gaps_; }

  /// \brief Whether the tensor is stored across the whole gap.
  bool Kept(const StageGap& gap) const;

  /// \brief Flips `gap` (kept <-> dropped) and returns the new profile. Either Commit() or
  /// Undo() must follow before the next flip.
  StageProfile Flip(const StageGap& gap);
  /// \brief Keeps the last flip.
  void Commit() {}
  /// \brief Restores the plan before the last flip.
  void Undo();

 private:
  // How a stage touches a node.
  enum Kind : char { kNone = 0, kRead = 1, kComputed = 2 };
  struct Touch {
    int stage = 0;
    Kind kind = kNone;
    int gap = -1;  // index in gaps_ of the gap from this touch to the next, or -1
  };
  // Segment tree node over a range of stages: `max` of the memory over its compute steps (fixed
  // bytes left out), and over the steps above the threshold (budget - fixed) their number,
  // the sum of their amounts above it, and the least of them; the highest step not above.
  struct TreeNode {
    int64_t max = 0;
    int64_t count = 0;
    WideSum sum = 0;
    int64_t above_min = 0;  // valid when count > 0
    int64_t below_max = 0;  // valid when has_below
    bool has_below = false;
    int64_t lazy = 0;
    double cost = 0;
  };

  bool Stored(int t, int node) const;
  void SetRange(int node, int from, int to, bool value);
  void AddStart(int node, int stage);
  void RemoveStart(int node, int stage);
  void ComputeStage(int t, std::vector<int>& list);
  void ReplaceStage(int t, std::vector<int>& list);
  void ChangeTouch(int node, int t, Kind old_kind, Kind new_kind);
  int TouchIndex(int node, int t) const;
  bool CarriedOut(int node, int touch_index) const;
  void AddGap(int node, int touch_index);
  void RemoveGap(int gap);
  void RebuildLocal(int t);
  void Settle();
  StageProfile ReadProfile() const;

  // Segment tree.
  void BuildTree(int node, int lo, int hi);
  void LeafFromLocal(int node, int t);
  void Pull(int node);
  bool CanShift(const TreeNode& node, int64_t delta) const;
  void Shift(int node, int lo, int hi, int64_t delta);
  void Push(int node, int lo, int hi);
  void RangeAdd(int node, int lo, int hi, int l, int r, int64_t delta);
  void UpdateLeaf(int node, int lo, int hi, int t);
  void CarryAdd(int from_stage, int to_stage, int64_t delta);

  const Graph& graph_;
  int n_;
  int64_t threshold_;  // budget - fixed bytes
  double room_ = 1;
  StoredRuns runs_;
  std::vector<std::vector<int>> starts_;  // starts_[t]: nodes whose run begins at t + 1
  std::vector<std::vector<int>> lists_;   // lists_[t]: the nodes stage t computes, ascending
  std::vector<std::vector<Touch>> touches_;  // per node, by stage
  std::vector<StageGap> gaps_;
  // Per stage: memory after each compute step relative to what the stage finds resident,
  // sorted descending, with prefix sums; the stage's cost; and the bytes resident on entry.
  std::vector<std::vector<int64_t>> local_;
  std::vector<std::vector<WideSum>> local_sum_;
  std::vector<double> stage_cost_;
  std::vector<int64_t> carry_;
  std::vector<TreeNode> tree_;
  StageProfile profile_;
  // Undo record of the last flip.
  StageGap flipped_{};
  std::vector<StageRun> saved_runs_;
  std::vector<int> saved_lists_[2];  // stages `from` and `to`
  // Scratch.
  std::vector<int> dirty_;
  std::vector<int> dirty_mark_;
  std::vector<int> mark_, last_read_;
  int stamp_ = 0;
  std::vector<Kind> old_kind_, new_kind_;
  std::vector<int> changed_, stack_;
};

}  // namespace sysopt::remat
