// `sysopt llvm`: the compiler job. `passes` searches LLVM pass orderings for a program in
// process (a study like `sysopt tune`'s), `features` prints a program's InstCount and Autophase
// features, `actions` lists the action set.
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
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "sysopt/cli/command.h"
#include "sysopt/cli/study_access.h"
#include "sysopt/compile/actions.h"
#include "sysopt/compile/pass_pool.h"
#include "sysopt/compile/pass_runner.h"
#include "sysopt/compile/program.h"
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
