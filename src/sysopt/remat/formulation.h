#pragma once
/// \file
/// \brief Checkmate's integer program (Jain et al., MLSys 2020) in the frontier-advancing
/// partition, as column and row arrays for COIN-OR CLP/CBC. Variables: R[t][i] (compute i in
/// stage t, i <= t), S[t][i] (i resident entering stage t, i < t), U[t][k] (memory after
/// computing k in stage t) and FREE[t][i][k] (i freed after computing k in stage t, i an input
/// of k or k itself). Memory is in units of (budget - fixed bytes); cost in units of the total
/// cost, so the objective of a plan is 1 + its overhead.

#include <coin/CoinPackedMatrix.hpp>
#include <cstdint>
#include <optional>
#include <vector>

#include "sysopt/remat/graph.h"
#include "sysopt/remat/stages.h"

namespace sysopt::remat {

/// \brief The program's arrays and the index of each variable.
struct CheckmateModel {
  int n = 0;
  std::vector<std::vector<int>> r;  ///< r[t][i], i <= t: column index.
  std::vector<std::vector<int>> s;  ///< s[t][i], i < t: column index (s[0] is empty).
  std::vector<std::vector<int>> u;  ///< u[t][k], k <= t: column index.
  struct Free {
    int t, i, k, column;
  };
  std::vector<Free> frees;
  std::vector<double> col_lb, col_ub, objective;
  std::vector<char> integer;
  CoinPackedMatrix matrix{false, 0, 0};  ///< Row-ordered constraint matrix.
  std::vector<double> row_lb, row_ub;
  double cost_scale = 1.0;    ///< Objective units per unit of graph cost.
  double memory_scale = 1.0;  ///< Bytes per unit of U.
};

/// \brief Builds the program for `graph` under `budget_bytes` (fixed bytes included). Returns
/// nullopt when the budget does not even hold the fixed bytes.
std::optional<CheckmateModel> BuildCheckmateModel(const Graph& graph, int64_t budget_bytes);

/// \brief The column values encoding a stage plan (FREE and U derived from R and S), or
/// nullopt when the plan breaks the program's memory bound (its accounting is conservative).
std::optional<std::vector<double>> EncodeStagePlan(const Graph& graph, const CheckmateModel& model,
                                                   const StagePlan& plan);

/// \brief The stored matrix read from column values (S rounded at `threshold`).
std::vector<std::vector<char>> StoredFromColumns(const CheckmateModel& model,
                                                 const std::vector<double>& columns,
                                                 double threshold);

}  // namespace sysopt::remat
