#pragma once
/// \file
/// \brief The command runner: evaluates a configuration by running an external program.
///
/// The argv template's `{name}` placeholders are replaced by the parameter's value (ValueToString;
/// a permutation as comma-separated indices; a sequence given an alphabet in the settings as its
/// item names joined by ',', e.g. "sroa,gvn"); `{{` and `}}` stand for literal braces. A
/// conditional parameter (one that may be inactive) is written `{name?}`: when it is inactive,
/// the whole argument holding the placeholder is left out (so "--restart={restart?}" disappears);
/// a plain `{name}` of a conditional parameter is refused when the runner is made. The program
/// runs without a shell, so a value is always exactly one argument and never code. It also sees
/// the whole configuration as a JSON object (name -> ValueToJson, a sequence with an alphabet as
/// a list of names, an inactive parameter as null) in SYSOPT_CONFIG and, when the trial number
/// is non-negative, SYSOPT_TRIAL.
///
/// The program reports by printing, as the last non-empty line of stdout, either one number
/// (when there is one objective) or a JSON object mapping objective names to numbers. A non-zero
/// exit code, a timeout, a crash by signal, unparseable output, a NaN or infinite value, a missing
/// objective, or a program that cannot be executed each give a failed RunResult with a short
/// reason and the tail of stderr.
///
/// Thread safety: the runner is immutable after construction; Run may be called concurrently.
/// The tuner's environment is captured when the runner is made.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/runner/cancellation.h"
#include "sysopt/runner/default_timeout.h"
#include "sysopt/runner/runner.h"

namespace sysopt {

/// \brief Where a command's objective value comes from.
enum class Measure {
  kOutput,    ///< The program prints it (the rule above).
  kWallTime,  ///< The runner times the program itself: seconds from start to exit.
};

/// \brief How a command is run.
struct CommandSettings {
  std::vector<std::string> command;  ///< argv template; argv[0] is looked up in PATH.
  double timeout_s = 0;              ///< Per repeat; 0: no limit.
  int repeat = 1;                    ///< Runs per configuration, aggregated per objective.
  Aggregate aggregate = Aggregate::kMedian;
  std::string working_dir;  ///< Empty: the current directory. A relative program path such as
                            ///< "./prog" is resolved inside it.
  std::vector<std::pair<std::string, std::string>> env;  ///< Extra environment (overrides).
  /// Per parameter, in order: the alphabet of a sequence parameter, whose values are then shown
  /// by item name; empty entries (or an empty list) show values by index.
  std::vector<std::vector<std::string>> alphabets;
  /// Per parameter, in order: whether it is conditional (may be Inactive), which makes its
  /// placeholders optional ones; an empty list means none is.
  std::vector<bool> conditional;
  Measure measure = Measure::kOutput;
  /// Untimed runs before the measured repeats (their failures fail the trial too).
  int warmup = 0;
  /// An argv template run once after the measured repeats (same placeholders, directory and
  /// environment); a non-zero exit fails the trial ("check failed"). Empty: no check.
  std::vector<std::string> check;
  /// When timeout_s is 0 and this is set, its current limit applies, and every successful run
  /// is reported to it. Shared with whoever seeds it from earlier measurements.
  std::shared_ptr<DefaultTimeout> default_timeout;
  /// Borrowed; when set, a request stops the runs in flight (their results are `interrupted`)
  /// and no further run starts. Must outlive the runner.
  const Cancellation* cancel = nullptr;
};

/// \brief Makes a command runner.
///
/// `parameter_names`: the space's parameter names in order (for placeholders and SYSOPT_CONFIG).
/// `objective_names`: names expected in a JSON output line; a single number is accepted when
/// there is exactly one objective. Fails with kInvalidInput on an empty command, a placeholder
/// naming an unknown parameter, a plain placeholder of a conditional parameter (or an optional
/// one of a parameter that is not), an unbalanced brace, a repeat below 1, a negative or non-finite
/// timeout, an empty objective list or a malformed environment variable name.
Expected<std::unique_ptr<Runner>> MakeCommandRunner(CommandSettings settings,
                                                    std::vector<std::string> parameter_names,
                                                    std::vector<std::string> objective_names);

/// \brief Reads objective values from a program's stdout by the rule above (last non-empty
/// line: a number such as "3", "-2.5e3" or ".138" (as bc prints it), or a JSON object). The error
/// message is the failure reason to record, e.g. "unparseable output: 'hello'" or "objective
/// 'energy' missing from output".
Expected<std::vector<double>> ParseObjectiveOutput(std::string_view output,
                                                   const std::vector<std::string>& objective_names);

}  // namespace sysopt
