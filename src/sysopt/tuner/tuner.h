#pragma once
/// \brief The tuning loop: asks the sampler, runs configurations on K workers, records every
/// result in the study before the next step, until the study holds the budget of finished trials.

#include <atomic>
#include <functional>
#include <optional>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/runner/runner.h"
#include "sysopt/sampler/sampler.h"
#include "sysopt/study/study.h"

namespace sysopt {

/// \brief Progress after each finished trial.
struct TuneProgress {
  const TrialRecord& trial;  ///< The trial just finished.
  int budget_used = 0;       ///< Finished trials counting towards the budget.
  int budget = 0;
  int failed = 0;                   ///< Failed trials of this run.
  std::optional<TrialRecord> best;  ///< Best so far (first objective).
};

struct TuneOptions {
  int budget = 50;  ///< Stop when the study holds this many finished trials.
  int workers = 1;  ///< Configurations evaluated at once.
  /// Called (under a lock, from a worker thread) after every finished trial.
  std::function<void(const TuneProgress&)> on_trial;
  /// When set and true, no new trial is started; trials in flight finish.
  const std::atomic<bool>* stop = nullptr;
};

/// \brief What one call of Tune did.
struct TuneReport {
  int started = 0;         ///< Trials started by this call.
  int failed = 0;          ///< Of those, how many failed.
  bool exhausted = false;  ///< The sampler had nothing left to propose.
  bool stopped = false;    ///< Stopped early on request.
};

/// \brief Runs the loop. `rerun` holds configurations to evaluate first (those of interrupted
/// trials); when the study is new and the space declares a default, the default goes first.
/// Errors: the sampler cannot propose (e.g. no feasible configuration) or storage fails.
Expected<TuneReport> Tune(Study& study, Sampler& sampler, Runner& runner,
                          const TuneOptions& options, std::vector<Config> rerun);

/// \brief Turns a runner's result into the outcome a study records.
TrialOutcome OutcomeFromRun(const RunResult& result);

}  // namespace sysopt
