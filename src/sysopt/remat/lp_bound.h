#pragma once
/// \file
/// \brief The LP relaxation of Checkmate's program: a lower bound on the cost of every plan in
/// the frontier-advancing model, and the fractional solution that LP rounding starts from.

#include <memory>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/remat/graph.h"

namespace sysopt::remat {

struct CheckmateModel;

/// \brief Result of solving the relaxation.
struct LpRelaxation {
  bool solved = false;      ///< The LP reached optimality; lower_bound and columns are set.
  bool infeasible = false;  ///< The LP (hence the integer program) has no solution.
  bool stopped = false;     ///< The simplex stopped at the time limit (no bound).
  double lower_bound = 0;   ///< Optimal LP cost in graph cost units.
  std::string status;
  std::vector<double> columns;            ///< Optimal column values.
  std::shared_ptr<CheckmateModel> model;  ///< The program the columns belong to.
};

/// \brief Solves the relaxation with CLP's dual simplex within `time_limit_s` (wall clock,
/// checked after every simplex iteration).
Expected<LpRelaxation> SolveLpRelaxation(const Graph& graph, int64_t budget_bytes,
                                         double time_limit_s);

/// \brief Solves the LP of BuildStageBoundaryRelaxation (R and S only, one memory row per
/// stage) with CLP's dual simplex within `time_limit_s`: a valid lower bound on every plan in
/// the model, solved in seconds for graphs of several hundred nodes where the full LP is not.
/// `columns` and `model` are set as for SolveLpRelaxation.
Expected<LpRelaxation> SolveStageBoundaryRelaxation(const Graph& graph, int64_t budget_bytes,
                                                    double time_limit_s);

}  // namespace sysopt::remat
