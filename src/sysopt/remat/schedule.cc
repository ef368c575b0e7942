#include "sysopt/remat/schedule.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "sysopt/core/json.h"

namespace sysopt::remat {

using nlohmann::json;

Expected<SimulationResult> Simulate(const Graph& graph, const Schedule& schedule,
                                    std::vector<int64_t>* memory_per_step) {
  if (memory_per_step) {
    memory_per_step->clear();
    memory_per_step->reserve(schedule.steps.size());
  }
  const int n = graph.size();
  std::vector<char> resident(n, 0);
  std::vector<char> computed(n, 0);
  SimulationResult result;
  int64_t memory = graph.fixed_bytes;
  result.peak_bytes = memory;
  for (size_t k = 0; k < schedule.steps.size(); ++k) {
    const Step& step = schedule.steps[k];
    if (step.node < 0 || step.node >= n) {
      return InvalidInput("schedule step {}: node index {} out of range", k, step.node);
    }
    const Node& node = graph.nodes[step.node];
    if (step.kind == Step::Kind::kFree) {
      if (!resident[step.node]) {
        return InvalidInput("schedule step {}: frees node id {} ('{}'), which is not resident", k,
                            node.id, node.name);
      }
      resident[step.node] = 0;
      memory -= node.bytes;
      if (memory_per_step) memory_per_step->push_back(memory);
      continue;
    }
    if (resident[step.node]) {
      return InvalidInput("schedule step {}: computes node id {} ('{}'), which is already resident",
                          k, node.id, node.name);
    }
    for (int input : node.inputs) {
      if (!resident[input]) {
        return InvalidInput(
            "schedule step {}: computes node id {} ('{}') but its input id {} is not resident", k,
            node.id, node.name, graph.nodes[input].id);
      }
    }
    resident[step.node] = 1;
    // Validated graphs cannot overflow (kMaxGraphBytes); a graph built by hand may.
    if (node.bytes < 0 || __builtin_add_overflow(memory, node.bytes, &memory)) {
      return InvalidInput(
          "schedule step {}: computing node id {} ('{}', {} bytes) overflows the memory count", k,
          node.id, node.name, node.bytes);
    }
    result.peak_bytes = std::max(result.peak_bytes, memory);
    if (memory_per_step) memory_per_step->push_back(memory);
    result.cost += node.cost;
    ++result.computes;
    if (computed[step.node]) ++result.recomputes;
    computed[step.node] = 1;
  }
  for (int output : graph.outputs) {
    if (!resident[output]) {
      return InvalidInput("schedule: output node id {} ('{}') is not resident at the end",
                          graph.nodes[output].id, graph.nodes[output].name);
    }
  }
  return result;
}

Schedule ScheduleFromComputeOrder(const Graph& graph, const std::vector<int>& order) {
  const int n = graph.size();
  const int m = static_cast<int>(order.size());
  std::vector<int> last_use(n, -1);  // position of the last read of the live instance
  std::vector<char> live(n, 0);
  std::vector<std::vector<int>> frees_after(m);
  for (int p = 0; p < m; ++p) {
    const int v = order[p];
    for (int input : graph.nodes[v].inputs) last_use[input] = p;
    if (live[v]) frees_after[last_use[v]].push_back(v);
    live[v] = 1;
    last_use[v] = p;
  }
  for (int v = 0; v < n; ++v) {
    if (live[v] && !graph.is_output[v]) frees_after[last_use[v]].push_back(v);
  }
  Schedule schedule;
  schedule.steps.reserve(2 * m);
  // Frees recorded at a position belong after that compute; a recompute of v is always placed
  // after the free of its previous instance because that instance's last read precedes it.
  for (int p = 0; p < m; ++p) {
    schedule.steps.push_back({Step::Kind::kCompute, order[p]});
    std::sort(frees_after[p].begin(), frees_after[p].end());
    for (int v : frees_after[p]) schedule.steps.push_back({Step::Kind::kFree, v});
  }
  return schedule;
}

Schedule KeepEverythingSchedule(const Graph& graph) {
  std::vector<int> order(graph.size());
  for (int i = 0; i < graph.size(); ++i) order[i] = i;
  return ScheduleFromComputeOrder(graph, order);
}

json ScheduleToJson(const Graph& graph, const Schedule& schedule) {
  json steps = json::array();
  for (const Step& step : schedule.steps) {
    steps.push_back(
        {{step.kind == Step::Kind::kCompute ? "compute" : "free", graph.nodes[step.node].id}});
  }
  return {{"steps", steps}};
}

Expected<Schedule> ScheduleFromJson(const Graph& graph, const json& j, std::string_view source) {
  if (!j.is_object() || !j.contains("steps") || !j["steps"].is_array()) {
    return InvalidInput("{}: a schedule must be an object with a 'steps' array", source);
  }
  std::unordered_map<int64_t, int> index_of;
  for (int i = 0; i < graph.size(); ++i) index_of[graph.nodes[i].id] = i;
  Schedule schedule;
  const json& steps = j["steps"];
  for (size_t k = 0; k < steps.size(); ++k) {
    const json& s = steps[k];
    const bool has_compute = s.is_object() && s.contains("compute");
    const bool has_free = s.is_object() && s.contains("free");
    if (!s.is_object() || s.size() != 1 || has_compute == has_free) {
      return InvalidInput("{}: steps[{}] must be {{\"compute\": id}} or {{\"free\": id}}, got {}",
                          source, k, s.dump());
    }
    const json& id = has_compute ? s["compute"] : s["free"];
    if (!id.is_number_integer()) {
      return InvalidInput("{}: steps[{}]: id {} is not an integer", source, k, id.dump());
    }
    auto it = index_of.find(id.get<int64_t>());
    if (it == index_of.end()) {
      return InvalidInput("{}: steps[{}]: node id {} does not exist in graph '{}'", source, k,
                          id.get<int64_t>(), graph.name);
    }
    schedule.steps.push_back({has_compute ? Step::Kind::kCompute : Step::Kind::kFree, it->second});
  }
  return schedule;
}

Expected<Schedule> LoadSchedule(const Graph& graph, const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidInput("{}: cannot open the schedule file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  Expected<json> j = ParseJson(buffer.str());
  if (!j.ok()) return j.error().WithContext(path);
  return ScheduleFromJson(graph, *j, path);
}

Expected<void> SaveSchedule(const Graph& graph, const Schedule& schedule, const std::string& path,
                            const json& header) {
  std::ofstream out(path);
  if (!out) return IoError("{}: cannot write schedule file", path);
  json j = header.is_object() ? header : json::object();
  j["steps"] = ScheduleToJson(graph, schedule)["steps"];
  out << j.dump() << "\n";
  if (!out) return IoError("{}: write failed", path);
  return Ok();
}

}  // namespace sysopt::remat

namespace sysopt::remat {

Expected<void> SaveSchedule(const Graph& graph, const Schedule& schedule,
                            const std::string& path) {
  return SaveSchedule(graph, schedule, path, json::object());
}

}  // namespace sysopt::remat
