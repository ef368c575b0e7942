#pragma once
/// \file
/// \brief Internal to problems/: the factory of each built-in problem (one per file) and the
/// helpers they share. Users go through MakeProblem (problem.h).

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "sysopt/problems/problem.h"

namespace sysopt::problems_detail {

Expected<Problem> MakeBranin();
Expected<Problem> MakeHartmann6();
Expected<Problem> MakeRosenbrockInt();
Expected<Problem> MakeAckleyMixed();
Expected<Problem> MakeMixed8();
Expected<Problem> MakeTwoObjective();
Expected<Problem> MakeTsp10();
Expected<Problem> MakeLoopOrder();
Expected<Problem> MakeKernelConstrained();

/// \brief Parses `spec_json` into the problem's spec and wraps `fn` so that every configuration
/// is checked against the space (size, domains, constraints) before `fn` sees it; `fn` may then
/// read the values by kind without further checks.
Expected<Problem> Assemble(std::string name, std::string description, nlohmann::json spec_json,
                           ObjectiveFunction fn);

/// \brief The numeric value at position i (real, integer or numeric ordinal).
inline double Num(const Config& c, size_t i) { return AsDouble(c[i]); }

/// \brief The string value at position i (categorical or string ordinal).
inline const std::string& Str(const Config& c, size_t i) { return std::get<std::string>(c[i]); }

/// \brief The permutation at position i.
inline const std::vector<int>& Perm(const Config& c, size_t i) {
  return std::get<Permutation>(c[i]).order;
}

/// \brief Evaluates the problem at every feasible configuration of its (finite, exactly
/// countable) space and records the least first-objective value among those that evaluate
/// without error as `optimum`, with its configuration. Ties keep the lowest rank.
Expected<void> EnumerateOptimum(Problem& problem);

inline constexpr double kPi = 3.14159265358979323846;

}  // namespace sysopt::problems_detail
