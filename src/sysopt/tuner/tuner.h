#pragma once
/// \brief The tuning loop: asks the sampler, runs configurations on K workers, records every
/// result in the study before the next step, until the study holds the budget of finished trials.

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/runner/cancellation.h"
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
  double elapsed_s = 0;             ///< Since this call of Tune (or Confirm) began.
  /// Estimated seconds until the budget (or the time limit) is reached; unset before any
  /// trial of this call finished.
  std::optional<double> eta_s;
  /// Set when the trial measured a configuration already measured: the number of its first
  /// completed trial. Re-measurements count towards the budget like any trial.
  std::optional<int64_t> remeasure_of;
};

struct TuneOptions {
  /// Stop when the study holds this many finished trials, counting those of every process
  /// sharing it: each trial is reserved in the storage only while the budget has room.
  int budget = 50;
  int workers = 1;  ///< Configurations evaluated at once by this process.
  /// Seconds between two heartbeats of this process's running trials; 0: a quarter of the
  /// study's heartbeat grace.
  double heartbeat_interval_s = 0;
  /// Seconds between two reads of the storage while this process waits for the trials of
  /// other processes (the budget is held by running trials, or the sampler waits for results).
  double poll_interval_s = 0.25;
  /// Called (under a lock, from a worker thread) after every finished trial.
  std::function<void(const TuneProgress&)> on_trial;
  /// When set and true, no new trial is started; trials in flight finish.
  const std::atomic<bool>* stop = nullptr;
  /// Borrowed, the one the runner was given: once requested no new trial starts, and the
  /// runner stops those in flight (they are recorded FAILED "interrupted"). The time limit
  /// requests it (with SIGTERM) for the trials still running then.
  Cancellation* cancel = nullptr;
  /// Seconds for this call; 0: no limit. No trial starts after it, and trials in flight at
  /// that moment are stopped through `cancel`.
  double time_limit_s = 0;
};

/// \brief What one call of Tune did.
struct TuneReport {
  int started = 0;         ///< Trials started by this call.
  int failed = 0;          ///< Of those, how many failed.
  bool exhausted = false;  ///< The sampler had nothing left to propose.
  bool stopped = false;    ///< Stopped early on request.
  int interrupted = 0;     ///< Trials stopped while running (a cancellation or the time limit).
  bool time_limit_reached = false;
  int taken = 0;  ///< Proposals another process had reserved first, proposed again.
};

/// \brief Runs the loop. `rerun` holds configurations to evaluate first (those of interrupted
/// trials); when the study is new and the space declares a default, the default goes first.
/// Errors: the sampler cannot propose (e.g. no feasible configuration) or storage fails.
Expected<TuneReport> Tune(Study& study, Sampler& sampler, Runner& runner,
                          const TuneOptions& options, std::vector<Config> rerun);

/// \brief Measures `configs` again, `rounds` times, interleaved: round 1 runs each
/// configuration once in the given order, then round 2, and so on, so that a drift of the
/// machine affects them alike. One trial at a time; each is recorded with attrs "confirm" (its
/// round) and "remeasure_of". Stops early on `options.stop`/`cancel`/`time_limit_s`.
Expected<TuneReport> Confirm(Study& study, Runner& runner, const std::vector<Config>& configs,
                             int rounds, const TuneOptions& options);

/// \brief Turns a runner's result into the outcome a study records.
TrialOutcome OutcomeFromRun(const RunResult& result);

/// \brief The configurations a run evaluates before asking the sampler: `rerun` (those of
/// interrupted trials), preceded by the space's declared default when it is feasible, neither
/// in `rerun` nor in flight, and no trial counting towards the budget has measured it yet.
std::deque<Config> FirstConfigs(const Study& study, std::vector<Config> rerun);

/// \brief The outcome of an evaluation made by the caller: COMPLETE with `values` (one per
/// objective), or FAILED when their number does not match the objectives or one is NaN or
/// infinite (the reason says which, counting from 1).
TrialOutcome OutcomeFromValues(const Study& study, std::vector<double> values);

/// \brief A FAILED outcome with `reason`.
TrialOutcome FailedOutcome(std::string reason);

/// \brief Ask and tell for a caller that evaluates configurations itself (the Python package's
/// `study.ask()` / `study.tell()`): proposals come in the order Tune would make them (the
/// default and interrupted trials first, then the sampler), and each is recorded RUNNING in
/// the study when asked, so another process sees it as in flight.
///
/// Thread safety: Ask and Tell may be called from several threads; Ask calls the sampler under
/// a lock of its own.
class AskTell {
 public:
  /// \brief `study` and `sampler` are borrowed and must outlive this object.
  AskTell(Study& study, Sampler& sampler, std::vector<Config> rerun);

  /// \brief Starts up to `n` trials (n >= 1) under the worker name `worker`. Fewer (possibly
  /// none) means the sampler has nothing left to propose. Errors: the sampler cannot propose,
  /// or storage fails.
  Expected<std::vector<Trial>> Ask(int n, const std::string& worker);

  /// \brief Records the outcome of a trial Ask started; InvalidInput when it is already
  /// finished.
  Expected<TrialRecord> Tell(const Trial& trial, TrialOutcome outcome);

  /// \brief Hands over the configurations queued to go first and not yet asked for (to pass
  /// to Tune as its `rerun`), leaving none queued.
  std::vector<Config> TakeQueued();

 private:
  Study& study_;
  Sampler& sampler_;
  std::mutex mutex_;
  std::deque<Config> queue_;
};

}  // namespace sysopt
