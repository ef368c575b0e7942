// `sysopt tune`: run a study until it holds the budget of finished trials, then summarise.
#include <fmt/core.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "sysopt/cli/command.h"
#include "sysopt/cli/study_access.h"
#include "sysopt/core/log.h"
#include "sysopt/report/export.h"
#include "sysopt/runner/spec_runner.h"
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
  bool json = false;
  bool quiet = false;
  std::vector<std::string> command;
};

std::atomic<bool> g_stop{false};

extern "C" void OnInterrupt(int) {
  // First Ctrl-C: finish the trials in flight and summarise; a second one ends the process.
  if (g_stop.exchange(true)) std::_Exit(130);
}

// How much better `best` is than `base` on the first objective, as a ratio > 1 when better.
std::optional<double> Improvement(const Study& study, const TrialRecord& best,
                                  const TrialRecord& base) {
  const double b = best.values.at(0), a = base.values.at(0);
  if (a <= 0 || b <= 0) return std::nullopt;
  return study.spec().objectives[0].minimize ? a / b : b / a;
}

nlohmann::json TrialSummary(const Study& study, const TrialRecord& t) {
  nlohmann::json values = nlohmann::json::object();
  for (size_t i = 0; i < t.values.size(); ++i)
    values[study.spec().objectives[i].name] = t.values[i];
  return {
      {"number", t.number}, {"config", study.space().ConfigToJson(t.config)}, {"values", values}};
}

int RunTuneWithSpec(const TuneArgs& args, Spec spec_value);

int RunTune(const TuneArgs& args) {
  auto spec = LoadSpec(args.spec_path);
  if (!spec.ok()) return ReportError(spec.error());
  if (!args.command.empty()) {
    RunSpec run = spec->run.value_or(RunSpec{});
    run.command = args.command;
    if (!spec->run) run.working_dir = std::filesystem::current_path().string();
    spec->run = run;
  }
  if (!spec->run) {
    return ReportError(InvalidInput(
        "{}: nothing to run: add a \"run\" section to the spec or give the command after --",
        args.spec_path));
  }
  TuneArgs effective = args;
  // A T1 file's Budget (ConfigurationCount) stands in for --budget when none is given.
  if (!args.budget_given && spec->budget) effective.budget = *spec->budget;
  return RunTuneWithSpec(effective, std::move(*spec));
}

int RunTuneWithSpec(const TuneArgs& args, Spec spec_value) {
  Spec* spec = &spec_value;
  if (args.budget < 1) return ReportError(InvalidInput("--budget must be at least 1"));
  if (args.workers < 1) return ReportError(InvalidInput("--workers must be at least 1"));

  auto runner = MakeSpecRunner(*spec);
  if (!runner.ok()) return ReportError(runner.error().WithContext(args.spec_path + ": run"));

  SamplerOptions sampler_options{args.seed, args.budget, args.acquisition};
  auto sampler = MakeSampler(args.sampler, sampler_options);
  if (!sampler.ok()) return ReportError(sampler.error());

  auto storage = OpenStorage(args.storage);
  if (!storage.ok()) return ReportError(storage.error());
  const std::string name = args.study.empty() ? spec->name : args.study;
  ResumeInfo resume;
  auto study = Study::Open(
      **storage, name, *spec,
      {{"name", args.sampler}, {"seed", args.seed}, {"acquisition", args.acquisition}}, &resume);
  if (!study.ok()) return ReportError(study.error());
  Study& s = **study;
  WarnSetAside(s);

  const int used_before = s.BudgetUsed();
  if (!args.quiet) {
    fmt::print(stderr, "sysopt: study '{}' in {} ({}), sampler {}, budget {}, {} worker{}\n", name,
               args.storage,
               resume.created ? "new" : fmt::format("resumed with {} finished", used_before),
               args.sampler, args.budget, args.workers, args.workers == 1 ? "" : "s");
    if (resume.interrupted > 0) {
      fmt::print(stderr,
                 "sysopt: {} trial{} left running by a stopped process marked failed "
                 "(interrupted); running them again first\n",
                 resume.interrupted, resume.interrupted == 1 ? "" : "s");
    }
  }

  if (!args.quiet) {
    SetLogSink([](LogLevel level, std::string_view message) {
      if (level != LogLevel::kDebug) fmt::print(stderr, "sysopt: {}\n", message);
    });
  }
  TuneOptions options;
  options.budget = args.budget;
  options.workers = args.workers;
  options.stop = &g_stop;
  if (!args.quiet) {
    options.on_trial = [&](const TuneProgress& p) {
      const auto& t = p.trial;
      const std::string what =
          t.state == TrialState::kComplete ? FormatValues(s, t.values) : t.failure_reason;
      const std::string best =
          p.best ? fmt::format("best {} (#{})", FormatValues(s, p.best->values), p.best->number)
                 : "no success yet";
      fmt::print(stderr, "[{:>{}}/{}] #{:<4} {:<8} {:<40.40}  {}{}\n", p.budget_used,
                 std::to_string(p.budget).size(), p.budget, t.number, TrialStateName(t.state), what,
                 best, p.failed ? fmt::format(", {} failed", p.failed) : "");
    };
  }
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  const auto t0 = std::chrono::steady_clock::now();
  auto report = Tune(s, **sampler, **runner, options, resume.to_rerun);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!report.ok()) return ReportError(report.error());

  const auto best = s.Best();
  const auto history = s.Finished();
  std::optional<TrialRecord> baseline;
  if (s.space().HasUserDefault()) {
    const Config def = s.space().Default();
    for (const auto& t : history) {
      if (t.config == def && t.state == TrialState::kComplete) {
        baseline = t;
        break;
      }
    }
  }
  const bool baseline_is_default = baseline.has_value();
  if (!baseline) baseline = s.FirstComplete();
  std::optional<double> improvement;
  if (best && baseline) improvement = Improvement(s, *best, *baseline);
  const bool multi = s.spec().objectives.size() > 1;

  if (args.json) {
    nlohmann::json j = {{"study", name},
                        {"storage", args.storage},
                        {"budget", args.budget},
                        {"finished", s.BudgetUsed()},
                        {"started", report->started},
                        {"failed", report->failed},
                        {"seconds", seconds},
                        {"exhausted", report->exhausted},
                        {"stopped", report->stopped}};
    if (best) j["best"] = TrialSummary(s, *best);
    if (baseline) {
      j["baseline"] = TrialSummary(s, *baseline);
      j["baseline_is_default"] = baseline_is_default;
    }
    if (improvement) j["improvement"] = *improvement;
    if (multi) {
      j["pareto_front"] = nlohmann::json::array();
      for (const auto& t : s.ParetoFront()) j["pareto_front"].push_back(TrialSummary(s, t));
      std::vector<double> reference;
      j["hypervolume"] = s.FrontHypervolume(&reference);
      j["reference_point"] = reference;
    }
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("\nStudy '{}': {} finished trials ({} run now, {} failed) in {:.1f} s{}\n", name,
               s.BudgetUsed(), report->started, report->failed, seconds,
               report->exhausted ? "; the space is exhausted"
               : report->stopped ? "; stopped on request"
                                 : "");
    if (!best) {
      fmt::print("No trial succeeded.");
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
      fmt::print("Best: trial #{}  {}\n  {}\n", best->number, FormatValues(s, best->values),
                 FormatConfig(s, best->config));
      if (baseline && improvement) {
        fmt::print("{:.2f}x {} than the {} configuration (trial #{}: {})\n", *improvement,
                   s.spec().objectives[0].minimize ? "better (lower)" : "better (higher)",
                   baseline_is_default ? "default" : "first", baseline->number,
                   FormatValues(s, baseline->values));
      }
    }
  }
  if (report->started > 0 && report->failed == report->started && !best) return kExitFailure;
  return kExitOk;
}

}  // namespace

void RegisterTune(CLI::App& app, Action* action) {
  auto args = std::make_shared<TuneArgs>();
  auto* cmd = app.add_subcommand(
      "tune",
      "Tune a program: propose configurations from the spec's space, run the command on each, "
      "record every result, and report the best.\n"
      "The command prints its objective as the last line of stdout (a number, or a JSON object "
      "for several objectives). Running again with the same --storage and --study resumes the "
      "study until it holds --budget finished trials.");
  cmd->add_option("spec", args->spec_path, "Spec file (sysopt JSON spec or T1 file)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--budget,-n", args->budget, "Finished trials the study should hold")
      ->capture_default_str();
  cmd->add_option("--workers,-j", args->workers, "Configurations evaluated at once")
      ->capture_default_str();
  cmd->add_option("--storage", args->storage,
                  "SQLite file to record the study in (\"memory\" keeps nothing)")
      ->capture_default_str();
  cmd->add_option("--study", args->study, "Study name (default: the spec's name)");
  std::string samplers;
  for (const auto& [n, d] : SamplerDescriptions()) samplers += fmt::format("\n  {}: {}", n, d);
  cmd->add_option("--sampler", args->sampler, "Search strategy:" + samplers)->capture_default_str();
  cmd->add_option("--acquisition", args->acquisition,
                  "Acquisition of the Bayesian samplers: ei (log expected improvement) or lcb "
                  "(lower confidence bound)")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Random seed (runs with the same seed propose the same)")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "Print the summary as JSON on stdout");
  cmd->add_flag("--quiet,-q", args->quiet, "No progress lines on stderr");
  cmd->add_option("command", args->command,
                  "Command to run instead of the spec's run.command (after --); {name} "
                  "placeholders are replaced by values");
  cmd->callback([args, action, cmd] {
    args->budget_given = cmd->count("--budget") > 0;
    *action = [args] { return RunTune(*args); };
  });
}

}  // namespace sysopt::cli
