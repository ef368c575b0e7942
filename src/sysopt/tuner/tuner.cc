#include "sysopt/tuner/tuner.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace sysopt {

TrialOutcome OutcomeFromRun(const RunResult& result) {
  TrialOutcome outcome;
  outcome.state = result.ok ? TrialState::kComplete : TrialState::kFailed;
  if (result.ok) outcome.values = result.values;
  outcome.samples = result.samples;
  outcome.failure_reason = result.failure_reason;
  outcome.stderr_tail = result.stderr_tail;
  outcome.attrs = {{"elapsed_s", result.elapsed_s}, {"run_seconds", result.run_seconds}};
  return outcome;
}

Expected<TuneReport> Tune(Study& study, Sampler& sampler, Runner& runner,
                          const TuneOptions& options, std::vector<Config> rerun) {
  std::mutex mutex;
  std::condition_variable finished_one;
  bool waiting = false;  // the last Ask proposed nothing while trials were in flight
  TuneReport report;
  std::optional<Error> error;
  int in_flight = 0;
  std::deque<Config> queue(rerun.begin(), rerun.end());
  const auto& objectives = study.spec().objectives;
  const Space& space = study.space();
  if (space.HasUserDefault()) {
    // The user's default goes first so the summary can say how much better the tuned one is.
    const Config def = space.Default();
    const auto history = study.Finished();
    const bool measured = std::any_of(history.begin(), history.end(), [&](const TrialRecord& t) {
      return t.config == def && CountsTowardsBudget(t);
    });
    if (!measured && space.IsFeasible(def)) queue.push_front(def);
  }

  // Takes the next configuration to run, or nothing when the loop should end. Caller holds mutex.
  auto next = [&]() -> std::optional<Config> {
    if (error || report.exhausted) return std::nullopt;
    if (options.stop != nullptr && options.stop->load()) {
      report.stopped = true;
      return std::nullopt;
    }
    if (study.BudgetUsed() + in_flight >= options.budget) return std::nullopt;
    if (!queue.empty()) {
      Config c = std::move(queue.front());
      queue.pop_front();
      return c;
    }
    // One snapshot: a trial finishing between two separate reads would be in neither.
    const auto [history, pending] = study.FinishedAndPending();
    auto proposed = sampler.Ask(SamplerContext{space, objectives, history, pending}, 1);
    if (!proposed.ok()) {
      error = proposed.error();
      return std::nullopt;
    }
    if (proposed->empty()) {
      // With trials in flight, the sampler may only be waiting for their results (a greedy
      // step, a design): ask again when one finishes. With none, the space is used up.
      if (in_flight > 0) {
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
      {
        std::unique_lock lock(mutex);
        std::optional<Config> config;
        for (;;) {
          waiting = false;
          const int before = report.started - in_flight;
          config = next();
          if (config || !waiting) break;
          finished_one.wait(lock, [&] { return report.started - in_flight != before || error; });
        }
        if (!config) return;
        // Recorded as RUNNING before it runs: a crash from here on leaves a trace to resume from.
        auto started = study.Start(*config, worker);
        if (!started.ok()) {
          error = started.error();
          return;
        }
        trial = std::move(*started);
        ++in_flight;
        ++report.started;
      }
      const RunResult result = runner.Run(trial.config, trial.number);
      auto finished = study.Finish(trial, OutcomeFromRun(result));
      std::lock_guard lock(mutex);
      --in_flight;
      finished_one.notify_all();
      if (!finished.ok()) {
        error = finished.error();
        return;
      }
      if (!result.ok) ++report.failed;
      if (options.on_trial) {
        options.on_trial(TuneProgress{*finished, study.BudgetUsed(), options.budget, report.failed,
                                      study.Best()});
      }
    }
  };

  const int workers = std::max(1, options.workers);
  if (workers == 1) {
    work(0);
  } else {
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) threads.emplace_back(work, i);
    for (auto& t : threads) t.join();
  }
  if (error) return *error;
  return report;
}

}  // namespace sysopt
