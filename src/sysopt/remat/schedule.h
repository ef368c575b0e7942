#pragma once
/// \file
/// \brief Schedules (ordered compute and free steps) and the simulator that checks them
/// independently of the solver that produced them.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/remat/graph.h"

namespace sysopt::remat {

/// \brief One step of a schedule: compute a node's tensor or free it.
struct Step {
  enum class Kind { kCompute, kFree };
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
                           ///< compute allocates its output (inputs still resident).
  double cost = 0.0;       ///< Sum of the costs of all compute steps.
  int computes = 0;        ///< Number of compute steps.
  int recomputes = 0;      ///< Compute steps of a node already computed earlier.
};

/// \brief Executes `schedule` on `graph` and checks it: every compute finds its inputs
/// resident and its own tensor absent, every free names a resident tensor, and every output is
/// resident at the end. Returns the exact peak memory and cost, or an InvalidInput error naming
/// the step and node. With `memory`, also the bytes resident after each step (fixed bytes
/// included), one entry per step: the memory profile over the schedule.
Expected<SimulationResult> Simulate(const Graph& graph, const Schedule& schedule,
                                    std::vector<int64_t>* memory = nullptr);

/// \brief Builds the schedule that computes `order` (node indices, recomputations allowed) and
/// frees each tensor right after its last read, so no schedule with this compute order uses
/// less memory. Outputs stay resident after their last computation.
Schedule ScheduleFromComputeOrder(const Graph& graph, const std::vector<int>& order);

/// \brief The keep-everything schedule: every node once in topological order, freed after its
/// last use unless it is an output.
Schedule KeepEverythingSchedule(const Graph& graph);

/// \brief JSON form `{"steps": [{"compute": id} | {"free": id}, ...]}` using node ids.
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
