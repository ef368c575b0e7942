#include "sysopt/compile/pass_runner.h"

#include <unistd.h>

#include <filesystem>

#include "sysopt/compile/actions.h"
#include "sysopt/runner/subprocess.h"

namespace sysopt {

Expected<CompileObjective> ParseCompileObjective(std::string_view text) {
  if (text == "ir-count") return CompileObjective::kIrCount;
  if (text == "text-size") return CompileObjective::kTextSize;
  if (text == "runtime") return CompileObjective::kRuntime;
  return InvalidInput("--objective: unknown objective '{}' (ir-count, text-size or runtime)", text);
}

std::string_view CompileObjectiveName(CompileObjective objective) {
  switch (objective) {
    case CompileObjective::kIrCount:
      return "ir-count";
    case CompileObjective::kTextSize:
      return "text-size";
    case CompileObjective::kRuntime:
      return "runtime";
  }
  return "?";
}

std::string_view CompileObjectiveColumn(CompileObjective objective) {
  switch (objective) {
    case CompileObjective::kIrCount:
      return "ir_count";
    case CompileObjective::kTextSize:
      return "text_size_bytes";
    case CompileObjective::kRuntime:
      return "seconds";
  }
  return "?";
}

Spec PassOrderingSpec(const std::string& name, CompileObjective objective, int max_length,
                      bool compiler_gym_only) {
  auto space = Space::Create({PassSequenceParameter(max_length, compiler_gym_only)}, {});
  if (!space.ok()) throw std::logic_error("pass-ordering space: " + space.error().message());
  // No run command, budget or time limit: the pass runner evaluates in process, and the CLI's
  // flags set the rest.
  return Spec{name,         *space,       {{std::string(CompileObjectiveColumn(objective)), true}},
              std::nullopt, std::nullopt, std::nullopt,
              false};
}

std::vector<int> ConfigActions(const Config& config) {
  return std::get<Sequence>(config.at(0)).items;
}

PassRunner::PassRunner(PassPool& pool, CompileObjective objective, RuntimeOptions runtime,
                       std::string scratch_dir)
    : pool_(pool),
      objective_(objective),
      runtime_(std::move(runtime)),
      scratch_dir_(std::move(scratch_dir)) {}

Expected<std::unique_ptr<PassRunner>> PassRunner::Create(PassPool& pool, CompileObjective objective,
                                                         RuntimeOptions runtime,
                                                         std::string scratch_dir) {
  if (runtime.repeat < 1) return InvalidInput("--repeat must be at least 1");
  if (runtime.link_flags.empty()) runtime.link_flags = {"-lm"};
  std::unique_ptr<PassRunner> runner(
      new PassRunner(pool, objective, std::move(runtime), std::move(scratch_dir)));
  if (objective == CompileObjective::kRuntime) {
    // The reference: the unoptimised module, built and run once.
    const std::string object = fmt::format("{}/reference.o", runner->scratch_dir_);
    const std::string exe = fmt::format("{}/reference", runner->scratch_dir_);
    PassRequest request;
    request.object_path = object;
    const PassResult built = pool.Evaluate(request);
    if (!built.ok)
      return RuntimeError("building the unoptimised program: {}", built.failure_reason);
    SYSOPT_RETURN_IF_ERROR(runner->Link(object, exe));
    SubprocessOptions run;
    run.argv = {exe};
    run.argv.insert(run.argv.end(), runner->runtime_.args.begin(), runner->runtime_.args.end());
    run.env = CurrentEnvironment();
    run.working_dir = runner->runtime_.working_dir;
    run.timeout_s = runner->runtime_.timeout_s;
    const SubprocessOutcome outcome = RunSubprocess(run);
    if (!outcome.started) return InvalidInput("cannot run the program: {}", outcome.start_error);
    if (outcome.timed_out) {
      return InvalidInput("the unoptimised program did not finish within {} s",
                          runner->runtime_.timeout_s);
    }
    if (outcome.signaled) {
      return InvalidInput("the unoptimised program was killed by {}",
                          SignalName(outcome.signal_number));
    }
    runner->reference_output_ = outcome.stdout_tail;
    runner->reference_exit_ = outcome.exit_code;
    std::error_code ec;
    std::filesystem::remove(object, ec);
  }
  return runner;
}

Expected<void> PassRunner::Link(const std::string& object, const std::string& exe) {
  SubprocessOptions link;
  link.argv = {runtime_.linker, "-no-pie", object, "-o", exe};
  link.argv.insert(link.argv.end(), runtime_.link_flags.begin(), runtime_.link_flags.end());
  link.env = CurrentEnvironment();
  link.timeout_s = 120;
  const SubprocessOutcome outcome = RunSubprocess(link);
  if (!outcome.started) return RuntimeError("cannot run the linker: {}", outcome.start_error);
  if (outcome.timed_out || outcome.signaled || outcome.exit_code != 0) {
    std::string message = outcome.stderr_tail;
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return RuntimeError("linking failed: {}", message);
  }
  return Ok();
}

RunResult PassRunner::Run(const Config& config, int64_t /*trial_number*/) {
  PassRequest request;
  request.actions = ConfigActions(config);
  return Measure(std::move(request));
}

RunResult PassRunner::RunPipeline(const std::string& pipeline) {
  PassRequest request;
  request.pipeline = pipeline;
  // An empty pipeline text means "no passes": an empty action list does exactly that.
  return Measure(std::move(request));
}

RunResult PassRunner::Measure(PassRequest request) {
  RunResult result;
  const int64_t id = counter_.fetch_add(1);
  const std::string object = fmt::format("{}/t{}.o", scratch_dir_, id);
  const std::string exe = fmt::format("{}/t{}", scratch_dir_, id);
  request.text_size = objective_ == CompileObjective::kTextSize;
  if (objective_ == CompileObjective::kRuntime) request.object_path = object;
  const PassResult passes = pool_.Evaluate(request);
  result.elapsed_s = passes.seconds;
  if (!passes.ok) {
    result.failure_reason = passes.failure_reason;
    return result;
  }
  if (objective_ == CompileObjective::kIrCount) {
    result.ok = true;
    result.values = {static_cast<double>(passes.ir_count)};
    result.samples = {result.values};
    return result;
  }
  if (objective_ == CompileObjective::kTextSize) {
    result.ok = true;
    result.values = {static_cast<double>(passes.text_size)};
    result.samples = {result.values};
    return result;
  }
  // Runtime: link, run `repeat` times, and compare every output with the reference.
  std::error_code ec;
  auto linked = Link(object, exe);
  std::filesystem::remove(object, ec);
  if (!linked.ok()) {
    result.failure_reason = linked.error().message();
    return result;
  }
  SubprocessOptions run;
  run.argv = {exe};
  run.argv.insert(run.argv.end(), runtime_.args.begin(), runtime_.args.end());
  run.env = CurrentEnvironment();
  run.working_dir = runtime_.working_dir;
  run.timeout_s = runtime_.timeout_s;
  for (int r = 0; r < runtime_.repeat; ++r) {
    const SubprocessOutcome outcome = RunSubprocess(run);
    result.run_seconds.push_back(outcome.seconds);
    result.elapsed_s += outcome.seconds;
    result.stderr_tail = outcome.stderr_tail;
    if (outcome.timed_out) {
      result.failure_reason =
          fmt::format("timeout: the program ran longer than {} s", runtime_.timeout_s);
    } else if (outcome.signaled) {
      result.failure_reason = fmt::format("miscompile: the program was killed by {}",
                                          SignalName(outcome.signal_number));
    } else if (outcome.exit_code != reference_exit_ || outcome.stdout_tail != reference_output_) {
      result.failure_reason = fmt::format(
          "miscompile: the output differs from the unoptimised build's (exit code {} against {})",
          outcome.exit_code, reference_exit_);
    }
    if (!result.failure_reason.empty()) break;
    result.samples.push_back({outcome.seconds});
  }
  std::filesystem::remove(exe, ec);
  if (!result.failure_reason.empty()) {
    result.samples.clear();
    return result;
  }
  result.ok = true;
  result.values = AggregateSamples(result.samples, Aggregate::kMedian);
  return result;
}

}  // namespace sysopt
