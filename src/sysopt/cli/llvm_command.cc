// `sysopt llvm`: the compiler job. `passes` searches LLVM pass orderings for a program in
// process (a study like `sysopt tune`'s), `vectorize` searches per-loop vectorisation and
// interleaving factors, `features` prints a program's InstCount and Autophase features,
// `actions` lists the action set.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "sysopt/cli/command.h"
#include "sysopt/cli/study_access.h"
#include "sysopt/compile/actions.h"
#include "sysopt/compile/pass_pool.h"
#include "sysopt/compile/pass_runner.h"
#include "sysopt/compile/program.h"
#include "sysopt/compile/vectorize.h"
#include "sysopt/report/noise.h"
#include "sysopt/sampler/sampler.h"
#include "sysopt/tuner/tuner.h"

namespace sysopt::cli {

namespace {

namespace fs = std::filesystem;

struct ProgramArgs {
  std::vector<std::string> program;
  std::vector<std::string> clang_flags;
};

struct PassesArgs {
  ProgramArgs program;
  std::string objective = "ir-count";
  double time_limit_s = 60;
  bool time_limit_given = false;
  int budget = 0;
  std::string sampler = "evolution";  // measured best: docs/compile.md
  std::string storage = kDefaultStorage;
  std::string study;
  std::string out;
  bool json = false;
  bool quiet = false;
  int workers = 0;
  int max_length = 0;
  uint64_t seed = 0;
  std::string run;
  int repeat = 3;
  double eval_timeout_s = 0;  // 0: a tenth of the time limit, between 1 and 60 s
  std::string action_set = "extended";
};

std::atomic<bool> g_llvm_stop{false};

extern "C" void OnLlvmInterrupt(int) {
  // First signal: finish the evaluations in flight and summarise; a second one ends at once
  // (the workers die with sysopt).
  if (g_llvm_stop.exchange(true)) std::_Exit(130);
  static const char kMessage[] =
      "\nsysopt: stopping: finishing the evaluations in flight (again to quit now)\n";
  [[maybe_unused]] const ssize_t n = write(2, kMessage, sizeof kMessage - 1);
}

// Splits "a 'b c' d" into words; single and double quotes group, backslash escapes.
std::vector<std::string> SplitWords(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

std::string Ratio(double base, double value) {
  if (value <= 0 || base <= 0) return "-";
  return fmt::format("{:.3f}x", base / value);
}

std::string SequenceText(const std::vector<int>& actions) {
  std::string text;
  for (int a : actions) {
    if (!text.empty()) text += ' ';
    text += ActionId(a);
  }
  return text.empty() ? "(no passes)" : text;
}

int RunPasses(const PassesArgs& args) {
  // The time limit covers the whole command, from here.
  const auto t0 = std::chrono::steady_clock::now();
  auto objective = ParseCompileObjective(args.objective);
  if (!objective.ok()) return ReportError(objective.error());
  if (args.budget < 0) return ReportError(InvalidInput("--budget must be at least 1"));
  if (args.time_limit_given && !(args.time_limit_s > 0)) {
    return ReportError(InvalidInput("--time-limit must be a positive number of seconds"));
  }
  if (args.max_length < 0) return ReportError(InvalidInput("--max-length must be at least 1"));
  if (args.eval_timeout_s < 0 || std::isnan(args.eval_timeout_s)) {
    return ReportError(InvalidInput("--eval-timeout must be a positive number of seconds"));
  }
  // One pass order that makes LLVM run away must not hold a worker for most of the search.
  const double eval_timeout_s =
      args.eval_timeout_s > 0 ? args.eval_timeout_s : std::clamp(args.time_limit_s / 10, 1.0, 60.0);
  if (args.repeat < 1) return ReportError(InvalidInput("--repeat must be at least 1"));
  if (*objective != CompileObjective::kRuntime && !args.run.empty()) {
    return ReportError(InvalidInput("--run is for --objective runtime"));
  }
  if (args.action_set != "extended" && args.action_set != "compiler-gym") {
    return ReportError(InvalidInput("--actions: unknown action set '{}' (extended, compiler-gym)",
                                    args.action_set));
  }
  const int max_length = args.max_length > 0 ? args.max_length : 40;
  const int workers = args.workers > 0
                          ? args.workers
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));

  ProgramOptions program_options;
  program_options.clang_flags = args.program.clang_flags;
  auto program = LoadProgram(args.program.program, program_options);
  if (!program.ok()) return ReportError(program.error());

  // Nothing is stored before the program, the flags and the storage are known to be good.
  auto sampler = MakeSampler(args.sampler,
                             SamplerOptions{args.seed, args.budget > 0 ? args.budget : 1000, "ei"});
  if (!sampler.ok()) return ReportError(sampler.error());
  auto storage = OpenStorage(args.storage);
  if (!storage.ok()) return ReportError(storage.error());

  ScratchFolder scratch("sysopt-passes");
  if (scratch.path().empty()) return ReportError(IoError("cannot create a temporary folder"));
  PassPoolOptions pool_options;
  pool_options.workers = workers;
  pool_options.timeout_s = eval_timeout_s;
  auto pool = PassPool::Create(program->bitcode, pool_options);
  if (!pool.ok()) return ReportError(pool.error());
  RuntimeOptions runtime;
  runtime.args = SplitWords(args.run);
  runtime.repeat = args.repeat;
  auto runner = PassRunner::Create(**pool, *objective, runtime, scratch.path());
  if (!runner.ok()) return ReportError(runner.error());

  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // The reference points, measured through the same path as every trial.
  const std::vector<std::pair<std::string, std::string>> levels = {{"-O0", ""},
                                                                   {"-O1", "default<O1>"},
                                                                   {"-O2", "default<O2>"},
                                                                   {"-O3", "default<O3>"},
                                                                   {"-Os", "default<Os>"},
                                                                   {"-Oz", "default<Oz>"}};
  std::map<std::string, double> reference;
  for (const auto& [label, pipeline] : levels) {
    const RunResult r = (*runner)->RunPipeline(pipeline);
    if (!r.ok) {
      return ReportError(RuntimeError("measuring {} failed: {}", label, r.failure_reason));
    }
    reference[label] = r.values.at(0);
  }
  const std::string column(CompileObjectiveColumn(*objective));
  const std::string name =
      args.study.empty() ? fmt::format("{}-{}", program->name, CompileObjectiveName(*objective))
                         : args.study;
  Spec spec = PassOrderingSpec(name, *objective, max_length, args.action_set == "compiler-gym");
  ResumeInfo resume;
  auto study = Study::Open(**storage, name, spec,
                           {{"name", args.sampler},
                            {"seed", args.seed},
                            {"program", program->sources},
                            {"program_hash", program->content_hash},
                            {"max_length", max_length}},
                           &resume);
  if (!study.ok()) return ReportError(study.error());
  Study& s = **study;
  const auto& stored = s.record().sampler;
  if (!resume.created && stored.contains("program_hash") &&
      stored["program_hash"] != program->content_hash) {
    return ReportError(InvalidInput(
        "study '{}' in {} holds measurements of another build of the program (content {}, now "
        "{}): name another --study to start afresh",
        name, args.storage, stored["program_hash"].get<std::string>(), program->content_hash));
  }
  const int before = s.BudgetUsed();
  if (!args.quiet) {
    fmt::print(
        stderr,
        "sysopt: {}: {} functions, {} IR instructions; {}: {:g} at -O0, {:g} at -Oz; study '{}' "
        "in {} ({})\n",
        program->name, program->functions, program->ir_count, column, reference["-O0"],
        reference["-Oz"], name, args.storage,
        resume.created ? "new" : fmt::format("resumed with {} finished", before));
    fmt::print(stderr, "sysopt: searching with {} for {}, {} worker{}\n", args.sampler,
               args.budget > 0 && !args.time_limit_given
                   ? fmt::format("{} evaluations", args.budget)
                   : fmt::format("{:g} s", args.time_limit_s),
               workers, workers == 1 ? "" : "s");
  }

  TuneOptions options;
  options.workers = workers;
  options.stop = &g_llvm_stop;
  // --budget counts this run's evaluations, as --time-limit counts this run's seconds.
  options.budget = args.budget > 0 ? before + args.budget : INT_MAX / 2;
  const double oz = reference["-Oz"];
  double last_print = 0;
  double best_seen = std::numeric_limits<double>::infinity();
  if (!args.quiet) {
    options.on_trial = [&](const TuneProgress& p) {
      const double now = elapsed();
      const bool improved = p.best && p.best->values.at(0) < best_seen;
      if (p.best) best_seen = std::min(best_seen, p.best->values.at(0));
      if (!improved && now - last_print < 2.0) return;
      last_print = now;
      fmt::print(stderr, "[{:6.1f} s] {:>6} evaluated{}  best {} = {} -Oz{}\n", now, p.budget_used,
                 p.failed ? fmt::format(" ({} failed)", p.failed) : "",
                 p.best ? fmt::format("{:g}", p.best->values[0]) : "-",
                 p.best ? Ratio(oz, p.best->values[0]) : "-", improved ? "  (new best)" : "");
    };
  }
  // What loading and the baselines took is already spent.
  std::mutex timer_mutex;
  std::condition_variable timer_cv;
  bool done = false;
  std::thread timer;
  if (args.time_limit_given || args.budget == 0) {
    timer = std::thread([&] {
      std::unique_lock lock(timer_mutex);
      const auto deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(args.time_limit_s * 0.97));
      if (!timer_cv.wait_until(lock, deadline, [&] { return done; })) g_llvm_stop = true;
    });
  }
  if (timer.joinable()) {
    // Evaluations in flight at the time limit are cut there too.
    const auto end = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(args.time_limit_s));
    (*pool)->SetDeadline(std::chrono::duration<double>(end.time_since_epoch()).count());
  }
  std::signal(SIGINT, OnLlvmInterrupt);
  std::signal(SIGTERM, OnLlvmInterrupt);
  auto report = Tune(s, **sampler, **runner, options, resume.to_rerun);
  {
    std::lock_guard lock(timer_mutex);
    done = true;
  }
  timer_cv.notify_all();
  if (timer.joinable()) timer.join();
  (*pool)->SetDeadline(std::numeric_limits<double>::infinity());
  if (!report.ok()) return ReportError(report.error());

  const auto best = s.Best();
  if (!best) {
    fmt::print(stderr, "sysopt: no pass sequence could be measured\n");
    return kExitFailure;
  }
  const std::vector<int> actions = ConfigActions(best->config);
  const std::string pipeline = PipelineText(actions);
  // The sequence again, as one pipeline: what `opt-14 -passes='<pipeline>'` reproduces.
  double confirmed = best->values.at(0);
  {
    const RunResult r = (*runner)->RunPipeline(pipeline);
    if (r.ok) confirmed = r.values.at(0);
  }
  if (!args.out.empty()) {
    PassRequest request;
    request.actions = actions;
    request.bitcode_path = args.out;
    const PassResult written = (*pool)->Evaluate(request);
    if (!written.ok) {
      return ReportError(
          IoError("{}: cannot write the optimised module: {}", args.out, written.failure_reason));
    }
  }
  const double seconds = elapsed();
  const int evaluations = s.BudgetUsed();
  if (args.json) {
    nlohmann::json j = {{"program", program->sources},
                        {"objective", CompileObjectiveName(*objective)},
                        {"study", name},
                        {"storage", args.storage},
                        {"pipeline", pipeline},
                        {"passes", nlohmann::json::array()},
                        {"value", confirmed},
                        {"evaluations", evaluations},
                        {"evaluations_this_run", report->started},
                        {"failed", report->failed},
                        {"seconds", seconds},
                        {"workers_replaced", (*pool)->replaced()}};
    for (int a : actions) j["passes"].push_back(ActionId(a));
    const std::map<std::string, std::string> keys = {{"-O0", "o0"}, {"-O1", "o1"}, {"-O2", "o2"},
                                                     {"-O3", "o3"}, {"-Os", "os"}, {"-Oz", "oz"}};
    const std::string suffix = *objective == CompileObjective::kIrCount    ? "ir_count"
                               : *objective == CompileObjective::kTextSize ? "text_size"
                                                                           : "seconds";
    // Counts are whole numbers; only seconds are real.
    auto number = [&](double v) -> nlohmann::json {
      if (*objective == CompileObjective::kRuntime) return v;
      return static_cast<int64_t>(v);
    };
    j["value"] = number(confirmed);
    j[suffix] = number(confirmed);
    for (const auto& [label, key] : keys) j[key + "_" + suffix] = number(reference[label]);
    j["reduction_vs_oz"] = confirmed > 0 ? reference["-Oz"] / confirmed : 0.0;
    if (!args.out.empty()) j["out"] = args.out;
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("\n{}: {} evaluations ({} in this run, {} failed) in {:.1f} s\n", program->name,
             evaluations, report->started, report->failed, seconds);
  fmt::print("Best {}: {:g}\n", column, confirmed);
  fmt::print("  {:<5} {:>12}  {}\n", "", column, "best is");
  for (const auto& [label, pipeline_text] : levels) {
    fmt::print("  {:<5} {:>12g}  {} smaller\n", label, reference[label],
               Ratio(reference[label], confirmed));
  }
  fmt::print("Passes ({}): {}\n", actions.size(), SequenceText(actions));
  fmt::print("Pipeline: opt-14 -passes='{}'\n", pipeline.empty() ? "" : pipeline);
  if (!args.out.empty()) fmt::print("Optimised module written to {}\n", args.out);
  return kExitOk;
}

struct VectorizeArgs {
  std::vector<std::string> sources;
  std::vector<std::string> clang_flags;
  std::string run;
  int budget = 0;
  double time_limit_s = 0;
  int repeat = 3;
  std::string out;
  bool json = false;
  bool quiet = false;
  std::string sampler = "auto";
  std::string storage = kDefaultStorage;
  std::string study;
  std::vector<std::string> constraints;
  uint64_t seed = 0;
  double run_timeout_s = 0;
  std::string measure = "cpu";
};

// FNV-1a over the sources, the flags and the arguments: which program a study measured.
std::string VectorizeHash(const VectorizeArgs& args) {
  uint64_t h = 1469598103934665603ull;
  auto add = [&](const std::string& text) {
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  for (const auto& s : args.sources) {
    std::ifstream in(s, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    add(s);
    add(text.str());
  }
  for (const auto& f : args.clang_flags) add(f);
  add(args.run);
  add(args.measure);
  return fmt::format("{:016x}", h);
}

std::string FactorText(int v) { return v > 0 ? std::to_string(v) : "auto"; }

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int RunVectorize(const VectorizeArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  if (args.budget < 0) return ReportError(InvalidInput("--budget must be at least 1"));
  if (args.time_limit_s < 0 || std::isnan(args.time_limit_s)) {
    return ReportError(InvalidInput("--time-limit must be a positive number of seconds"));
  }
  if (args.repeat < 1) return ReportError(InvalidInput("--repeat must be at least 1"));
  if (args.run_timeout_s < 0 || std::isnan(args.run_timeout_s)) {
    return ReportError(InvalidInput("--run-timeout must be a positive number of seconds"));
  }
  if (args.measure != "cpu" && args.measure != "wall") {
    return ReportError(InvalidInput("--measure: unknown '{}' (cpu or wall)", args.measure));
  }
  auto scan = FindLoops(args.sources, args.clang_flags);
  if (!scan.ok()) return ReportError(scan.error());
  if (scan->loops.empty()) {
    std::string why;
    for (const auto& k : scan->skipped) {
      why += fmt::format("\n  {}:{}: {}", k.file, k.line, k.reason);
    }
    return ReportError(InvalidInput("no loop to tune in {}{}{}", fmt::join(args.sources, ", "),
                                    scan->skipped.empty() ? " (no innermost loop found)" : ":",
                                    why));
  }
  ScratchFolder scratch("sysopt-vectorize");
  if (scratch.path().empty()) return ReportError(IoError("cannot create a temporary folder"));
  if (!args.quiet) {
    fmt::print(stderr, "sysopt: {} innermost loop{} found; asking LLVM's vectoriser about them\n",
               scan->loops.size(), scan->loops.size() == 1 ? "" : "s");
  }
  auto probes = ProbeLoops(scan->loops, args.sources, args.clang_flags, scratch.path());
  if (!probes.ok()) return ReportError(probes.error());
  std::vector<SourceLoop> tuned;
  std::vector<SkippedLoop> skipped = scan->skipped;
  for (size_t i = 0; i < scan->loops.size(); ++i) {
    const SourceLoop& loop = scan->loops[i];
    if ((*probes)[i].vectorized) {
      tuned.push_back(loop);
    } else {
      skipped.push_back({loop.file, loop.line, (*probes)[i].reason});
    }
  }
  auto place = [](const SkippedLoop& k) { return fmt::format("{}:{}", k.file, k.line); };
  if (tuned.empty()) {
    std::string why;
    for (const auto& k : skipped) why += fmt::format("\n  {}: {}", place(k), k.reason);
    return ReportError(
        InvalidInput("no loop of {} can be vectorised, so there is nothing to tune:{}",
                     fmt::join(args.sources, ", "), why));
  }

  VectorizeOptions options;
  options.sources = args.sources;
  options.clang_flags = args.clang_flags;
  options.args = SplitWords(args.run);
  options.repeat = args.repeat;
  options.run_timeout_s = args.run_timeout_s;
  options.cpu_time = args.measure == "cpu";
  auto runner = VectorizeRunner::Create(options, tuned, scratch.path());
  if (!runner.ok()) return ReportError(runner.error());

  const std::string name =
      args.study.empty() ? fmt::format("{}-vectorize", fs::path(args.sources[0]).stem().string())
                         : args.study;
  auto spec = VectorizeSpec(name, static_cast<int>(tuned.size()), args.constraints);
  if (!spec.ok()) return ReportError(spec.error());
  uint64_t space_size = 0;
  {
    const FeasibleCount count = spec->space.CountFeasible();
    if (count.finite) space_size = static_cast<uint64_t>(std::min<long double>(count.value, 1e18L));
  }
  // Brute force means the whole space unless told otherwise.
  int budget = args.budget;
  if (budget == 0) {
    budget = args.sampler == "exhaustive" && space_size > 0 && space_size <= 100000
                 ? static_cast<int>(space_size)
                 : (args.time_limit_s > 0 ? INT_MAX / 4 : 30);
  }
  auto sampler = MakeSampler(args.sampler, SamplerOptions{args.seed, budget, "ei"});
  if (!sampler.ok()) return ReportError(sampler.error());
  auto storage = OpenStorage(args.storage);
  if (!storage.ok()) return ReportError(storage.error());
  const std::string hash = VectorizeHash(args);
  ResumeInfo resume;
  auto study = Study::Open(**storage, name, *spec,
                           {{"name", args.sampler},
                            {"seed", args.seed},
                            {"program", args.sources},
                            {"program_hash", hash}},
                           &resume);
  if (!study.ok()) return ReportError(study.error());
  Study& s = **study;
  const auto& stored = s.record().sampler;
  if (!resume.created && stored.contains("program_hash") && stored["program_hash"] != hash) {
    return ReportError(InvalidInput(
        "study '{}' in {} holds measurements of another version of the program, its flags or "
        "its arguments: name another --study to start afresh",
        name, args.storage));
  }
  const int before = s.BudgetUsed();
  if (!args.quiet) {
    fmt::print(stderr,
               "sysopt: tuning {} loop{} ({} configurations); -O3 runs in {:.3f} s; "
               "study '{}' in {} ({})\n",
               tuned.size(), tuned.size() == 1 ? "" : "s",
               space_size > 0 ? std::to_string(space_size) : "many", (*runner)->reference_seconds(),
               name, args.storage,
               resume.created ? "new" : fmt::format("resumed with {} finished", before));
    for (const auto& k : skipped) {
      fmt::print(stderr, "sysopt: not tuned: {}: {}\n", place(k), k.reason);
    }
    fmt::print(stderr, "sysopt: searching with {} for {}\n", args.sampler,
               args.time_limit_s > 0 && args.budget == 0 ? fmt::format("{:g} s", args.time_limit_s)
                                                         : fmt::format("{} evaluations", budget));
  }

  TuneOptions tune;
  tune.workers = 1;  // timings of programs running side by side would disturb each other
  tune.stop = &g_llvm_stop;
  tune.budget = budget >= INT_MAX / 4 ? INT_MAX / 2 : before + budget;
  // The confirmation runs at the end get a share of the time limit.
  if (args.time_limit_s > 0) tune.time_limit_s = std::max(1.0, args.time_limit_s * 0.8 - elapsed());
  double best_seen = std::numeric_limits<double>::infinity();
  double last_print = 0;
  const double o3_first = (*runner)->reference_seconds();
  if (!args.quiet) {
    tune.on_trial = [&](const TuneProgress& p) {
      const double now = elapsed();
      const bool improved = p.best && p.best->values.at(0) < best_seen;
      if (p.best) best_seen = std::min(best_seen, p.best->values.at(0));
      if (!improved && now - last_print < 2.0) return;
      last_print = now;
      fmt::print(stderr, "[{:6.1f} s] {:>4} evaluated{}  best {} s{}\n", now, p.budget_used,
                 p.failed ? fmt::format(" ({} failed)", p.failed) : "",
                 p.best ? fmt::format("{:.4f}", p.best->values[0]) : "-",
                 improved ? "  (new best)" : "");
    };
  }
  std::signal(SIGINT, OnLlvmInterrupt);
  std::signal(SIGTERM, OnLlvmInterrupt);
  auto report = Tune(s, **sampler, **runner, tune, resume.to_rerun);
  if (!report.ok()) return ReportError(report.error());
  const int evaluations = s.BudgetUsed();

  // Re-measure the best few against the plain -O3 build (the default configuration),
  // interleaved, so that the pick is not the luckiest of many noisy measurements.
  const Config plain = s.space().Default();
  std::vector<Config> configs = TopConfigs(s, 3);
  configs.erase(std::remove(configs.begin(), configs.end(), plain), configs.end());
  configs.insert(configs.begin(), plain);
  constexpr int kRounds = 3;
  // Nothing but -O3 measured well: there is nothing to re-measure it against.
  if (configs.size() > 1 && !g_llvm_stop) {
    if (!args.quiet) {
      fmt::print(stderr, "sysopt: re-measuring the best {} against -O3, {} rounds, interleaved\n",
                 configs.size() - 1, kRounds);
    }
    TuneOptions confirm_options;
    confirm_options.stop = &g_llvm_stop;
    if (args.time_limit_s > 0) {
      confirm_options.time_limit_s = std::max(1.0, args.time_limit_s - elapsed());
    }
    auto confirmed = Confirm(s, **runner, configs, kRounds, confirm_options);
    if (!confirmed.ok()) return ReportError(confirmed.error());
  }
  std::vector<double> plain_samples = ConfigSamples(s, plain, /*confirm_only=*/true);
  if (plain_samples.empty()) plain_samples = ConfigSamples(s, plain, false);
  const double o3_seconds = plain_samples.empty() ? o3_first : Median(plain_samples);
  Config chosen = plain;
  double best_seconds = o3_seconds;
  std::optional<Comparison> comparison;
  for (size_t c = 1; c < configs.size(); ++c) {
    const std::vector<double> samples = ConfigSamples(s, configs[c], /*confirm_only=*/true);
    if (samples.empty()) continue;
    const double m = Median(samples);
    const Comparison cmp = Compare(samples, plain_samples, /*minimize=*/true);
    // Never slower than -O3: a candidate must beat it in the re-measurement itself.
    if (m < best_seconds && cmp.verdict != Verdict::kWorse) {
      chosen = configs[c];
      best_seconds = m;
      comparison = cmp;
    }
  }
  const std::vector<LoopFactors> factors = ConfigFactors(chosen);
  const double speedup = best_seconds > 0 ? o3_seconds / best_seconds : 1.0;
  const bool kept_default = chosen == plain;

  std::vector<std::string> written;
  if (!args.out.empty()) {
    // One source: --out is the annotated file; several: a folder receiving each by name.
    const bool folder = args.sources.size() > 1;
    std::error_code ec;
    if (folder) fs::create_directories(args.out, ec);
    for (const std::string& source : args.sources) {
      std::vector<SourceLoop> mine;
      std::vector<LoopFactors> mine_factors;
      for (size_t i = 0; i < tuned.size(); ++i) {
        if (tuned[i].file == source) {
          mine.push_back(tuned[i]);
          mine_factors.push_back(factors[i]);
        }
      }
      std::ifstream in(source, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      const std::string path =
          folder ? (fs::path(args.out) / fs::path(source).filename()).string() : args.out;
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << AnnotateSource(text.str(), mine, mine_factors);
      out.close();
      if (!out) return ReportError(IoError("{}: cannot write the annotated source", path));
      written.push_back(path);
    }
  }
  int failed = 0, miscompiles = 0;
  for (const auto& t : s.Finished()) {
    if (t.state != TrialState::kFailed || t.failure_reason == "interrupted") continue;
    ++failed;
    if (t.failure_reason.rfind("miscompile", 0) == 0) ++miscompiles;
  }
  if (args.json) {
    nlohmann::json j = {{"sources", args.sources},
                        {"study", name},
                        {"storage", args.storage},
                        {"sampler", args.sampler},
                        {"loops", nlohmann::json::array()},
                        {"not_tuned", nlohmann::json::array()},
                        {"speedup_vs_o3", speedup},
                        {"o3_seconds", o3_seconds},
                        {"best_seconds", best_seconds},
                        {"kept_o3", kept_default},
                        {"evaluations", evaluations},
                        {"evaluations_this_run", report->started},
                        {"failed", failed},
                        {"miscompiles", miscompiles},
                        {"space_size", space_size},
                        {"measure", args.measure},
                        {"seconds", elapsed()}};
    for (size_t i = 0; i < tuned.size(); ++i) {
      auto factor = [](int v) -> nlohmann::json {
        if (v > 0) return v;
        return nullptr;  // left to LLVM
      };
      j["loops"].push_back({{"file", tuned[i].file},
                            {"line", tuned[i].line},
                            {"function", tuned[i].function},
                            {"vf", factor(factors[i].vf)},
                            {"if", factor(factors[i].ic)},
                            {"pragma", LoopPragma(factors[i])}});
    }
    for (const auto& k : skipped) {
      j["not_tuned"].push_back({{"file", k.file}, {"line", k.line}, {"reason", k.reason}});
    }
    if (comparison) j["verdict"] = VerdictName(comparison->verdict);
    if (!written.empty()) j["out"] = written;
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print(
      "\n{}: {} evaluations ({} in this run, {} failed, {} of them miscompiles) in {:.1f} s\n",
      fmt::join(args.sources, " "), evaluations, report->started, failed, miscompiles, elapsed());
  fmt::print("  {:<28} {:>5} {:>5}  {}\n", "loop", "VF", "IF", "pragma");
  for (size_t i = 0; i < tuned.size(); ++i) {
    const std::string pragma = LoopPragma(factors[i]);
    fmt::print("  {:<28} {:>5} {:>5}  {}\n", fmt::format("{}:{}", tuned[i].file, tuned[i].line),
               FactorText(factors[i].vf), FactorText(factors[i].ic),
               pragma.empty() ? "(none: LLVM chooses)" : pragma);
  }
  for (const auto& k : skipped) fmt::print("  {:<28} not tuned: {}\n", place(k), k.reason);
  fmt::print("-O3: {:.4f} s   best: {:.4f} s   speedup over clang-14 -O3: {:.3f}x{}\n", o3_seconds,
             best_seconds, speedup,
             kept_default ? " (nothing beat -O3 when re-measured: the -O3 build is kept)"
             : comparison ? fmt::format(" ({})", VerdictName(comparison->verdict))
                          : "");
  for (const auto& w : written) fmt::print("Annotated source written to {}\n", w);
  return kExitOk;
}

int RunFeatures(const ProgramArgs& args, const std::string& pipeline, bool json) {
  ProgramOptions program_options;
  program_options.clang_flags = args.clang_flags;
  auto program = LoadProgram(args.program, program_options);
  if (!program.ok()) return ReportError(program.error());
  auto pool = PassPool::Create(program->bitcode, PassPoolOptions{});
  if (!pool.ok()) return ReportError(pool.error());
  PassRequest request;
  request.pipeline = pipeline;
  request.features = true;
  const PassResult r = (*pool)->Evaluate(request);
  if (!r.ok) {
    // A pipeline that does not parse is the user's mistake.
    Error error(r.failure_reason.rfind("pass pipeline", 0) == 0 ? ErrorKind::kInvalidInput
                                                                : ErrorKind::kRuntime,
                r.failure_reason);
    return ReportError(error);
  }
  // InstCount comes first (70), then Autophase (56).
  const size_t n_instcount = 70;
  if (json) {
    nlohmann::json inst = nlohmann::json::object(), autophase = nlohmann::json::object();
    for (size_t i = 0; i < r.feature_names.size(); ++i) {
      (i < n_instcount ? inst : autophase)[r.feature_names[i]] = r.feature_values[i];
    }
    nlohmann::json j = {{"program", program->sources},
                        {"pipeline", pipeline},
                        {"ir_count", r.ir_count},
                        {"InstCount", inst},
                        {"Autophase", autophase}};
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("{}{}: {} IR instructions\n", program->name,
             pipeline.empty() ? "" : fmt::format(" after '{}'", pipeline), r.ir_count);
  for (size_t i = 0; i < r.feature_names.size(); ++i) {
    if (i == 0) fmt::print("InstCount:\n");
    if (i == n_instcount) fmt::print("Autophase:\n");
    fmt::print("  {:<24} {}\n", r.feature_names[i], r.feature_values[i]);
  }
  return kExitOk;
}

int RunActions(bool json) {
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (size_t i = 0; i < PassActions().size(); ++i) {
      const PassAction& a = PassActions()[i];
      j.push_back({{"name", ActionId(static_cast<int>(i))},
                   {"llvm_name", a.name},
                   {"compiler_gym_name", a.compiler_gym_name},
                   {"level", PassLevelName(a.level)},
                   {"pipeline", WrappedPass(a)}});
    }
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("{} passes (LLVM 14 name, level, as it runs alone; CompilerGym's name if different)\n",
             PassActions().size());
  for (size_t i = 0; i < PassActions().size(); ++i) {
    const PassAction& a = PassActions()[i];
    fmt::print("  {:<32} {:<9} {}{}\n", ActionId(static_cast<int>(i)), PassLevelName(a.level),
               WrappedPass(a),
               a.compiler_gym_name == a.name ? "" : fmt::format("  ({})", a.compiler_gym_name));
  }
  return kExitOk;
}

void AddProgramOptions(CLI::App* cmd, ProgramArgs* args) {
  cmd->add_option("program", args->program,
                  "The program: .c/.cc sources (compiled with clang-14 and linked), .bc or .ll "
                  "files")
      ->required();
  cmd->add_option("--clang-flag", args->clang_flags,
                  "Extra flag for clang-14 when compiling sources (repeatable), e.g. -I include");
}

}  // namespace

void RegisterLlvm(CLI::App& app, Action* action) {
  auto* llvm = app.add_subcommand(
      "llvm",
      "The compiler job: search LLVM 14 pass orderings in process (no opt processes, crashes "
      "isolated in forked workers), and read programs' features.");
  llvm->require_subcommand(1);

  auto passes_args = std::make_shared<PassesArgs>();
  auto* passes = llvm->add_subcommand(
      "passes",
      "Search a pass sequence that minimises the objective for the program, as a stored, "
      "resumable study. Ends with the best sequence, its cost against -O0 ... -Oz (all "
      "measured the same way), and an opt-14 pipeline that reproduces it.");
  AddProgramOptions(passes, &passes_args->program);
  passes
      ->add_option("--objective", passes_args->objective,
                   "ir-count (IR instructions, CompilerGym's IrInstructionCount), text-size "
                   "(.text bytes of the object file) or runtime (the linked program's run "
                   "time; its output must equal the unoptimised build's)")
      ->capture_default_str();
  passes->add_option("--time-limit", passes_args->time_limit_s,
                     "Seconds for the whole command (default 60 when no --budget)");
  passes->add_option("--budget,-n", passes_args->budget,
                     "Sequences to evaluate in this run (with --time-limit: whichever ends first)");
  std::string samplers;
  for (const auto& [n, d] : SamplerDescriptions()) samplers += fmt::format("\n  {}: {}", n, d);
  passes->add_option("--sampler", passes_args->sampler, "Search strategy:" + samplers)
      ->capture_default_str();
  passes
      ->add_option("--storage", passes_args->storage,
                   "SQLite file to record the study in (\"memory\" keeps nothing)")
      ->capture_default_str();
  passes->add_option("--study", passes_args->study,
                     "Study name (default: PROGRAM-OBJECTIVE); the same name resumes");
  passes->add_option("--out", passes_args->out, "Write the optimised module (bitcode) here");
  passes->add_option("--max-length", passes_args->max_length,
                     "Longest pass sequence searched (default 40)");
  passes
      ->add_option("--actions", passes_args->action_set,
                   "extended: CompilerGym's 118 passes plus the pipelines default<O1> ... "
                   "default<Oz> as single actions; compiler-gym: the passes only")
      ->capture_default_str();
  passes->add_option("--workers,-j", passes_args->workers,
                     "LLVM worker processes (default: one per core)");
  passes->add_option("--seed", passes_args->seed, "Random seed")->capture_default_str();
  passes->add_option("--run", passes_args->run,
                     "runtime: the program's arguments, as one string (\"in.txt 100\")");
  passes->add_option("--repeat", passes_args->repeat, "runtime: runs per sequence (median)")
      ->capture_default_str();
  passes
      ->add_option("--eval-timeout", passes_args->eval_timeout_s,
                   "Seconds one evaluation may take before its worker is killed")
      ->capture_default_str();
  passes->add_flag("--json", passes_args->json, "Print the result as one JSON object on stdout");
  passes->add_flag("--quiet,-q", passes_args->quiet, "No progress on stderr");
  passes->callback([passes_args, action, passes] {
    passes_args->time_limit_given = passes->count("--time-limit") > 0;
    *action = [passes_args] { return RunPasses(*passes_args); };
  });

  auto vectorize_args = std::make_shared<VectorizeArgs>();
  auto* vectorize = llvm->add_subcommand(
      "vectorize",
      "Choose the vectorisation width (VF) and interleave count (IF) of every innermost loop of "
      "C/C++ sources by search, as NeuroVectorizer does with a trained policy. Loops are found "
      "with libclang; loops LLVM's vectoriser cannot vectorise are reported and not tuned. Each "
      "trial builds the program with clang-14 -O3 and '#pragma clang loop vectorize_width(VF) "
      "interleave_count(IF)' before each loop, runs it --repeat times (median), and fails as a "
      "miscompile when its output differs from the plain -O3 build's. The best few are "
      "re-measured against -O3, interleaved, and -O3 is kept when nothing beats it. The space: "
      "per loop k, vf_k in {0, 1, 2, 4, ..., 64} and if_k in {0, 1, 2, 4, 8, 16}, where 0 "
      "leaves the choice to LLVM.");
  vectorize->add_option("sources", vectorize_args->sources, "The program's C/C++ sources")
      ->required();
  vectorize
      ->add_option("--run", vectorize_args->run,
                   "The program's arguments, as one string (\"in.txt 100\"); it runs in the "
                   "current folder")
      ->required();
  vectorize->add_option("--clang-flag", vectorize_args->clang_flags,
                        "Extra flag for clang-14 (repeatable), e.g. -I include, -march=native");
  vectorize->add_option("--budget,-n", vectorize_args->budget,
                        "Configurations to evaluate in this run (default 30; with --sampler "
                        "exhaustive, the whole space)");
  vectorize->add_option("--time-limit", vectorize_args->time_limit_s,
                        "Seconds for the whole command instead of a budget");
  vectorize->add_option("--repeat", vectorize_args->repeat, "Runs per configuration (median)")
      ->capture_default_str();
  vectorize->add_option("--out", vectorize_args->out,
                        "Write the source with the chosen pragmas inserted (nothing else "
                        "changed); with several sources, a folder that receives each");
  vectorize->add_option("--constraint", vectorize_args->constraints,
                        "A constraint in the expression language (repeatable); one naming "
                        "plain 'vf' and 'if' applies to every loop, e.g. 'vf * if <= 64'");
  std::string vsamplers;
  for (const auto& [n, d] : SamplerDescriptions()) vsamplers += fmt::format("\n  {}: {}", n, d);
  vectorize
      ->add_option("--sampler", vectorize_args->sampler,
                   "Search strategy (exhaustive: brute force over small spaces):" + vsamplers)
      ->capture_default_str();
  vectorize
      ->add_option("--storage", vectorize_args->storage,
                   "SQLite file to record the study in (\"memory\" keeps nothing)")
      ->capture_default_str();
  vectorize->add_option("--study", vectorize_args->study,
                        "Study name (default: SOURCE-vectorize); the same name resumes");
  vectorize->add_option("--seed", vectorize_args->seed, "Random seed")->capture_default_str();
  vectorize->add_option("--run-timeout", vectorize_args->run_timeout_s,
                        "Seconds one run may take (default: 10 x the -O3 build's, at least 5)");
  vectorize
      ->add_option("--measure", vectorize_args->measure,
                   "cpu: time each run by the program's CPU time (user + system), which a busy "
                   "machine disturbs less; wall: wall-clock time (programs that wait or run "
                   "threads)")
      ->capture_default_str();
  vectorize->add_flag("--json", vectorize_args->json,
                      "Print the result as one JSON object on stdout (a loop's vf/if is null "
                      "where LLVM chooses)");
  vectorize->add_flag("--quiet,-q", vectorize_args->quiet, "No progress on stderr");
  vectorize->callback([vectorize_args, action, vectorize] {
    if (vectorize->count("--budget") && vectorize->count("--time-limit")) {
      *action = [] { return ReportError(InvalidInput("give --budget or --time-limit, not both")); };
      return;
    }
    *action = [vectorize_args] { return RunVectorize(*vectorize_args); };
  });

  auto features_args = std::make_shared<ProgramArgs>();
  auto features_pipeline = std::make_shared<std::string>();
  auto features_json = std::make_shared<bool>(false);
  auto* features = llvm->add_subcommand(
      "features",
      "Print the program's InstCount (70 counters) and Autophase (56 features), as CompilerGym "
      "defines them, of the unoptimised module or after --pipeline.");
  AddProgramOptions(features, features_args.get());
  features->add_option("--pipeline", *features_pipeline,
                       "Apply this opt-14 pipeline first (e.g. 'default<Oz>')");
  features->add_flag("--json", *features_json, "Print JSON");
  features->callback([=] {
    *action = [=] { return RunFeatures(*features_args, *features_pipeline, *features_json); };
  });

  auto actions_json = std::make_shared<bool>(false);
  auto* actions = llvm->add_subcommand("actions", "List the passes the search orders.");
  actions->add_flag("--json", *actions_json, "Print JSON");
  actions->callback([=] { *action = [=] { return RunActions(*actions_json); }; });
}

}  // namespace sysopt::cli
