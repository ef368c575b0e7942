#include "sysopt/runner/spec_runner.h"

#include "sysopt/runner/command_runner.h"

namespace sysopt {

Expected<std::unique_ptr<Runner>> MakeSpecRunner(const Spec& spec, const SpecRunnerHooks& hooks) {
  if (!spec.run) return InvalidInput("the spec has no \"run\" section");
  auto aggregate = ParseAggregate(spec.run->aggregate);
  if (!aggregate.ok()) return aggregate.error();
  std::vector<std::string> objective_names;
  for (const auto& o : spec.objectives) objective_names.push_back(o.name);
  CommandSettings settings;
  settings.command = spec.run->command;
  settings.timeout_s = spec.run->timeout_s.value_or(0);
  if (!spec.run->timeout_s) settings.default_timeout = hooks.default_timeout;
  settings.cancel = hooks.cancel;
  settings.measure = spec.run->objective == "wall-time" ? Measure::kWallTime : Measure::kOutput;
  settings.warmup = spec.run->warmup;
  settings.check = spec.run->check;
  settings.repeat = spec.run->repeat;
  settings.aggregate = *aggregate;
  settings.working_dir = spec.run->working_dir;
  // Sequences reach the command by item name, as a person writes them (e.g. -passes={passes}).
  for (const auto& p : spec.space.parameters()) {
    settings.conditional.push_back(p.IsConditional());
    settings.alphabets.emplace_back();
    if (p.kind != ParamKind::kSequence) continue;
    for (const auto& v : p.values) settings.alphabets.back().push_back(ValueToString(v));
  }
  return MakeCommandRunner(std::move(settings), spec.space.Names(), std::move(objective_names));
}

}  // namespace sysopt
