#pragma once
/// \file
/// \brief Built-in problems: synthetic test functions with known optima, evaluated in process.
/// They serve the benchmarks in bench/ (which sampler finds good configurations in fewest trials),
/// the tests, and as examples of the spec format: every problem's space is written as a spec
/// JSON document (Problem::spec_json) and read with ParseSpec.
///
/// The problems (each documented, with the source of its formula, in the file defining it):
///
/// | name               | space                                        | optimum                |
/// |--------------------|----------------------------------------------|------------------------|
/// | branin             | 2 reals                                      | 0.397887               |
/// | hartmann6          | 6 reals on [0, 1]                            | -3.32237               |
/// | rosenbrock_int     | 4 integers in [-5, 10]                       | 0 at (1, 1, 1, 1)      |
/// | ackley_mixed       | 2 reals, 1 categorical, 1 ordinal            | 0 (analytic)           |
/// | tsp10              | permutation of 10 cities                     | Held–Karp at creation  |
/// | loop_order         | permutation of 5 loops, 2 ordinal tiles      | enumerated at creation |
/// | kernel_constrained | 6 ordinals, constraints, hidden failures     | enumerated at creation |
/// | two_objective      | ZDT1 on 4 reals, 2 objectives                | hypervolume 120.6667   |
///
/// Every problem minimises. Thread safety: a Problem is immutable; `evaluate` is a pure function
/// and may be called concurrently. MakeProblem may be called from any thread.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/core/value.h"
#include "sysopt/runner/function_runner.h"
#include "sysopt/space/spec.h"

namespace sysopt {

/// \brief One built-in problem.
struct Problem {
  std::string name;
  std::string description;   ///< One line: what it is and where its formula comes from.
  nlohmann::json spec_json;  ///< The spec document `spec` was parsed from (no "run" section).
  Spec spec;                 ///< Space and objectives; `run` is empty (it runs in process).
  /// One value per objective, or an error: a configuration outside the space (wrong size,
  /// domain or constraint), or, for kernel_constrained, a failure of the simulated kernel.
  ObjectiveFunction evaluate;
  /// The known best value of the first objective (single-objective problems).
  std::optional<double> optimum;
  /// A configuration that attains `optimum`, where one is known.
  std::optional<Config> optimum_config;
  /// Multi-objective problems: the reference point (one value per objective) for hypervolume...
  std::vector<double> reference_point;
  /// ...and the hypervolume of the true Pareto front with respect to it.
  std::optional<double> max_hypervolume;
};

/// \brief The names MakeProblem accepts, in a fixed order.
std::vector<std::string> ProblemNames();

/// \brief Builds the named problem (enumerating its optimum where that is how it is known, which
/// takes at most a few tens of milliseconds). InvalidInput for an unknown name, listing the
/// known ones.
Expected<Problem> MakeProblem(std::string_view name);

/// \brief The hypervolume (area) dominated by `points` (each {f1, f2}, both minimised) and
/// bounded by `reference`; points not strictly better than the reference in both objectives
/// add nothing.
double Hypervolume2D(std::vector<std::vector<double>> points, const std::vector<double>& reference);

}  // namespace sysopt
