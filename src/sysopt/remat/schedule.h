#pragma once
/// \file
/// \brief Schedules (ordered compute, free, page-out and page-in steps) and the simulator that
/// checks them independently of the solver that produced them.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/remat/graph.h"

namespace sysopt::remat {

/// \brief One step of a schedule: compute a node's tensor or free it; with paging (the graph's
/// PagingParams), also copy it to host memory and free its device memory (page-out), or copy
/// its host copy back to the device (page-in). A host copy, once made, lasts to the end.
struct Step {
  enum class Kind { kCompute, kFree, kPageOut, kPageIn };
  Kind kind = Kind::kCompute;
  int node = 0;  ///< Node index (not id).
  bool operator==(const Step&) const = default;
};

/// \brief A schedule, executed in order from an empty memory (plus the graph's fixed bytes).
struct Schedule {
  std::vector<Step> steps;
};

/// \brief What executing a valid schedule costs.
struct SimulationResult {
  int64_t peak_bytes = 0;  ///< Highest resident bytes, fixed bytes included, counted after each
                           ///< compute allocates its output (inputs still resident) and after
                           ///< each page-in.
  double cost = 0.0;       ///< Time: compute_cost plus paging_seconds.
  int computes = 0;        ///< Number of compute steps.
  int recomputes = 0;      ///< Compute steps of a node already computed earlier.
  double compute_cost = 0.0;    ///< Sum of the costs of all compute steps.
  double paging_seconds = 0.0;  ///< Sum of the transfer times of all page-outs and page-ins
                                ///< (serialised on one link, not overlapped with compute).
  double energy = 0.0;      ///< Joules: Graph::NodeEnergy of each compute step plus the energy of
                            ///< each transfer.
  int page_outs = 0;        ///< Number of page-out steps.
  int page_ins = 0;         ///< Number of page-in steps.
  int64_t paged_bytes = 0;  ///< Bytes moved by page-outs and page-ins together.
};

/// \brief What a plan minimises: time (compute plus transfers) or energy (as POET does).
enum class Objective { kTime, kEnergy };

/// \brief The simulated figure `objective` names: `cost` or `energy`.
inline double ObjectiveValue(const SimulationResult& sim, Objective objective) {
  return objective == Objective::kEnergy ? sim.energy : sim.cost;
}

/// \brief Executes `schedule` on `graph` and checks it: every compute finds its inputs
/// resident and its own tensor absent, every free names a resident tensor, every page-out a
/// resident tensor without a host copy (its device memory is released once the transfer is
/// done), every page-in a tensor with a host copy that is not resident (it takes its device
/// memory again), paging steps need the graph's paging parameters, and every output is
/// resident at the end. Returns the exact peak memory, time and energy, or an InvalidInput
/// error naming the step and node. With `memory`, also the bytes resident after each step (fixed
/// bytes included), one entry per step: the memory profile over the schedule.
Expected<SimulationResult> Simulate(const Graph& graph, const Schedule& schedule,
                                    std::vector<int64_t>* memory = nullptr);

/// \brief Builds the schedule that computes `order` (node indices, recomputations allowed) and
/// frees each tensor right after its last read, so no schedule with this compute order uses
/// less memory. Outputs stay resident after their last computation.
Schedule ScheduleFromComputeOrder(const Graph& graph, const std::vector<int>& order);

/// \brief One instance of a tensor in a schedule built by ScheduleFromMaterializations: how it
/// becomes resident and how it leaves.
struct Materialization {
  int node = 0;
  bool page_in = false;   ///< Paged in from its host copy rather than computed.
  bool page_out = false;  ///< Leaves the device by a page-out (making the host copy) rather
                          ///< than a free; ignored for the last instance of an output.
  bool operator==(const Materialization&) const = default;
};

/// \brief Builds the schedule that materialises `order` and ends each instance right after its
/// last read (or right after it appears, when nothing reads it) by a free or, where flagged, a
/// page-out. Outputs stay resident after their last materialisation.
Schedule ScheduleFromMaterializations(const Graph& graph,
                                      const std::vector<Materialization>& order);

/// \brief The materialisations of a schedule, in order: one per compute or page-in step, with
/// `page_out` set on the instances that a page-out step ends.
std::vector<Materialization> MaterializationsOf(const Schedule& schedule, int nodes);

/// \brief The keep-everything schedule: every node once in topological order, freed after its
/// last use unless it is an output.
Schedule KeepEverythingSchedule(const Graph& graph);

/// \brief JSON form `{"steps": [{"compute": id} | {"free": id} | {"page_out": id} |
/// {"page_in": id}, ...]}` using node ids.
nlohmann::json ScheduleToJson(const Graph& graph, const Schedule& schedule);

/// \brief Reads the JSON form; `source` names the file in errors. Checks only the format and
/// that ids exist; use Simulate to check the schedule itself.
Expected<Schedule> ScheduleFromJson(const Graph& graph, const nlohmann::json& json,
                                    std::string_view source);

/// \brief Reads a schedule file.
Expected<Schedule> LoadSchedule(const Graph& graph, const std::string& path);

/// \brief Writes a schedule file. The fields of `header` (an object; e.g. the graph's path and
/// hash, the budget and the solver) are written beside "steps"; readers ignore them.
Expected<void> SaveSchedule(const Graph& graph, const Schedule& schedule, const std::string& path,
                            const nlohmann::json& header);
/// \brief Writes a schedule file with "steps" only.
Expected<void> SaveSchedule(const Graph& graph, const Schedule& schedule, const std::string& path);

}  // namespace sysopt::remat
