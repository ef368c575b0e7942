#pragma once
/// \file
/// \brief The time limit a command gets when its spec sets none: derived from how long the
/// successful runs measured so far took, so that one hanging configuration cannot hold a study
/// for minutes when the others finish in seconds.
///
/// Until kWarmupRuns successful runs have been seen there is no limit; from then on the limit
/// of one run is kFactor times the median successful run, and never below kFloorS.
///
/// Thread safety: every method may be called concurrently.

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sysopt {

class DefaultTimeout {
 public:
  static constexpr int kWarmupRuns = 3;
  static constexpr double kFactor = 10;
  static constexpr double kFloorS = 5;

  /// \brief Records the wall time of one successful run.
  void Observe(double run_seconds);

  /// \brief The limit for the next run, or nullopt while too few runs have been seen.
  std::optional<double> Current() const;

  /// \brief How the limit was derived, for a failure reason: "the default limit, 10 x the
  /// median run of 0.2 s and at least 5 s".
  std::string Explain() const;

 private:
  double MedianLocked() const;

  mutable std::mutex mutex_;
  std::vector<double> runs_;
};

}  // namespace sysopt
