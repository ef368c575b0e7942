// `sysopt tune`: run a study until it holds the budget of finished trials, then summarise.
#include <fmt/core.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "sysopt/cli/command.h"
#include "sysopt/cli/study_access.h"
#include "sysopt/core/duration.h"
#include "sysopt/core/log.h"
#include "sysopt/report/export.h"
#include "sysopt/report/noise.h"
#include "sysopt/runner/replay_runner.h"
#include "sysopt/runner/spec_runner.h"
#include "sysopt/runner/subprocess.h"
#include "sysopt/sampler/sampler.h"
#include "sysopt/space/spec.h"
#include "sysopt/tuner/tuner.h"

namespace sysopt::cli {

namespace {

struct TuneArgs {
  std::string spec_path;
  int budget = 50;
  bool budget_given = false;
  int workers = 1;
  std::string storage = kDefaultStorage;
  std::string study;
  std::string sampler = "auto";
  std::string acquisition = "ei";
  uint64_t seed = 0;
  bool seed_given = false;
  std::string heartbeat_grace;  // empty: kDefaultHeartbeatGraceS
  bool json = false;
  bool quiet = false;
  std::string timeout;     // empty: the spec's, else the default derived from measurements
  int repeat = 0;          // 0: the spec's
  std::string time_limit;  // empty: none (or a T1 file's TuningDuration)
  int confirm = 0;
  std::vector<std::string> command;
  std::string replay;  // a recording to answer from instead of running anything
};

// ---------------------------------------------------------------------------------------------
// Stopping on a signal. The trials run in process groups of their own, so a terminal's Ctrl-C
// reaches only sysopt: the handler passes it on through the cancellation, which every running
// trial's subprocess watches, and the run then records those trials as interrupted, summarises
// and exits 128 + the signal.

Cancellation g_cancel;
std::atomic<int> g_signal{0};
char g_first_message[256];
char g_second_message[160];

extern "C" void OnStopSignal(int sig) {
  const int saved_errno = errno;
  const int count = g_cancel.Request(sig);
  const char* message = nullptr;
  if (count == 1) {
    g_signal.store(sig);
    message = g_first_message;
  } else if (count == 2) {
    message = g_second_message;
  }
  if (message != nullptr) {
    [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, message, strlen(message));
  }
  errno = saved_errno;
}

void InstallStopSignals() {
  snprintf(g_first_message, sizeof(g_first_message),
           "\nsysopt: stopping: passing the signal on to the trials in flight and giving them "
           "%g s to end (press Ctrl-C again to kill them now); then the summary\n",
           Cancellation::kGraceS);
  snprintf(g_second_message, sizeof(g_second_message),
           "\nsysopt: stopping now: killing the trials in flight\n");
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
}

// ---------------------------------------------------------------------------------------------
// Spec and flags.

nlohmann::json TrialSummary(const Study& study, const TrialRecord& t) {
  nlohmann::json values = nlohmann::json::object();
  for (size_t i = 0; i < t.values.size(); ++i)
    values[study.spec().objectives[i].name] = t.values[i];
  return {
      {"number", t.number}, {"config", study.space().ConfigToJson(t.config)}, {"values", values}};
}

// The run section as the flags change it: the command after --, --timeout, --repeat.
Expected<void> ApplyRunFlags(const TuneArgs& args, Spec& spec) {
  if (!args.command.empty()) {
    RunSpec run = spec.run.value_or(RunSpec{});
    if (!spec.run || spec.run->command.empty()) {
      run.working_dir = std::filesystem::current_path().string();
    }
    run.command = args.command;
    spec.run = run;
  }
  if (!args.replay.empty() && (!spec.run || spec.run->command.empty())) return Ok();
  if (!spec.run || spec.run->command.empty()) {
    return InvalidInput(
        "{}: nothing to run: add a \"run\" section to the spec or give the command after --",
        args.spec_path);
  }
  if (!args.timeout.empty()) {
    auto seconds = args.timeout == "none" ? Expected<double>(0.0) : ParseDuration(args.timeout);
    if (!seconds.ok()) return seconds.error().WithContext("--timeout");
    spec.run->timeout_s = *seconds;
  }
  if (args.repeat != 0) {
    if (args.repeat < 1 || args.repeat > 1000) {
      return InvalidInput("--repeat: expected an integer from 1 to 1000, got {}", args.repeat);
    }
    spec.run->repeat = args.repeat;
  }
  return Ok();
}

// With --replay: the recording's answers, and a line on what the recording holds.
Expected<std::unique_ptr<Runner>> MakeReplayRunnerFor(const TuneArgs& args, const Spec& spec) {
  auto table = LoadReplayTable(args.replay, spec);
  if (!table.ok()) return table.error();
  if (!args.quiet) {
    const auto count = spec.space.CountFeasible();
    fmt::print(stderr,
               "sysopt: replaying {} ({} format): {} recorded configurations of the space, {} of "
               "them failed{}{}\n",
               args.replay, table->format, table->entries.size(), table->failed,
               count.finite && count.exact
                   ? fmt::format(", {} not recorded",
                                 std::max<long double>(0, count.value - table->entries.size()))
                   : "",
               table->outside > 0
                   ? fmt::format("; {} outside the space left out", table->outside)
                   : "");
  }
  return MakeReplayRunner(std::make_shared<const ReplayTable>(std::move(*table)));
}

// ---------------------------------------------------------------------------------------------
// Progress: one line per trial, and a note whenever the best value changes for a reason other
// than a new better trial (a re-measurement of the leader).

class Progress {
 public:
  explicit Progress(const Study& study) : study_(study) {
    if (auto best = study.Best()) Remember(*best);
  }

  void operator()(const TuneProgress& p) {
    const auto& t = p.trial;
    std::string what =
        t.state == TrialState::kComplete ? FormatValues(study_, t.values) : t.failure_reason;
    if (p.remeasure_of) what += fmt::format(" (re-measures #{})", *p.remeasure_of);
    const std::string best =
        p.best ? fmt::format("best {} (#{})", FormatValues(study_, p.best->values), p.best->number)
               : "no success yet";
    const std::string eta = p.eta_s ? ", ETA " + FormatDuration(*p.eta_s) : "";
    // The reason is cut here only; the summary and `sysopt export` hold all of it.
    fmt::print(stderr, "[{:>{}}/{}] #{:<4} {:<11} {:<48.48}  {}{}{}\n", p.budget_used,
               std::to_string(p.budget).size(), p.budget, t.number, TrialStateName(t.state), what,
               best, p.failed ? fmt::format(", {} failed", p.failed) : "", eta);
    if (t.state == TrialState::kComplete && !t.samples.empty()) {
      std::vector<double> first;
      for (const auto& s : t.samples) first.push_back(s.at(0));
      if (auto spread = SpreadWarning(first)) {
        fmt::print(stderr, "sysopt: trial #{} is noisy: its {}\n", t.number, *spread);
      }
    }
    if (p.best) Explain(*p.best, p.remeasure_of);
  }

 private:
  void Remember(const TrialRecord& best) {
    best_number_ = best.number;
    best_value_ = best.values.at(0);
  }

  void Explain(const TrialRecord& best, std::optional<int64_t> remeasure_of) {
    const int measurements = best.attrs.value("measurements", 1);
    const std::string name = study_.spec().objectives[0].name;
    if (best_number_ && *best_number_ == best.number && best_value_ != best.values.at(0)) {
      fmt::print(stderr, "sysopt: best #{} re-measured: {} {:.6g} -> {:.6g} (mean of {} trials)\n",
                 best.number, name, best_value_, best.values.at(0), measurements);
    } else if (best_number_ && *best_number_ != best.number && remeasure_of &&
               *remeasure_of == *best_number_) {
      fmt::print(stderr,
                 "sysopt: the leader #{} re-measured worse; the best is now #{} ({} {:.6g})\n",
                 *best_number_, best.number, name, best.values.at(0));
    }
    Remember(best);
  }

  const Study& study_;
  std::optional<int64_t> best_number_;
  double best_value_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The summary.

struct Outcome {
  TuneReport tune;
  std::optional<TuneReport> confirm;  // when --confirm ran
  std::vector<Config> confirmed;      // the configurations it measured again
  double seconds = 0;
  int signal = 0;  // the stop signal, 0 for none
};

std::optional<TrialRecord> Baseline(const Study& s, bool* is_default) {
  *is_default = false;
  if (s.space().HasUserDefault()) {
    const Config def = s.space().Default();
    for (const auto& t : s.Finished()) {
      if (t.config == def && t.state == TrialState::kComplete) {
        *is_default = true;
        return t;
      }
    }
  }
  return s.FirstComplete();
}

std::string FormatInterval(const SampleSummary& x) {
  if (x.n < 2) return fmt::format("{:.6g} (1 sample)", x.mean);
  return fmt::format("mean {:.6g} +- {:.3g} (95% interval, {} samples, range {:.6g} .. {:.6g})",
                     x.mean, x.half_width, x.n, x.min, x.max);
}

// Failure reasons, whole, grouped: "3 x exit code 3 (#0, #1, #2)".
std::vector<std::pair<std::string, std::vector<int64_t>>> FailureGroups(const Study& s) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> groups;
  std::map<std::string, size_t> index;
  for (const auto& t : s.Finished()) {
    // Interrupted trials are no failure of theirs; the summary counts them apart.
    if (t.state != TrialState::kFailed || !CountsTowardsBudget(t)) continue;
    auto [it, inserted] = index.try_emplace(t.failure_reason, groups.size());
    if (inserted) groups.push_back({t.failure_reason, {}});
    groups[it->second].second.push_back(t.number);
  }
  return groups;
}

std::string NumberList(const std::vector<int64_t>& numbers) {
  std::string out;
  for (size_t i = 0; i < numbers.size() && i < 10; ++i) {
    out += fmt::format("{}#{}", i ? ", " : "", numbers[i]);
  }
  if (numbers.size() > 10) out += fmt::format(", ... ({} more)", numbers.size() - 10);
  return out;
}

std::string StopNote(const Outcome& o) {
  if (o.signal != 0) return fmt::format("; stopped by {}", SignalName(o.signal));
  if (o.tune.time_limit_reached || (o.confirm && o.confirm->time_limit_reached)) {
    return "; the time limit was reached";
  }
  if (o.tune.exhausted) return "; the space is exhausted";
  if (o.tune.stopped) return "; stopped on request";
  return "";
}

// After --confirm the best is the confirmed configuration with the best mean of its
// confirmation runs; its first trial stands for it, carrying that mean.
std::optional<TrialRecord> ConfirmedBest(const Study& s, const std::vector<Config>& configs,
                                         const std::optional<TrialRecord>& baseline) {
  const bool minimize = s.spec().objectives[0].minimize;
  std::optional<Config> chosen;
  double chosen_mean = 0;
  for (const Config& c : configs) {
    if (baseline && c == baseline->config && configs.size() > 1) continue;
    const SampleSummary x = Summarize(ConfigSamples(s, c, /*confirm_only=*/true));
    if (x.n == 0) continue;
    if (!chosen || (minimize ? x.mean < chosen_mean : x.mean > chosen_mean)) {
      chosen = c;
      chosen_mean = x.mean;
    }
  }
  if (!chosen) return std::nullopt;
  int measurements = 0;
  std::optional<TrialRecord> first;
  for (const auto& t : s.Finished()) {
    if (t.state != TrialState::kComplete || t.config != *chosen) continue;
    if (!first) first = t;
    ++measurements;
  }
  if (!first) return std::nullopt;
  first->values[0] = chosen_mean;
  first->attrs["measurements"] = measurements;
  first->attrs["confirmed"] = true;
  return first;
}

int Summarise(const TuneArgs& args, const std::string& name, const Study& s, const Outcome& o) {
  bool baseline_is_default = false;
  const auto baseline = Baseline(s, &baseline_is_default);
  // After --confirm, the interleaved confirmation runs alone decide: they are free of the bias
  // of picking the best of many noisy measurements.
  const bool confirmed = o.confirm && o.confirm->started > 0;
  std::optional<TrialRecord> best = s.Best();
  if (confirmed && s.spec().objectives.size() == 1) {
    if (auto c = ConfirmedBest(s, o.confirmed, baseline)) best = c;
  }
  const bool multi = s.spec().objectives.size() > 1;
  const bool minimize = s.spec().objectives[0].minimize;
  const TrialCounts counts = CountTrials(s);
  const int started = o.tune.started + (o.confirm ? o.confirm->started : 0);
  const int failed = o.tune.failed + (o.confirm ? o.confirm->failed : 0);
  const int interrupted = o.tune.interrupted + (o.confirm ? o.confirm->interrupted : 0);
  std::optional<Comparison> comparison;
  if (best && baseline && !multi) {
    comparison = Compare(ConfigSamples(s, best->config, confirmed),
                         ConfigSamples(s, baseline->config, confirmed), minimize);
  }
  const bool same_config = best && baseline && best->config == baseline->config;

  if (args.json) {
    nlohmann::json j = {{"study", name},
                        {"storage", RedactStorageUrl(args.storage)},
                        {"budget", args.budget},
                        {"finished", counts.counted},
                        {"counts", CountsJson(counts)},
                        {"started", started},
                        {"failed", failed},
                        {"interrupted", interrupted},
                        {"seconds", o.seconds},
                        {"exhausted", o.tune.exhausted},
                        {"stopped", o.tune.stopped || o.signal != 0},
                        {"time_limit_reached", o.tune.time_limit_reached}};
    if (o.signal != 0) j["signal"] = SignalName(o.signal);
    if (best) j["best"] = TrialSummary(s, *best);
    if (baseline) {
      j["baseline"] = TrialSummary(s, *baseline);
      j["baseline_is_default"] = baseline_is_default;
    }
    if (comparison && !same_config) {
      if (comparison->ratio) j["improvement"] = *comparison->ratio;
      auto interval = [](const SampleSummary& x) {
        return nlohmann::json{{"n", x.n},         {"mean", x.mean}, {"low", x.low()},
                              {"high", x.high()}, {"min", x.min},   {"max", x.max}};
      };
      j["noise"] = {{"verdict", VerdictName(comparison->verdict)},
                    {"best", interval(comparison->candidate)},
                    {"baseline", interval(comparison->baseline)},
                    {"confirmed", confirmed}};
    }
    if (multi) {
      j["pareto_front"] = nlohmann::json::array();
      for (const auto& t : s.ParetoFront()) j["pareto_front"].push_back(TrialSummary(s, t));
      std::vector<double> reference;
      j["hypervolume"] = s.FrontHypervolume(&reference);
      j["reference_point"] = reference;
    }
    j["failures"] = nlohmann::json::array();
    for (const auto& [reason, numbers] : FailureGroups(s)) {
      j["failures"].push_back({{"reason", reason}, {"trials", numbers}});
    }
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("\nStudy '{}': {} ({} count towards the budget of {}); {} run now in {}{}\n", name,
               DescribeCounts(counts), counts.counted, args.budget, started,
               FormatDuration(o.seconds), StopNote(o));
    if (interrupted > 0) {
      fmt::print(
          "{} trial{} stopped while running: recorded as interrupted, run again when the "
          "study is resumed\n",
          interrupted, interrupted == 1 ? " was" : "s were");
    }
    if (!best) {
      fmt::print("No trial succeeded.");
      const auto history = s.Finished();
      if (!history.empty()) {
        fmt::print(" Last failure: {}\n{}", history.back().failure_reason,
                   history.back().stderr_tail.empty()
                       ? ""
                       : "stderr:\n" + history.back().stderr_tail + "\n");
      }
      fmt::print("\n");
    } else if (multi) {
      const auto front = s.ParetoFront();
      std::vector<double> reference;
      const double hypervolume = s.FrontHypervolume(&reference);
      fmt::print("Pareto front: {} trial{}, hypervolume {:.6g} (reference point {})\n",
                 front.size(), front.size() == 1 ? "" : "s", hypervolume,
                 FormatValues(s, reference));
      for (const auto& t : front) {
        fmt::print("  #{:<4} {}  {}\n", t.number, FormatValues(s, t.values),
                   FormatConfig(s, t.config));
      }
    } else {
      const int measurements = best->attrs.value("measurements", 1);
      fmt::print("Best: trial #{}  {}{}\n  {}\n", best->number, FormatValues(s, best->values),
                 best->attrs.contains("confirmed") ? std::string(" (mean of its confirmation runs)")
                 : measurements > 1 ? fmt::format(" (mean of {} trials)", measurements)
                                    : std::string(),
                 FormatConfig(s, best->config));
      if (baseline && comparison && !same_config) {
        const Comparison& c = *comparison;
        const std::string what = baseline_is_default ? "default" : "first";
        const std::string from = confirmed ? "the confirmation runs" : "all runs";
        fmt::print("  best:    {}\n  {}: {} (trial #{})\n", FormatInterval(c.candidate),
                   baseline_is_default ? "default" : "first  ", FormatInterval(c.baseline),
                   baseline->number);
        const std::string ratio =
            c.ratio ? fmt::format("{:.2f}x", *c.ratio) : std::string("a difference");
        switch (c.verdict) {
          case Verdict::kBetter:
            fmt::print(
                "{} {} than the {} configuration, beyond the noise (the 95% intervals of "
                "{} do not overlap)\n",
                ratio, minimize ? "better (lower)" : "better (higher)", what, from);
            break;
          case Verdict::kWorse:
            fmt::print(
                "Worse than the {} configuration when measured again ({} of {}): the "
                "earlier lead was noise\n",
                what, ratio, from);
            break;
          case Verdict::kWithinNoise:
            fmt::print(
                "No improvement beyond the noise over the {} configuration: the 95% "
                "intervals of {} overlap, so the measured {} may be noise{}\n",
                what, from, ratio,
                confirmed ? "" : " (--confirm K measures the leaders again, interleaved)");
            break;
          case Verdict::kUnknown:
            fmt::print(
                "{} {} than the {} configuration, but with one sample each the noise is "
                "unknown: use --repeat N or --confirm K to measure it\n",
                ratio, minimize ? "better (lower)" : "better (higher)", what);
            break;
        }
      } else if (same_config) {
        fmt::print("The {} configuration is the best one measured\n",
                   baseline_is_default ? "default" : "first");
      }
    }
    const auto groups = FailureGroups(s);
    if (!groups.empty()) {
      fmt::print("Failures:\n");
      for (const auto& [reason, numbers] : groups) {
        fmt::print("  {} x {} ({})\n", numbers.size(), reason, NumberList(numbers));
      }
    }
    if (const std::string hint = ReportHint(args.storage, name); !hint.empty()) {
      fmt::print("{}\n", hint);
    }
  }
  if (o.signal != 0) return 128 + o.signal;
  if (started > 0 && failed + interrupted == started && !best) return kExitFailure;
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// The run.

int RunStudy(const TuneArgs& args, Spec& spec, TuneArgs effective);

// The budget of a run on a study that other processes may share, and how the startup line
// names it.
struct ChosenBudget {
  int budget = 0;
  std::string text;  // "budget 200", "budget 200 (the study's)", "budget changed from 200 to 300"
};

// A study stores the budget it was started with. A process that joins it without --budget uses
// that one (not its own default); an explicit --budget that differs replaces it, unless other
// workers are running the study now: they would go on to the old budget, so the change is
// refused. Trials of workers that are gone (by this run's heartbeat grace) do not count as
// running; their configurations join `rerun`.
Expected<ChosenBudget> ChooseBudget(Study& s, const std::string& name, bool budget_given,
                                    int wanted, std::vector<Config>* rerun) {
  const auto at = s.record().attrs.find("budget");
  if (at == s.record().attrs.end() || !at->is_number_integer()) {
    return ChosenBudget{wanted, fmt::format("budget {}", wanted)};
  }
  const int stored = at->get<int>();
  if (!budget_given) return ChosenBudget{stored, fmt::format("budget {} (the study's)", stored)};
  if (wanted == stored) return ChosenBudget{stored, fmt::format("budget {}", stored)};
  auto reclaimed = s.Refresh();
  if (!reclaimed.ok()) return reclaimed.error();
  for (auto& c : *reclaimed) rerun->push_back(std::move(c));
  if (const int running = s.RunningCount(); running > 0) {
    return InvalidInput(
        "study '{}' is being run by other workers with budget {} ({} trial{} running now); "
        "leave out --budget or give --budget {}",
        name, stored, running, running == 1 ? "" : "s", stored);
  }
  return ChosenBudget{wanted, fmt::format("budget changed from {} to {}", stored, wanted)};
}

int RunTune(const TuneArgs& args) {
  auto loaded = LoadSpec(args.spec_path);
  if (!loaded.ok()) return ReportError(loaded.error());
  Spec& spec = *loaded;
  if (auto applied = ApplyRunFlags(args, spec); !applied.ok()) return ReportError(applied.error());
  // A T1 file's Budget (ConfigurationCount) stands in for --budget when none is given.
  TuneArgs effective = args;
  if (!args.budget_given && spec.budget) effective.budget = *spec.budget;
  return RunStudy(args, spec, effective);
}

// `sysopt worker`: joins a stored study, with the spec, sampler and budget stored with it.
int RunWorker(TuneArgs args) {
  const StorageUrl url = ParseStorageUrl(args.storage);
  if (url.kind == StorageKind::kSqlite && !std::filesystem::exists(url.location)) {
    return ReportError(NotFound("storage file '{}' does not exist (start the study with 'sysopt "
                                "tune SPEC --storage {}' first)",
                                url.location, args.storage));
  }
  auto storage = OpenStorage(args.storage);
  if (!storage.ok()) return ReportError(storage.error());
  auto found = (*storage)->FindStudy(args.study);
  if (!found.ok()) return ReportError(found.error());
  if (!found->has_value()) {
    auto all = (*storage)->ListStudies();
    std::string names;
    if (all.ok()) {
      for (const auto& s : *all) names += (names.empty() ? "" : ", ") + s.name;
    }
    return ReportError(NotFound("no study named '{}' in {} (studies: {}); start it with 'sysopt "
                                "tune SPEC --storage URL --study NAME'",
                                args.study, RedactStorageUrl(args.storage),
                                names.empty() ? "none" : names));
  }
  const StudyRecord& record = **found;
  auto spec = ParseSpec(record.spec, fmt::format("study '{}'", args.study));
  if (!spec.ok()) return ReportError(spec.error());
  if (!spec->run || spec->run->command.empty()) {
    return ReportError(InvalidInput("study '{}' stores no run command to evaluate", args.study));
  }
  args.spec_path = fmt::format("study '{}'", args.study);
  args.sampler = record.sampler.value("name", std::string("auto"));
  args.acquisition = record.sampler.value("acquisition", std::string("ei"));
  // Without --budget it runs to the stored one (RunStudy reads it); a study made by the Python
  // module stores none.
  const auto budget = record.attrs.find("budget");
  if (!args.budget_given && (budget == record.attrs.end() || !budget->is_number_integer())) {
    return ReportError(
        InvalidInput("study '{}' stores no budget; give one with --budget", args.study));
  }
  storage->reset();
  return RunStudy(args, *spec, args);
}

int RunStudy(const TuneArgs& args, Spec& spec, TuneArgs effective) {
  if (effective.budget < 1) return ReportError(InvalidInput("--budget must be at least 1"));
  if (args.workers < 1) return ReportError(InvalidInput("--workers must be at least 1"));
  if (args.confirm < 0) return ReportError(InvalidInput("--confirm must be at least 0"));
  double time_limit_s = spec.time_limit_s.value_or(0);
  if (!args.time_limit.empty()) {
    auto parsed = ParseDuration(args.time_limit);
    if (!parsed.ok()) return ReportError(parsed.error().WithContext("--time-limit"));
    if (!(*parsed > 0)) return ReportError(InvalidInput("--time-limit must be positive"));
    time_limit_s = *parsed;
  }

  auto default_timeout = std::make_shared<DefaultTimeout>();
  Expected<std::unique_ptr<Runner>> runner = args.replay.empty()
                                                 ? MakeSpecRunner(spec, {default_timeout, &g_cancel})
                                                 : MakeReplayRunnerFor(args, spec);
  if (!runner.ok()) {
    return ReportError(args.replay.empty() ? runner.error().WithContext(args.spec_path + ": run")
                                           : runner.error());
  }

  double grace_s = kDefaultHeartbeatGraceS;
  if (!args.heartbeat_grace.empty()) {
    auto parsed = ParseDuration(args.heartbeat_grace);
    if (!parsed.ok()) return ReportError(parsed.error().WithContext("--heartbeat-grace"));
    if (!(*parsed > 0)) return ReportError(InvalidInput("--heartbeat-grace must be positive"));
    grace_s = *parsed;
  }
  // Processes sharing a study must not propose in lockstep: without --seed each draws its own.
  uint64_t seed = args.seed;
  if (!args.seed_given) {
    std::random_device device;
    seed = (uint64_t{device()} << 32 | device()) % 1'000'000'000;
  }
  // Made here to refuse a bad sampler before the storage is touched; made again below when the
  // study's stored budget differs.
  SamplerOptions sampler_options{seed, effective.budget, args.acquisition};
  auto sampler = MakeSampler(args.sampler, sampler_options);
  if (!sampler.ok()) return ReportError(sampler.error());

  auto storage = OpenStorage(args.storage);
  if (!storage.ok()) return ReportError(storage.error());
  const std::string name = args.study.empty() ? spec.name : args.study;
  ResumeInfo resume;
  auto study = Study::Open(
      **storage, name, spec,
      {{"name", args.sampler}, {"seed", seed}, {"acquisition", args.acquisition}}, &resume);
  if (!study.ok()) return ReportError(study.error());
  Study& s = **study;
  s.SetHeartbeatGrace(grace_s);
  WarnSetAside(s);
  auto chosen = ChooseBudget(s, name, args.budget_given, effective.budget, &resume.to_rerun);
  if (!chosen.ok()) return ReportError(chosen.error());
  if (const auto stored = s.record().attrs.find("budget");
      stored == s.record().attrs.end() || *stored != chosen->budget) {
    if (auto set = (*storage)->SetStudyAttr(s.record().id, "budget", chosen->budget); !set.ok()) {
      return ReportError(set.error());
    }
  }
  if (chosen->budget != effective.budget) {
    effective.budget = chosen->budget;
    sampler_options.budget = chosen->budget;
    sampler = MakeSampler(args.sampler, sampler_options);
    if (!sampler.ok()) return ReportError(sampler.error());
  }
  // A resumed study's earlier runs set the default timeout from the start.
  for (const auto& t : s.Finished()) {
    if (t.state != TrialState::kComplete || !t.attrs.contains("run_seconds")) continue;
    for (const auto& seconds : t.attrs["run_seconds"]) {
      if (seconds.is_number()) default_timeout->Observe(seconds.get<double>());
    }
  }

  if (!args.quiet) {
    const RunSpec& run = *spec.run;
    fmt::print(stderr,
               "sysopt: study '{}' in {} ({}), sampler {}, seed {}{}, {}{}, {} worker{}\n",
               name, RedactStorageUrl(args.storage),
               resume.created ? "new"
                              : fmt::format("resumed with {} finished, {} running elsewhere",
                                            s.BudgetUsed(), s.RunningCount()),
               args.sampler, seed, args.seed_given ? "" : " (drawn; --seed fixes it)",
               chosen->text,
               time_limit_s > 0 ? fmt::format(", time limit {}", FormatDuration(time_limit_s)) : "",
               args.workers, args.workers == 1 ? "" : "s");
    fmt::print(stderr, "sysopt: each trial: {}{} run{}, timeout {}\n",
               run.warmup > 0 ? fmt::format("{} warm-up + ", run.warmup) : "", run.repeat,
               run.repeat == 1 ? "" : "s",
               !run.timeout_s ? fmt::format("by default {:g} x the median run (at least {:g} s) "
                                            "once {} runs succeeded",
                                            DefaultTimeout::kFactor, DefaultTimeout::kFloorS,
                                            DefaultTimeout::kWarmupRuns)
               : *run.timeout_s > 0 ? fmt::format("{:g} s", *run.timeout_s)
                                    : std::string("none"));
    if (resume.interrupted > 0) {
      fmt::print(stderr,
                 "sysopt: {} trial{} left running by a stopped process marked failed "
                 "(interrupted); running them again first\n",
                 resume.interrupted, resume.interrupted == 1 ? "" : "s");
    }
    if (resume.stopped > 0) {
      fmt::print(stderr, "sysopt: {} trial{} interrupted by an earlier stop: running again first\n",
                 resume.stopped, resume.stopped == 1 ? "" : "s");
    }
    SetLogSink([](LogLevel level, std::string_view message) {
      if (level != LogLevel::kDebug) fmt::print(stderr, "sysopt: {}\n", message);
    });
  }

  TuneOptions options;
  options.budget = effective.budget;
  options.workers = args.workers;
  options.cancel = &g_cancel;
  options.time_limit_s = time_limit_s;
  options.poll_interval_s = std::min(0.25, grace_s / 8);
  Progress progress(s);
  if (!args.quiet) options.on_trial = [&](const TuneProgress& p) { progress(p); };
  InstallStopSignals();

  Outcome outcome;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto report = Tune(s, **sampler, **runner, options, resume.to_rerun);
  if (!report.ok()) return ReportError(report.error());
  outcome.tune = *report;

  if (args.confirm > 0 && !g_cancel.requested() && !report->time_limit_reached &&
      s.spec().objectives.size() == 1) {
    std::vector<Config> configs = TopConfigs(s, args.confirm);
    bool is_default = false;
    if (auto base = Baseline(s, &is_default);
        base && std::find(configs.begin(), configs.end(), base->config) == configs.end()) {
      configs.insert(configs.begin(), base->config);
    }
    if (configs.size() >= 2) {
      constexpr int kRounds = 3;
      if (!args.quiet) {
        fmt::print(stderr, "sysopt: confirming: {} configurations x {} rounds, interleaved\n",
                   configs.size(), kRounds);
      }
      options.time_limit_s = time_limit_s > 0 ? std::max(1.0, time_limit_s - elapsed()) : 0;
      auto confirmed = Confirm(s, **runner, configs, kRounds, options);
      if (!confirmed.ok()) return ReportError(confirmed.error());
      outcome.confirm = *confirmed;
      outcome.confirmed = configs;
    }
  }
  outcome.seconds = elapsed();
  outcome.signal = g_signal.load();
  return Summarise(effective, name, s, outcome);
}

}  // namespace

void RegisterTune(CLI::App& app, Action* action) {
  auto args = std::make_shared<TuneArgs>();
  auto* cmd = app.add_subcommand(
      "tune",
      "Tune a program: propose configurations from the spec's space, run the command on each, "
      "record every result, and report the best.\n"
      "The command prints its objective as the last line of stdout (a number, or a JSON object "
      "for several objectives), or sysopt times it (\"objective\": \"wall-time\" in the run "
      "section). Running again with the same --storage and --study resumes the study until it "
      "holds --budget finished trials. Ctrl-C stops the trials in flight (recorded as "
      "interrupted, run again on resume), prints the summary and exits 130.");
  cmd->add_option("spec", args->spec_path, "Spec file (sysopt JSON spec or T1 file)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--budget,-n", args->budget,
                  "Finished trials the study should hold (re-measurements count too). A study "
                  "keeps the budget it was started with: joining it without --budget runs to "
                  "that one; another --budget replaces it, refused while other workers are "
                  "running the study")
      ->capture_default_str();
  cmd->add_option("--time-limit", args->time_limit,
                  "Time for this run, e.g. 90s, 10m, 1h: no trial starts after it and those "
                  "running are stopped (whichever of it and --budget comes first)");
  cmd->add_option("--timeout", args->timeout,
                  "Time limit of one run of the command, e.g. 30s or 2m, or none; default: the "
                  "spec's run.timeout_s, else 10 x the median successful run (at least 5 s) once "
                  "3 runs succeeded");
  cmd->add_option("--repeat", args->repeat,
                  "Runs of each configuration, aggregated (default: the spec's run.repeat)");
  cmd->add_option("--confirm", args->confirm,
                  "At the end, measure the K best configurations and the default again, 3 "
                  "interleaved rounds, and judge the improvement on those runs");
  cmd->add_option("--workers,-j", args->workers, "Configurations evaluated at once")
      ->capture_default_str();
  cmd->add_option("--storage", args->storage,
                  "Where the study is recorded: a SQLite file, a PostgreSQL URL "
                  "(postgresql://user@host:port/db) for workers on several machines, or "
                  "\"memory\" (keeps nothing). Processes started on one storage and study share "
                  "its budget and never run a configuration twice")
      ->capture_default_str();
  cmd->add_option("--study", args->study, "Study name (default: the spec's name)");
  cmd->add_option("--heartbeat-grace", args->heartbeat_grace,
                  "A running trial whose worker gave no sign of life for this long (e.g. 60s) is "
                  "marked interrupted and run again by another process; default 60s");
  std::string samplers;
  for (const auto& [n, d] : SamplerDescriptions()) samplers += fmt::format("\n  {}: {}", n, d);
  cmd->add_option("--sampler", args->sampler, "Search strategy:" + samplers)->capture_default_str();
  cmd->add_option("--acquisition", args->acquisition,
                  "Acquisition of the Bayesian samplers: ei (log expected improvement) or lcb "
                  "(lower confidence bound)")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed,
                  "Random seed (runs with the same seed propose the same); default: drawn anew by "
                  "each process and printed");
  cmd->add_option("--replay", args->replay,
                  "Answer every configuration from a recording of the space instead of running "
                  "anything: a Kernel Tuner cache file or a T4 results file, plain or gzipped. "
                  "Recorded failures and configurations the recording lacks are failed trials")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", args->json, "Print the summary as JSON on stdout");
  cmd->add_flag("--quiet,-q", args->quiet, "No progress lines on stderr");
  cmd->add_option("command", args->command,
                  "Command to run instead of the spec's run.command (after --); {name} "
                  "placeholders are replaced by values, {{ and }} stand for literal braces");
  cmd->callback([args, action, cmd] {
    args->budget_given = cmd->count("--budget") > 0;
    args->seed_given = cmd->count("--seed") > 0;
    *action = [args] { return RunTune(*args); };
  });
}

void RegisterWorker(CLI::App& app, Action* action) {
  auto args = std::make_shared<TuneArgs>();
  auto* cmd = app.add_subcommand(
      "worker",
      "Join a study that 'sysopt tune' started: evaluate its configurations until it holds its "
      "budget of finished trials in all. Needs only the storage and the study name: the spec, "
      "the sampler and the budget are stored with the study. Start it on as many machines as "
      "you like against one PostgreSQL storage (or several times on one machine against a "
      "SQLite file); a worker that dies has its running trial marked interrupted after the "
      "heartbeat grace, and another worker runs it again.");
  cmd->add_option("--storage", args->storage, "The study's storage: PostgreSQL URL or SQLite file")
      ->required();
  cmd->add_option("--study", args->study, "Study name")->required();
  cmd->add_option("--budget,-n", args->budget,
                  "Finished trials the study should hold (default: the budget it was started "
                  "with); another budget replaces the stored one, refused while other workers "
                  "are running the study");
  cmd->add_option("--workers,-j", args->workers, "Configurations evaluated at once by this worker")
      ->capture_default_str();
  cmd->add_option("--time-limit", args->time_limit, "Time for this worker, e.g. 8h");
  cmd->add_option("--seed", args->seed, "Random seed (default: drawn anew and printed)");
  cmd->add_option("--heartbeat-grace", args->heartbeat_grace,
                  "Silence after which another worker's running trial is taken for dead; "
                  "default 60s");
  cmd->add_flag("--json", args->json, "Print the summary as JSON on stdout");
  cmd->add_flag("--quiet,-q", args->quiet, "No progress lines on stderr");
  cmd->callback([args, action, cmd] {
    args->budget_given = cmd->count("--budget") > 0;
    args->seed_given = cmd->count("--seed") > 0;
    *action = [args] { return RunWorker(*args); };
  });
}

}  // namespace sysopt::cli
