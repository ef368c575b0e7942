#pragma once
/// \file
/// \brief Checkmate's integer program (Jain et al., MLSys 2020) in the frontier-advancing
/// partition, as column and row arrays for COIN-OR CLP/CBC. Variables: R[t][i] (compute i in
/// stage t, i <= t), S[t][i] (i resident entering stage t, i < t), U[t][k] (memory after
/// computing k in stage t) and FREE[t][i][k] (i freed after computing k in stage t, i an input
/// of k or k itself). Memory is in units of (budget - fixed bytes); cost in units of the total
/// cost, so the objective of a plan is 1 + its overhead. One extra row per stage (the memory
/// right after node t is computed, see BuildStageBoundaryRelaxation) is valid for every integer
/// point and tightens the LP relaxation.

#include <coin/CoinPackedMatrix.hpp>
#include <cstdint>
#include <optional>
#include <vector>

#include "sysopt/remat/graph.h"
#include "sysopt/remat/schedule.h"
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
  /// \brief With paging (BuildPagingModel), column indices of POET's variables, -1 where there
  /// is none (a tensor of no bytes is never paged); empty otherwise. pi[t][i], i < t: i paged
  /// in at the start of stage t; po[t][i], i <= t: the instance of i live in stage t is paged
  /// out when freed; h[t][i], i < t: a host copy of i exists entering stage t (continuous).
  std::vector<std::vector<int>> pi, po, h;
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

/// \brief Checkmate's program with POET's paging (Patil et al. 2022) added, for a graph with
/// paging parameters: PI, PO (binary) and H (continuous) per stage and tensor of non-zero size.
/// An input may also come from a page-in (R[t][k] <= R[t][i] + S[t][i] + PI[t][i]), so may a
/// tensor kept into the next stage (S[t+1][i] <= R[t][i] + S[t][i] + PI[t][i]); a page-in needs
/// a host copy (PI[t][i] <= H[t][i]), a host copy a page-out before (H[t+1][i] <= H[t][i] +
/// PO[t][i]), a page-out a tensor that exists in the stage (PO[t][i] <= R[t][i] + S[t][i] +
/// PI[t][i]); a paged-in tensor takes its memory from the start of its stage (in U[t][0]). A
/// page-out costs no memory row: it ends the tensor's device copy where FREE or S would. The
/// objective adds one transfer per PI and PO, in time or energy (`objective`, whose total for
/// computing every node once is the unit). Nullopt as BuildCheckmateModel, or without paging
/// parameters.
std::optional<CheckmateModel> BuildPagingModel(const Graph& graph, int64_t budget_bytes,
                                               Objective objective);

/// \brief The stored sets, page-ins and page-outs of a paging program's column values
/// (rounded at 0.5), each (n + 1) x n, for ScheduleFromPagingStages.
struct PagingStages {
  std::vector<std::vector<char>> stored, paged_in, paged_out;
};
PagingStages PagingStagesFromColumns(const Graph& graph, const CheckmateModel& model,
                                     const std::vector<double>& columns);

/// \brief A relaxation of the program small enough for graphs of several hundred nodes: only R
/// and S, the dependency and storage rows, and one memory row per stage instead of the U and
/// FREE rows. The memory row holds at the moment stage t has just computed node t, where the
/// program keeps resident at least node t, every input of t (FREE of an input waits for its
/// later readers) and everything stored into stage t + 1 (FREE[t][i][k] <= 1 - S[t+1][i], and
/// S[t+1][i] <= R[t][i] + S[t][i] makes it exist in stage t; each other tensor adds at least
/// nothing, since it is freed at most once and only when it exists). So every integer point of
/// the program, restricted to R and S, is feasible here, and the LP optimum of this relaxation
/// is a valid lower bound on the program's optimum. It is not dominated by the program's own LP
/// relaxation: the row is an integer argument, which is why BuildCheckmateModel adds it too.
/// `u` and `frees` of the result are empty.
std::optional<CheckmateModel> BuildStageBoundaryRelaxation(const Graph& graph,
                                                           int64_t budget_bytes);

/// \brief The column values encoding a stage plan (FREE and U derived from R and S), or
/// nullopt when the plan breaks the program's memory bound (its accounting is conservative).
std::optional<std::vector<double>> EncodeStagePlan(const Graph& graph, const CheckmateModel& model,
                                                   const StagePlan& plan);

/// \brief The column values of a paging program (BuildPagingModel) encoding `schedule`, a
/// schedule in stage form (first computations in node order, each stage computing its nodes in
/// order, as the planners' schedules are): its stage sets read off the steps, page-ins counted
/// from the start of their stage. Nullopt when the schedule is not in that form or breaks the
/// program's memory bound (its accounting is conservative).
std::optional<std::vector<double>> EncodePagingSchedule(const Graph& graph,
                                                        const CheckmateModel& model,
                                                        const Schedule& schedule);

/// \brief The stored matrix read from column values (S rounded at `threshold`).
std::vector<std::vector<char>> StoredFromColumns(const CheckmateModel& model,
                                                 const std::vector<double>& columns,
                                                 double threshold);

}  // namespace sysopt::remat
