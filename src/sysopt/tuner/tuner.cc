#include "sysopt/tuner/tuner.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace sysopt {

namespace {

using Clock = std::chrono::steady_clock;

// The first completed trial of the same configuration, if any: a new trial of it re-measures.
std::optional<int64_t> RemeasureOf(const Study& study, const Config& config) {
  return study.FirstCompleteOf(config);
}

// Renews the heartbeat of the study's running trials from a thread of its own, so that a
// trial running for hours is not taken for dead by the other workers.
class HeartbeatThread {
 public:
  HeartbeatThread(Study& study, double interval_s) : study_(study) {
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(std::max(0.05, interval_s)));
    thread_ = std::thread([this, interval] {
      std::unique_lock lock(mutex_);
      while (!cv_.wait_for(lock, interval, [this] { return done_; })) {
        lock.unlock();
        // A failure (the database is away) is retried by the storage and then at the next
        // beat; the grace period is several beats long.
        (void)study_.Beat();
        lock.lock();
      }
    });
  }
  ~HeartbeatThread() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  Study& study_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Stops the trials in flight at the time limit, from a thread of its own: the workers are
// inside the runner then.
class Deadline {
 public:
  Deadline(double limit_s, Cancellation* cancel) : cancel_(cancel) {
    if (limit_s <= 0) return;
    at_ = Clock::now() +
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit_s));
    watcher_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      if (!cv_.wait_until(lock, *at_, [this] { return done_; })) {
        if (cancel_ != nullptr) cancel_->Request(SIGTERM);
      }
    });
  }
  ~Deadline() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
  }
  bool Passed() const { return at_ && Clock::now() >= *at_; }
  std::optional<double> SecondsLeft() const {
    if (!at_) return std::nullopt;
    return std::max(0.0, std::chrono::duration<double>(*at_ - Clock::now()).count());
  }

 private:
  Cancellation* cancel_;
  std::optional<Clock::time_point> at_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread watcher_;
};

bool StopRequested(const TuneOptions& options) {
  return (options.stop != nullptr && options.stop->load()) ||
         (options.cancel != nullptr && options.cancel->requested());
}

TrialOutcome Outcome(const RunResult& result, std::optional<int64_t> remeasure_of) {
  TrialOutcome outcome = OutcomeFromRun(result);
  if (remeasure_of) outcome.attrs["remeasure_of"] = *remeasure_of;
  return outcome;
}

std::optional<double> Eta(double elapsed_s, int done, int remaining,
                          std::optional<double> time_left) {
  if (done <= 0) return std::nullopt;
  double eta = elapsed_s / done * std::max(0, remaining);
  if (time_left) eta = std::min(eta, *time_left);
  return eta;
}

}  // namespace

TrialOutcome OutcomeFromRun(const RunResult& result) {
  TrialOutcome outcome;
  outcome.state = result.ok ? TrialState::kComplete : TrialState::kFailed;
  if (result.ok) outcome.values = result.values;
  outcome.samples = result.samples;
  outcome.failure_reason = result.failure_reason;
  outcome.stderr_tail = result.stderr_tail;
  outcome.attrs = {{"elapsed_s", result.elapsed_s}, {"run_seconds", result.run_seconds}};
  outcome.release = result.interrupted;
  return outcome;
}

std::deque<Config> FirstConfigs(const Study& study, std::vector<Config> rerun) {
  std::deque<Config> queue(std::make_move_iterator(rerun.begin()),
                           std::make_move_iterator(rerun.end()));
  const Space& space = study.space();
  if (space.HasUserDefault()) {
    // The user's default goes first so the summary can say how much better the tuned one is.
    const Config def = space.Default();
    const auto history = study.Finished();
    const bool measured = std::any_of(history.begin(), history.end(), [&](const TrialRecord& t) {
      return t.config == def && CountsTowardsBudget(t);
    });
    const auto pending = study.Pending();
    const bool queued = std::find(queue.begin(), queue.end(), def) != queue.end() ||
                        std::find(pending.begin(), pending.end(), def) != pending.end();
    if (!measured && !queued && space.IsFeasible(def)) queue.push_front(def);
  }
  return queue;
}

TrialOutcome OutcomeFromValues(const Study& study, std::vector<double> values) {
  const size_t want = study.spec().objectives.size();
  if (values.size() != want) {
    return FailedOutcome(fmt::format("{} objective value{} given for {} objective{}", values.size(),
                                     values.size() == 1 ? "" : "s", want, want == 1 ? "" : "s"));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return FailedOutcome(
          fmt::format("objective {} is {}", i + 1, std::isnan(values[i]) ? "NaN" : "infinite"));
    }
  }
  TrialOutcome outcome;
  outcome.state = TrialState::kComplete;
  outcome.samples = {values};
  outcome.values = std::move(values);
  return outcome;
}

TrialOutcome FailedOutcome(std::string reason) {
  TrialOutcome outcome;
  outcome.state = TrialState::kFailed;
  outcome.failure_reason = std::move(reason);
  return outcome;
}

AskTell::AskTell(Study& study, Sampler& sampler, std::vector<Config> rerun)
    : study_(study), sampler_(sampler), queue_(FirstConfigs(study, std::move(rerun))) {}

Expected<std::vector<Trial>> AskTell::Ask(int n, const std::string& worker) {
  if (n < 1) return InvalidInput("ask: the number of trials must be at least 1, got {}", n);
  std::lock_guard lock(mutex_);
  std::vector<Trial> trials;
  // Each is started before the next proposal, so the sampler sees it pending.
  while (static_cast<int>(trials.size()) < n && !queue_.empty()) {
    auto started = study_.Start(queue_.front(), worker);
    if (!started.ok()) return started.error();
    queue_.pop_front();
    trials.push_back(std::move(*started));
  }
  const int wanted = n - static_cast<int>(trials.size());
  if (wanted == 0) return trials;
  const auto [history, pending] = study_.FinishedAndPending();
  auto proposed = sampler_.Ask(
      SamplerContext{study_.space(), study_.spec().objectives, *history, pending}, wanted);
  if (!proposed.ok()) return proposed.error();
  for (const Config& config : *proposed) {
    auto started = study_.Start(config, worker);
    if (!started.ok()) return started.error();
    trials.push_back(std::move(*started));
  }
  return trials;
}

std::vector<Config> AskTell::TakeQueued() {
  std::lock_guard lock(mutex_);
  std::vector<Config> out(std::make_move_iterator(queue_.begin()),
                          std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

Expected<TrialRecord> AskTell::Tell(const Trial& trial, TrialOutcome outcome) {
  // Told twice: say so plainly rather than as a storage failure.
  if (auto state = study_.FinishedState(trial.number)) {
    return InvalidInput(
        "tell: trial #{} of study '{}' is already finished ({}); a finished "
        "trial never changes",
        trial.number, study_.name(), TrialStateName(*state));
  }
  return study_.Finish(trial, std::move(outcome));
}

Expected<TuneReport> Tune(Study& study, Sampler& sampler, Runner& runner,
                          const TuneOptions& options, std::vector<Config> rerun) {
  std::mutex mutex;
  std::condition_variable finished_one;
  bool waiting = false;  // the last Ask proposed nothing while trials were in flight
  TuneReport report;
  std::optional<Error> error;
  int in_flight = 0;
  std::deque<Config> queue = FirstConfigs(study, std::move(rerun));
  const Clock::time_point t0 = Clock::now();
  Deadline deadline(options.time_limit_s, options.cancel);
  const auto& objectives = study.spec().objectives;
  const Space& space = study.space();
  const auto poll = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(0.01, options.poll_interval_s)));

  // Proposals that another process reserved first, and that this process's view may not show
  // yet (a damaged row holds one): the sampler is told they are pending.
  std::vector<Config> taken;
  std::vector<Config> run_here;  // configurations this call started

  // Takes the next configuration to run, or nothing when the loop should end (or, with
  // `waiting` set, when it should wait for trials in flight here or elsewhere). Caller holds
  // mutex.
  auto next = [&]() -> std::optional<Config> {
    if (error || report.exhausted) return std::nullopt;
    if (deadline.Passed()) {
      report.time_limit_reached = true;
      return std::nullopt;
    }
    if (StopRequested(options)) {
      report.stopped = true;
      return std::nullopt;
    }
    // What the other processes did since the last look; trials of gone workers come back.
    auto interrupted = study.Refresh();
    if (!interrupted.ok()) {
      error = interrupted.error();
      return std::nullopt;
    }
    for (auto& c : *interrupted) queue.push_back(std::move(c));
    const int used = study.BudgetUsed();
    if (used >= options.budget) return std::nullopt;
    if (used + study.RunningCount() >= options.budget) {
      // The budget is held by running trials; one may yet be interrupted and need a rerun.
      waiting = true;
      return std::nullopt;
    }
    while (!queue.empty()) {
      Config c = std::move(queue.front());
      queue.pop_front();
      // A configuration to run again that another process has measured meanwhile is done; one
      // measured by this call is measured again, as asked.
      const bool ran_here = std::find(run_here.begin(), run_here.end(), c) != run_here.end();
      if (ran_here || !study.FirstCompleteOf(c)) return c;
    }
    // One snapshot: a trial finishing between two separate reads would be in neither.
    auto [history, pending] = study.FinishedAndPending();
    pending.insert(pending.end(), taken.begin(), taken.end());
    auto proposed = sampler.Ask(SamplerContext{space, objectives, *history, pending}, 1);
    if (!proposed.ok()) {
      error = proposed.error();
      return std::nullopt;
    }
    if (proposed->empty()) {
      // With trials in flight (here or in another process), the sampler may only be waiting
      // for their results (a greedy step, a design): ask again when one finishes. With none,
      // the space is used up.
      if (in_flight > 0 || study.RunningCount() > 0) {
        waiting = true;
      } else {
        report.exhausted = true;
      }
      return std::nullopt;
    }
    return std::move(proposed->front());
  };

  auto work = [&](int index) {
    const std::string worker = WorkerName(index);
    while (true) {
      Trial trial;
      std::optional<int64_t> remeasure_of;
      {
        std::unique_lock lock(mutex);
        std::optional<Config> config;
        for (;;) {
          waiting = false;
          const int before = report.started - in_flight;
          config = next();
          if (config || !waiting) break;
          // A trial finishing here wakes this at once; those of other processes are seen at
          // the next poll.
          finished_one.wait_for(lock, poll, [&] {
            return report.started - in_flight != before || error || StopRequested(options) ||
                   deadline.Passed();
          });
        }
        if (!config) return;
        remeasure_of = RemeasureOf(study, *config);
        // Recorded as RUNNING before it runs: a crash from here on leaves a trace to resume from.
        // Reserved atomically in the storage: no other process runs the same configuration
        // (a re-measurement reserves the configuration's next measurement), and the budget
        // is shared by all.
        const int measurement = remeasure_of ? study.Measurements(*config) : 0;
        auto reserved = study.Reserve(*config, worker, measurement, options.budget);
        if (!reserved.ok()) {
          error = reserved.error();
          return;
        }
        if (reserved->status == ReserveStatus::kTaken) {
          ++report.taken;
          taken.push_back(*config);
          continue;
        }
        if (reserved->status == ReserveStatus::kBudgetFull) {
          // Another process took the last place since the last read: look again after a poll.
          finished_one.wait_for(lock, poll, [&] { return error || StopRequested(options); });
          continue;
        }
        trial = std::move(reserved->trial);
        run_here.push_back(trial.config);
        ++in_flight;
        ++report.started;
      }
      const RunResult result = runner.Run(trial.config, trial.number);
      auto finished = study.Finish(trial, Outcome(result, remeasure_of));
      std::lock_guard lock(mutex);
      --in_flight;
      finished_one.notify_all();
      if (!finished.ok()) {
        error = finished.error();
        return;
      }
      if (result.interrupted) {
        ++report.interrupted;
        if (deadline.Passed()) report.time_limit_reached = true;
      } else if (!result.ok) {
        ++report.failed;
      }
      if (result.fatal && !error) {
        // Every other configuration would fail alike: stop instead of using up the budget.
        error = InvalidInput(
            "{}; every configuration fails this way, so the study stops: check "
            "the command (run.command or the one after --)",
            result.failure_reason);
      }
      if (options.on_trial) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        const int used = study.BudgetUsed();
        options.on_trial(TuneProgress{*finished, used, options.budget, report.failed, study.Best(),
                                      elapsed,
                                      Eta(elapsed, report.started - in_flight - report.interrupted,
                                          options.budget - used, deadline.SecondsLeft()),
                                      remeasure_of});
      }
    }
  };

  const int workers = std::max(1, options.workers);
  {
    HeartbeatThread heartbeat(study, options.heartbeat_interval_s > 0
                                         ? options.heartbeat_interval_s
                                         : study.heartbeat_grace() / 4);
    if (workers == 1) {
      work(0);
    } else {
      std::vector<std::thread> threads;
      for (int i = 0; i < workers; ++i) threads.emplace_back(work, i);
      for (auto& t : threads) t.join();
    }
  }
  if (error) return *error;
  return report;
}

Expected<TuneReport> Confirm(Study& study, Runner& runner, const std::vector<Config>& configs,
                             int rounds, const TuneOptions& options) {
  TuneReport report;
  const Clock::time_point t0 = Clock::now();
  Deadline deadline(options.time_limit_s, options.cancel);
  const int total = rounds * static_cast<int>(configs.size());
  int done = 0;
  for (int round = 1; round <= rounds; ++round) {
    for (const Config& config : configs) {
      if (deadline.Passed()) {
        report.time_limit_reached = true;
        return report;
      }
      if (StopRequested(options)) {
        report.stopped = true;
        return report;
      }
      const std::optional<int64_t> remeasure_of = RemeasureOf(study, config);
      auto trial = study.Start(config, WorkerName(0));
      if (!trial.ok()) return trial.error();
      ++report.started;
      const RunResult result = runner.Run(trial->config, trial->number);
      TrialOutcome outcome = Outcome(result, remeasure_of);
      outcome.attrs["confirm"] = round;
      auto finished = study.Finish(*trial, std::move(outcome));
      if (!finished.ok()) return finished.error();
      ++done;
      if (result.interrupted) {
        ++report.interrupted;
      } else if (!result.ok) {
        ++report.failed;
      }
      if (options.on_trial) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        options.on_trial(TuneProgress{*finished, done, total, report.failed, study.Best(), elapsed,
                                      Eta(elapsed, done, total - done, deadline.SecondsLeft()),
                                      remeasure_of});
      }
    }
  }
  return report;
}

}  // namespace sysopt
