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
  std::vector<char> on_host(n, 0);
  SimulationResult result;
  int64_t memory = graph.fixed_bytes;
  result.peak_bytes = memory;
  // Allocates node v's device memory (a compute or a page-in) and counts the peak.
  auto allocate = [&](size_t k, const char* verb, const Node& node) -> Expected<void> {
    // Validated graphs cannot overflow (kMaxGraphBytes); a graph built by hand may.
    if (node.bytes < 0 || __builtin_add_overflow(memory, node.bytes, &memory)) {
      return InvalidInput(
          "schedule step {}: {} node id {} ('{}', {} bytes) overflows the memory count", k, verb,
          node.id, node.name, node.bytes);
    }
    result.peak_bytes = std::max(result.peak_bytes, memory);
    return Ok();
  };
  auto transfer = [&](size_t k, const char* verb, const Node& node) -> Expected<void> {
    if (!graph.paging) {
      return InvalidInput(
          "schedule step {}: {} node id {} ('{}'), but the graph has no paging parameters (give "
          "the graph a 'paging' field or --page-bandwidth)",
          k, verb, node.id, node.name);
    }
    result.paging_seconds += graph.paging->TransferSeconds(node.bytes);
    result.energy += graph.paging->TransferEnergy(node.bytes);
    result.paged_bytes += node.bytes;
    return Ok();
  };
  for (size_t k = 0; k < schedule.steps.size(); ++k) {
    const Step& step = schedule.steps[k];
    if (step.node < 0 || step.node >= n) {
      return InvalidInput("schedule step {}: node index {} out of range", k, step.node);
    }
    const Node& node = graph.nodes[step.node];
    switch (step.kind) {
      case Step::Kind::kFree:
      case Step::Kind::kPageOut: {
        const bool page_out = step.kind == Step::Kind::kPageOut;
        if (!resident[step.node]) {
          return InvalidInput("schedule step {}: {} node id {} ('{}'), which is not resident", k,
                              page_out ? "pages out" : "frees", node.id, node.name);
        }
        if (page_out) {
          if (on_host[step.node]) {
            return InvalidInput(
                "schedule step {}: pages out node id {} ('{}'), which already has a host copy "
                "(free it instead)",
                k, node.id, node.name);
          }
          if (auto ok = transfer(k, "pages out", node); !ok.ok()) return ok.error();
          on_host[step.node] = 1;
          ++result.page_outs;
        }
        // A page-out releases the device memory once the copy is done: the memory before this
        // step (which held the tensor) was already counted.
        resident[step.node] = 0;
        memory -= node.bytes;
        break;
      }
      case Step::Kind::kPageIn: {
        if (resident[step.node]) {
          return InvalidInput(
              "schedule step {}: pages in node id {} ('{}'), which is already "
              "resident",
              k, node.id, node.name);
        }
        if (!on_host[step.node]) {
          return InvalidInput(
              "schedule step {}: pages in node id {} ('{}'), which was never paged out", k, node.id,
              node.name);
        }
        if (auto ok = transfer(k, "pages in", node); !ok.ok()) return ok.error();
        resident[step.node] = 1;
        if (auto ok = allocate(k, "paging in", node); !ok.ok()) return ok.error();
        ++result.page_ins;
        break;
      }
      case Step::Kind::kCompute: {
        if (resident[step.node]) {
          return InvalidInput(
              "schedule step {}: computes node id {} ('{}'), which is already resident", k, node.id,
              node.name);
        }
        for (int input : node.inputs) {
          if (!resident[input]) {
            return InvalidInput(
                "schedule step {}: computes node id {} ('{}') but its input id {} is not "
                "resident{}",
                k, node.id, node.name, graph.nodes[input].id,
                on_host[input] ? " (it is paged out; page it in first)" : "");
          }
        }
        resident[step.node] = 1;
        if (auto ok = allocate(k, "computing", node); !ok.ok()) return ok.error();
        result.compute_cost += node.cost;
        result.energy += graph.NodeEnergy(step.node);
        ++result.computes;
        if (computed[step.node]) ++result.recomputes;
        computed[step.node] = 1;
        break;
      }
    }
    if (memory_per_step) memory_per_step->push_back(memory);
  }
  for (int output : graph.outputs) {
    if (!resident[output]) {
      return InvalidInput("schedule: output node id {} ('{}') is not resident at the end{}",
                          graph.nodes[output].id, graph.nodes[output].name,
                          on_host[output] ? " (it is paged out)" : "");
    }
  }
  result.cost = result.compute_cost + result.paging_seconds;
  return result;
}

Schedule ScheduleFromMaterializations(const Graph& graph,
                                      const std::vector<Materialization>& order) {
  const int n = graph.size();
  const int m = static_cast<int>(order.size());
  std::vector<int> last_use(n, -1);  // position of the last read of the live instance
  std::vector<int> live(n, -1);      // position of the live instance, or -1
  std::vector<std::vector<int>> ends_after(m);  // positions of the instances ended there
  for (int p = 0; p < m; ++p) {
    const int v = order[p].node;
    if (!order[p].page_in) {
      for (int input : graph.nodes[v].inputs) last_use[input] = p;
    }
    if (live[v] >= 0) ends_after[last_use[v]].push_back(live[v]);
    live[v] = p;
    last_use[v] = p;
  }
  for (int v = 0; v < n; ++v) {
    if (live[v] >= 0 && !graph.is_output[v]) ends_after[last_use[v]].push_back(live[v]);
  }
  Schedule schedule;
  schedule.steps.reserve(2 * m);
  // Ends recorded at a position belong after that step; a new instance of v always comes after
  // the end of its previous one because that instance's last read precedes it.
  for (int p = 0; p < m; ++p) {
    const Materialization& here = order[p];
    schedule.steps.push_back(
        {here.page_in ? Step::Kind::kPageIn : Step::Kind::kCompute, here.node});
    std::vector<int>& ends = ends_after[p];
    std::sort(ends.begin(), ends.end(),
              [&](int a, int b) { return order[a].node < order[b].node; });
    for (int q : ends) {
      schedule.steps.push_back(
          {order[q].page_out ? Step::Kind::kPageOut : Step::Kind::kFree, order[q].node});
    }
  }
  return schedule;
}

Schedule ScheduleFromComputeOrder(const Graph& graph, const std::vector<int>& order) {
  std::vector<Materialization> materializations;
  materializations.reserve(order.size());
  for (int v : order) materializations.push_back({v});
  return ScheduleFromMaterializations(graph, materializations);
}

std::vector<Materialization> MaterializationsOf(const Schedule& schedule, int nodes) {
  std::vector<Materialization> order;
  std::vector<int> live(nodes, -1);
  for (const Step& step : schedule.steps) {
    switch (step.kind) {
      case Step::Kind::kCompute:
      case Step::Kind::kPageIn:
        live[step.node] = static_cast<int>(order.size());
        order.push_back({step.node, step.kind == Step::Kind::kPageIn});
        break;
      case Step::Kind::kPageOut:
        if (live[step.node] >= 0) order[live[step.node]].page_out = true;
        break;
      case Step::Kind::kFree:
        break;
    }
  }
  return order;
}

Schedule KeepEverythingSchedule(const Graph& graph) {
  std::vector<int> order(graph.size());
  for (int i = 0; i < graph.size(); ++i) order[i] = i;
  return ScheduleFromComputeOrder(graph, order);
}

namespace {

// The JSON key of each step kind, in Step::Kind order.
constexpr const char* kStepKeys[] = {"compute", "free", "page_out", "page_in"};

}  // namespace

json ScheduleToJson(const Graph& graph, const Schedule& schedule) {
  json steps = json::array();
  for (const Step& step : schedule.steps) {
    steps.push_back({{kStepKeys[static_cast<int>(step.kind)], graph.nodes[step.node].id}});
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
    int kind = -1;
    if (s.is_object() && s.size() == 1) {
      for (int c = 0; c < 4; ++c) {
        if (s.contains(kStepKeys[c])) kind = c;
      }
    }
    if (kind < 0) {
      return InvalidInput(
          "{}: steps[{}] must be {{\"compute\": id}}, {{\"free\": id}}, {{\"page_out\": id}} "
          "or {{\"page_in\": id}}, got {}",
          source, k, s.dump());
    }
    const json& id = s[kStepKeys[kind]];
    if (!id.is_number_integer()) {
      return InvalidInput("{}: steps[{}]: id {} is not an integer", source, k, id.dump());
    }
    auto it = index_of.find(id.get<int64_t>());
    if (it == index_of.end()) {
      return InvalidInput("{}: steps[{}]: node id {} does not exist in graph '{}'", source, k,
                          id.get<int64_t>(), graph.name);
    }
    schedule.steps.push_back({static_cast<Step::Kind>(kind), it->second});
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
