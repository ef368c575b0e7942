#include "sysopt/runner/default_timeout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sysopt {

void DefaultTimeout::Observe(double run_seconds) {
  if (!std::isfinite(run_seconds) || run_seconds < 0) return;
  std::lock_guard lock(mutex_);
  runs_.push_back(run_seconds);
}

double DefaultTimeout::MedianLocked() const {
  std::vector<double> sorted = runs_;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

std::optional<double> DefaultTimeout::Current() const {
  std::lock_guard lock(mutex_);
  if (runs_.size() < static_cast<size_t>(kWarmupRuns)) return std::nullopt;
  return std::max(kFloorS, kFactor * MedianLocked());
}

std::string DefaultTimeout::Explain() const {
  std::lock_guard lock(mutex_);
  const double median = runs_.empty() ? 0 : MedianLocked();
  return fmt::format("the default limit, {:g} x the median run of {:.3g} s and at least {:g} s",
                     kFactor, median, kFloorS);
}

}  // namespace sysopt
