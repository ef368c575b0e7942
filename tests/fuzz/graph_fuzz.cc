// Fuzzes the training-graph reader: a graph that is accepted simulates without overflow under
// its keep-everything schedule and survives a round trip through JSON.
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
  if (!json.ok()) return 0;
  auto graph = GraphFromJson(*json, "fuzz.json");
  if (!graph.ok()) {
    if (graph.error().message().empty()) abort();
    return 0;
  }
  auto sim = Simulate(*graph, KeepEverythingSchedule(*graph));
  if (!sim.ok() || sim->peak_bytes < graph->fixed_bytes || sim->peak_bytes > kMaxGraphBytes) {
    abort();
  }
  auto again = GraphFromJson(GraphToJson(*graph), "again.json");
  if (!again.ok() || again->size() != graph->size()) abort();
  return 0;
}
