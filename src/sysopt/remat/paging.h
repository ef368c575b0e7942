#pragma once
/// \file
/// \brief Paging (POET, Patil et al., ICML 2022) as a third choice beside keeping and
/// recomputing a tensor: page it out to host memory after a use and page it back in before the
/// next. Transfers follow the graph's PagingParams (one link, serialised, not overlapped with
/// compute). Two planners use it: POET's binary page-in/page-out variables added to Checkmate's
/// program (formulation.h, solver `milp-paging`) and PageRecomputations below (solver `paging`).

#include <cstdint>
#include <string>
#include <vector>

#include "sysopt/remat/deadline.h"
#include "sysopt/remat/graph.h"
#include "sysopt/remat/schedule.h"

namespace sysopt::remat {

/// \brief The objective of one compute of node `i`: its cost (time) or its energy.
double ComputeObjective(const Graph& graph, int i, Objective objective);

/// \brief The objective of one transfer (page-out or page-in) of node `i`'s tensor: its time or
/// its energy. Needs graph.paging.
double TransferObjective(const Graph& graph, int i, Objective objective);

/// \brief What PageRecomputations returns.
struct PagingPass {
  Schedule schedule;       ///< The start schedule when nothing was replaced, unchanged.
  SimulationResult sim;    ///< Its simulated figures.
  int recomputations = 0;  ///< Recompute steps of the start schedule (sim.recomputes is what
                           ///< is left: some become page-ins, some serve nothing any more).
  int replaced = 0;        ///< Page-ins added.
  int evaluations = 0;     ///< Candidate schedules simulated.
};

/// \brief Replaces recomputations in `start` (a valid schedule) by page-ins where that lowers
/// `objective`. For each recomputed node, in decreasing order of compute per transfer, the
/// recomputations whose replacement alone (the host copy taken as made) saves more than a
/// page-in costs — its own compute and that of every recomputation that then has no reader
/// left — are replaced together, its first instance is paged out instead of freed, and the
/// result is kept when the simulator confirms a lower objective within max(budget, the start's
/// peak); rounds repeat while something changes and `deadline` allows. Memory never rises: a
/// page-in takes the memory its compute took, a page-out releases it where the free did, and
/// dropped recomputations only release memory earlier. With no paging parameters, or when no
/// replacement pays (a slow link), returns `start` itself.
PagingPass PageRecomputations(const Graph& graph, const Schedule& start, int64_t budget,
                              Objective objective, const Deadline& deadline);

/// \brief Lowers a paging stage plan (Checkmate's stored sets plus POET's page-ins and
/// page-outs, each (n + 1) x n as StagePlan::stored) to a schedule. Stage t has available what
/// is stored into it or paged in at it; it computes node t, what is stored into t + 1 but not
/// available, and recursively their missing inputs. A page-in at stage t comes right before the
/// first compute of the stage that reads it (at the end of the stage when only stored into
/// t + 1; dropped when neither); `paged_out[t][i]` ends the instance of i live at stage t by a
/// page-out, unless i already has a host copy. The result is not simulated here.
Schedule ScheduleFromPagingStages(const Graph& graph, const std::vector<std::vector<char>>& stored,
                                  const std::vector<std::vector<char>>& paged_in,
                                  const std::vector<std::vector<char>>& paged_out);

}  // namespace sysopt::remat
