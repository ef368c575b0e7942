#pragma once
/// \file
/// \brief The Runner interface: evaluates one configuration and reports what happened as a
/// RunResult. A failed measurement (a crash, a timeout, unreadable output) is data recorded in
/// the result, never an exception.
///
/// Concrete runners live beside this header and are created by factories:
/// MakeCommandRunner (command_runner.h) and MakeFunctionRunner (function_runner.h).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/core/value.h"

namespace sysopt {

/// \brief How the samples of repeated runs are combined into one value per objective.
enum class Aggregate { kMedian, kMean, kMin };

/// \brief Reads "median", "mean" or "min".
Expected<Aggregate> ParseAggregate(std::string_view text);

/// \brief The name ParseAggregate reads back ("median", "mean" or "min").
std::string_view AggregateName(Aggregate aggregate);

/// \brief Combines samples (one inner vector per repeat, one value per objective) into one value
/// per objective. The median of an even count is the mean of the two middle values. Returns an
/// empty vector when `samples` is empty. All inner vectors must have the same size.
std::vector<double> AggregateSamples(const std::vector<std::vector<double>>& samples,
                                     Aggregate aggregate);

/// \brief What running one configuration produced.
struct RunResult {
  bool ok = false;
  std::vector<double> values;                ///< Aggregated, one per objective (when ok).
  std::vector<std::vector<double>> samples;  ///< Per successful repeat, one value per objective.
  std::vector<double> run_seconds;           ///< Wall time of each attempted repeat.
  std::string failure_reason;                ///< Short and human readable; empty when ok.
  std::string stderr_tail;                   ///< Last ~2 KB of stderr of the last attempt.
  double elapsed_s = 0;                      ///< Total wall time of all repeats.
  /// Stopped by a cancellation (Ctrl-C, a time limit): the measurement says nothing about the
  /// configuration. failure_reason is then "interrupted".
  bool interrupted = false;
  /// The failure does not depend on the configuration (e.g. the program does not exist), so
  /// every other configuration would fail the same way.
  bool fatal = false;
};

/// \brief Runs configurations.
///
/// Thread safety: Run may be called concurrently from several threads on the same object.
/// Call order: none; a runner is ready to use once its factory returns it.
class Runner {
 public:
  virtual ~Runner() = default;

  /// \brief Evaluates `config` (one value per parameter, in the space's order).
  /// `trial_number` is informational: command runners export it as SYSOPT_TRIAL when it is
  /// non-negative. Never throws for a failing measurement; the failure is in the result.
  virtual RunResult Run(const Config& config, int64_t trial_number) = 0;
};

}  // namespace sysopt
