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
};

/// \brief A stage plan under gap flips. Flipping a gap of node i changes stored[s][i] for s in
/// (from, to] only, and only stages `from` (what it keeps changes) and `to` (what it finds
/// stored changes) are recomputed: no stage strictly inside the gap reads or computes the
/// node, before the flip or after it (the node is either stored on both sides of such a stage
/// or on neither), so their compute sets stay as they are.
class StageSearchState {
 public:
  StageSearchState(const Graph& graph, int64_t budget, const StagePlan& plan);

  /// \brief Starts over from `stored` (normalised as PlanFromStored does).
  void Reset(const std::vector<std::vector<char>>& stored);

  const std::vector<std::vector<char>>& stored() const { return stored_; }
  const std::vector<std::vector<char>>& compute() const { return compute_; }
  const StageProfile& profile() const { return profile_; }
  /// \brief The gaps of the current plan (valid after construction, Reset and Commit).
  const std::vector<StageGap>& gaps() const { return gaps_; }

  /// \brief Whether the tensor is stored across the whole gap.
  bool Kept(const StageGap& gap) const;

  /// \brief Flips `gap` (kept <-> dropped) and returns the new profile. Either Commit() or
  /// Undo() must follow before the next flip.
  StageProfile Flip(const StageGap& gap);
  /// \brief Keeps the last flip (the gap list is rebuilt for the new plan).
  void Commit();
  /// \brief Restores the plan before the last flip.
  void Undo();

 private:
  void RebuildList(int t);
  StageProfile Evaluate();
  void RebuildGaps();

  const Graph& graph_;
  int64_t budget_;
  int n_;
  double room_ = 1;
  std::vector<std::vector<char>> stored_, compute_;
  std::vector<std::vector<int>> lists_;  // lists_[t]: the nodes stage t computes, ascending
  StageProfile profile_;
  std::vector<StageGap> gaps_;
  // Undo buffers of the last flip.
  StageGap flipped_{};
  std::vector<char> saved_stored_;
  std::vector<char> saved_compute_[2];  // stages `from` and `to`
  std::vector<int> saved_lists_[2];
  StageProfile saved_profile_;
  // Scratch.
  std::vector<int> order_, last_use_, last_touch_;
  std::vector<char> live_;
  std::vector<int64_t> freed_after_;
};

}  // namespace sysopt::remat
