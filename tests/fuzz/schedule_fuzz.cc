// Fuzzes the schedule reader and the memory simulator on {"graph": ..., "schedule": ...}: any
// schedule of any accepted graph simulates to a peak or an error, and a peak is never below the
// fixed bytes nor above everything resident at once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sysopt/core/json.h"
#include "sysopt/remat/graph.h"
#include "sysopt/remat/schedule.h"

using namespace sysopt::remat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = sysopt::ParseJson(text);
  if (!json.ok() || !json->is_object() || !json->contains("graph") ||
      !json->contains("schedule")) {
    return 0;
  }
  auto graph = GraphFromJson((*json)["graph"], "graph.json");
  if (!graph.ok()) return 0;
  auto schedule = ScheduleFromJson(*graph, (*json)["schedule"], "schedule.json");
  if (!schedule.ok()) {
    if (schedule.error().message().empty()) abort();
    return 0;
  }
  auto sim = Simulate(*graph, *schedule);
  if (!sim.ok()) return 0;
  int64_t everything = graph->fixed_bytes;
  for (const Node& node : graph->nodes) everything += node.bytes;
  if (sim->peak_bytes < graph->fixed_bytes || sim->peak_bytes > everything) abort();
  if (sim->recomputes > sim->computes) abort();
  return 0;
}
