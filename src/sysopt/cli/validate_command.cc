// `sysopt validate`: check a spec and describe its space.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "sysopt/cli/command.h"
#include "sysopt/runner/spec_runner.h"
#include "sysopt/space/spec.h"

namespace sysopt::cli {

namespace {

struct ValidateArgs {
  std::string spec_path;
  bool json = false;
};

std::string Domain(const Parameter& p) {
  switch (p.kind) {
    case ParamKind::kInteger:
      return fmt::format("{} .. {}{}{}", static_cast<int64_t>(p.low), static_cast<int64_t>(p.high),
                         p.step != 1 ? fmt::format(" step {}", p.step) : "", p.log ? " (log)" : "");
    case ParamKind::kReal:
      return fmt::format("{} .. {}{}", p.low, p.high, p.log ? " (log)" : "");
    case ParamKind::kOrdinal:
    case ParamKind::kCategorical: {
      std::vector<std::string> v;
      for (const auto& x : p.values) v.push_back(ValueToString(x));
      return fmt::format("{{{}}}", fmt::join(v, ", "));
    }
    case ParamKind::kPermutation:
      return fmt::format("orderings of 0..{}", p.size - 1);
    case ParamKind::kSequence:
      return fmt::format("sequences of {}..{} items from {} names", p.min_length, p.size,
                         p.values.size());
  }
  return "";
}

int RunValidate(const ValidateArgs& args) {
  auto spec = LoadSpec(args.spec_path);
  if (!spec.ok()) return ReportError(spec.error());
  const Space& space = spec->space;
  if (spec->run && !spec->run->command.empty()) {
    // The command template is checked as tune checks it (placeholders, braces), so that a spec
    // validate accepts is one tune accepts.
    auto runner = MakeSpecRunner(*spec);
    if (!runner.ok()) return ReportError(runner.error().WithContext(args.spec_path + ": run"));
  }
  const auto count = space.CountFeasible();
  if (args.json) {
    nlohmann::json j = spec->ToJson();
    j["format"] = spec->from_t1 ? "t1" : "sysopt";
    j["feasible"] = {{"finite", count.finite},
                     {"exact", count.exact},
                     {"count", count.finite ? nlohmann::json(static_cast<double>(count.value))
                                            : nlohmann::json(nullptr)},
                     {"text", count.ToString()}};
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  const bool infeasible = count.finite && count.exact && count.value == 0;
  if (infeasible) {
    fmt::print("{} is a {} spec ('{}') that no configuration satisfies:\n", args.spec_path,
               spec->from_t1 ? "T1" : "sysopt", spec->name);
  } else {
    fmt::print("{} is a valid {} spec: '{}'\n", args.spec_path, spec->from_t1 ? "T1" : "sysopt",
               spec->name);
  }
  fmt::print("Parameters ({}):\n", space.size());
  for (const auto& p : space.parameters()) {
    std::string default_text;
    if (p.default_value) {
      default_text = p.kind == ParamKind::kSequence
                         ? fmt::format("{}", fmt::join(p.SequenceNames(*p.default_value), ","))
                         : ValueToString(*p.default_value);
    }
    fmt::print("  {:<16} {:<12} {}{}{}\n", p.name, ParamKindName(p.kind), Domain(p),
               p.default_value ? fmt::format("  default {}", default_text) : "",
               p.IsConditional() ? fmt::format("  active if {}", p.active_if) : "");
  }
  if (!space.constraints().empty()) {
    fmt::print("Constraints ({}):\n", space.constraints().size());
    for (const auto& c : space.constraints()) fmt::print("  {}\n", c.text());
  }
  fmt::print("Objectives: ");
  for (size_t i = 0; i < spec->objectives.size(); ++i) {
    fmt::print("{}{} ({})", i ? ", " : "", spec->objectives[i].name,
               spec->objectives[i].minimize ? "minimize" : "maximize");
  }
  fmt::print("\nFeasible configurations: {}\n", count.ToString());
  if (spec->run) {
    const auto& run = *spec->run;
    const std::string timeout = !run.timeout_s       ? std::string("timeout by default")
                                : *run.timeout_s > 0 ? fmt::format("timeout {:g} s", *run.timeout_s)
                                                     : std::string("no timeout");
    fmt::print("Run: {} ({}, repeat {}, {}{}{}{})\n",
               run.command.empty() ? std::string("the command after -- to 'sysopt tune'")
                                   : fmt::format("{}", fmt::join(run.command, " ")),
               timeout, run.repeat, run.aggregate,
               run.objective == "wall-time" ? ", timed by sysopt" : "",
               run.warmup > 0 ? fmt::format(", {} warm-up", run.warmup) : "",
               run.check.empty() ? "" : fmt::format(", check: {}", fmt::join(run.check, " ")));
  } else {
    fmt::print("Run: none in the spec; give the command after -- to 'sysopt tune'\n");
  }
  if (infeasible) {
    return ReportError(
        InvalidInput("{}: no configuration satisfies the constraints", args.spec_path));
  }
  return kExitOk;
}

}  // namespace

void RegisterValidate(CLI::App& app, Action* action) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = app.add_subcommand(
      "validate",
      "Check a spec (sysopt JSON or T1) and describe its space: parameters, constraints and, for "
      "discrete spaces, the exact number of feasible configurations");
  cmd->add_option("spec", args->spec_path, "Spec file")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--json", args->json, "Print the normalised spec and the count as JSON");
  cmd->callback([args, action] { *action = [args] { return RunValidate(*args); }; });
}

}  // namespace sysopt::cli
