#include "sysopt/problems/problem.h"
#include "sysopt/study/pareto.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <utility>

#include "sysopt/problems/builtin.h"

namespace sysopt {

namespace problems_detail {

Expected<Problem> Assemble(std::string name, std::string description, nlohmann::json spec_json,
                           ObjectiveFunction fn) {
  auto spec = ParseSpec(spec_json, "built-in problem " + name);
  if (!spec.ok()) return spec.error();
  const Space space = spec->space;
  // The wrapped function sees only configurations of its own space, so the formulas below can
  // read values by kind (std::get) without guarding each access.
  ObjectiveFunction checked =
      [space, fn = std::move(fn)](const Config& config) -> Expected<std::vector<double>> {
    SYSOPT_RETURN_IF_ERROR(space.Check(config));
    return fn(config);
  };
  return Problem{std::move(name),    std::move(description), std::move(spec_json), std::move(*spec),
                 std::move(checked), std::nullopt,           std::nullopt,         {},
                 std::nullopt};
}

Expected<void> EnumerateOptimum(Problem& problem) {
  const Space& space = problem.spec.space;
  const auto count = space.CountFeasible();
  if (!count.finite || !count.exact) {
    return RuntimeError("problem {}: its space cannot be enumerated ({})", problem.name,
                        count.ToString());
  }
  const auto total = static_cast<uint64_t>(count.value);
  double best = std::numeric_limits<double>::infinity();
  std::optional<Config> best_config;
  for (uint64_t rank = 0; rank < total; ++rank) {
    Config config = space.FeasibleAt(rank);
    auto values = problem.evaluate(config);
    if (!values.ok()) continue;  // the hidden infeasible region of kernel_constrained
    if (values->front() < best) {
      best = values->front();
      best_config = std::move(config);
    }
  }
  if (!best_config) {
    return RuntimeError("problem {}: no configuration evaluates without error", problem.name);
  }
  problem.optimum = best;
  problem.optimum_config = std::move(best_config);
  return Ok();
}

}  // namespace problems_detail

namespace {

using Factory = Expected<Problem> (*)();

const std::vector<std::pair<std::string, Factory>>& Registry() {
  static const std::vector<std::pair<std::string, Factory>> registry = {
      {"branin", &problems_detail::MakeBranin},
      {"hartmann6", &problems_detail::MakeHartmann6},
      {"rosenbrock_int", &problems_detail::MakeRosenbrockInt},
      {"ackley_mixed", &problems_detail::MakeAckleyMixed},
      {"mixed8", &problems_detail::MakeMixed8},
      {"tsp10", &problems_detail::MakeTsp10},
      {"loop_order", &problems_detail::MakeLoopOrder},
      {"kernel_constrained", &problems_detail::MakeKernelConstrained},
      {"two_objective", &problems_detail::MakeTwoObjective},
  };
  return registry;
}

}  // namespace

std::vector<std::string> ProblemNames() {
  std::vector<std::string> names;
  for (const auto& [name, _] : Registry()) names.push_back(name);
  return names;
}

Expected<Problem> MakeProblem(std::string_view name) {
  for (const auto& [n, factory] : Registry()) {
    if (n == name) return factory();
  }
  std::string known;
  for (const auto& n : ProblemNames()) known += (known.empty() ? "" : ", ") + n;
  return InvalidInput("unknown problem '{}' (known: {})", name, known);
}

double Hypervolume2D(std::vector<std::vector<double>> points,
                     const std::vector<double>& reference) {
  return Hypervolume(std::move(points), reference);
}

}  // namespace sysopt
