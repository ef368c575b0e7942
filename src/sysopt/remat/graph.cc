#include "sysopt/remat/graph.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "sysopt/core/json.h"
#include "sysopt/remat/size.h"

namespace sysopt::remat {

using nlohmann::json;

double Graph::TotalCost() const {
  double total = 0.0;
  for (const Node& node : nodes) total += node.cost;
  return total;
}

double Graph::ForwardCost() const {
  double total = 0.0;
  for (const Node& node : nodes) {
    if (!node.backward) total += node.cost;
  }
  return total;
}

double Graph::NodeEnergy(int i) const {
  const Node& node = nodes[i];
  if (node.energy_j >= 0) return node.energy_j;
  return node.cost * (paging ? paging->compute_power_w : kDefaultComputePowerW);
}

double Graph::TotalEnergy() const {
  double total = 0.0;
  for (int i = 0; i < size(); ++i) total += NodeEnergy(i);
  return total;
}

int Graph::IndexOf(int64_t id) const {
  for (int i = 0; i < size(); ++i) {
    if (nodes[i].id == id) return i;
  }
  return -1;
}

namespace {

// Finds a cycle among nodes (inputs given as indices, possibly forward references) and returns
// the ids on it, or an empty vector when the graph is acyclic.
std::vector<int64_t> FindCycle(const std::vector<Node>& nodes) {
  const int n = static_cast<int>(nodes.size());
  std::vector<int> state(n, 0);  // 0 new, 1 on stack, 2 done
  std::vector<int> parent(n, -1);
  for (int root = 0; root < n; ++root) {
    if (state[root] != 0) continue;
    std::vector<std::pair<int, size_t>> stack{{root, 0}};
    state[root] = 1;
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (next < nodes[v].inputs.size()) {
        const int u = nodes[v].inputs[next++];
        if (state[u] == 1) {
          std::vector<int64_t> cycle{nodes[u].id};
          for (auto it = stack.rbegin(); it != stack.rend() && it->first != u; ++it) {
            cycle.push_back(nodes[it->first].id);
          }
          return cycle;
        }
        if (state[u] == 0) {
          state[u] = 1;
          stack.push_back({u, 0});
        }
      } else {
        state[v] = 2;
        stack.pop_back();
      }
    }
  }
  return {};
}

Expected<Graph> Finish(std::string source, Graph graph) {
  const int n = graph.size();
  for (int i = 0; i < n; ++i) {
    const Node& node = graph.nodes[i];
    if (node.bytes < 0) {
      return InvalidInput("{}: nodes[{}] (id {}): field 'bytes' is negative ({})", source, i,
                          node.id, node.bytes);
    }
    if (!std::isfinite(node.cost) || node.cost < 0) {
      return InvalidInput("{}: nodes[{}] (id {}): field 'cost' must be finite and >= 0, got {}",
                          source, i, node.id, node.cost);
    }
    for (int input : node.inputs) {
      if (input < 0 || input >= n) {
        return InvalidInput("{}: nodes[{}] (id {}): input index {} out of range", source, i,
                            node.id, input);
      }
    }
  }
  if (auto cycle = FindCycle(graph.nodes); !cycle.empty()) {
    std::string ids;
    for (int64_t id : cycle) ids += (ids.empty() ? "" : " -> ") + std::to_string(id);
    return InvalidInput("{}: the graph has a cycle through node ids {}", source, ids);
  }
  for (int i = 0; i < n; ++i) {
    for (int input : graph.nodes[i].inputs) {
      if (input >= i) {
        return InvalidInput(
            "{}: nodes[{}] (id {}) reads id {}, which is listed later; nodes must be in "
            "topological order",
            source, i, graph.nodes[i].id, graph.nodes[input].id);
      }
    }
  }
  if (graph.fixed_bytes < 0) {
    return InvalidInput("{}: field 'fixed_bytes' is negative ({})", source, graph.fixed_bytes);
  }
  // Everything resident at once must fit in int64 with room to spare, or the simulator's and
  // the solvers' sums would wrap around.
  int64_t total = graph.fixed_bytes;
  if (total > kMaxGraphBytes) {
    return InvalidInput("{}: field 'fixed_bytes' ({}) is above the limit of {} bytes", source,
                        total, kMaxGraphBytes);
  }
  for (int i = 0; i < n; ++i) {
    const Node& node = graph.nodes[i];
    if (node.bytes > kMaxGraphBytes - total) {
      return InvalidInput(
          "{}: nodes[{}] (id {}): field 'bytes' ({}) brings the graph's total size above the "
          "limit of {} bytes",
          source, i, node.id, node.bytes, kMaxGraphBytes);
    }
    total += node.bytes;
  }
  graph.users.assign(n, {});
  graph.is_output.assign(n, 0);
  for (int i = 0; i < n; ++i) {
    std::vector<int>& inputs = graph.nodes[i].inputs;
    std::sort(inputs.begin(), inputs.end());
    inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
    for (int input : inputs) graph.users[input].push_back(i);
  }
  for (int output : graph.outputs) {
    if (output < 0 || output >= n) {
      return InvalidInput("{}: field 'outputs': index {} out of range", source, output);
    }
    graph.is_output[output] = 1;
  }
  graph.outputs.clear();
  for (int i = 0; i < n; ++i) {
    if (graph.is_output[i]) graph.outputs.push_back(i);
  }
  if (n > 0 && graph.outputs.empty()) {
    return InvalidInput("{}: field 'outputs' is empty; name the nodes that must exist at the end",
                        source);
  }
  return graph;
}

}  // namespace

Expected<Graph> MakeGraph(std::string name, std::vector<Node> nodes, std::vector<int> outputs,
                          int64_t fixed_bytes) {
  Graph graph;
  graph.name = std::move(name);
  graph.nodes = std::move(nodes);
  graph.outputs = std::move(outputs);
  graph.fixed_bytes = fixed_bytes;
  std::unordered_map<int64_t, int> seen;
  for (int i = 0; i < graph.size(); ++i) {
    if (!seen.emplace(graph.nodes[i].id, i).second) {
      return InvalidInput("graph '{}': nodes[{}]: duplicate id {}", graph.name, i,
                          graph.nodes[i].id);
    }
  }
  // Named before the move: the order in which arguments are evaluated is unspecified.
  std::string source = fmt::format("graph '{}'", graph.name);
  return Finish(std::move(source), std::move(graph));
}

Expected<Graph> GraphFromJson(const json& j, std::string_view source_view) {
  const std::string source(source_view);
  if (!j.is_object()) return InvalidInput("{}: a graph must be a JSON object", source);
  Graph graph;
  if (j.contains("name")) {
    if (!j["name"].is_string()) return InvalidInput("{}: field 'name' must be a string", source);
    graph.name = j["name"].get<std::string>();
  }
  if (!j.contains("nodes") || !j["nodes"].is_array()) {
    return InvalidInput("{}: field 'nodes' is missing or not an array", source);
  }
  if (!j.contains("outputs") || !j["outputs"].is_array()) {
    return InvalidInput("{}: field 'outputs' is missing or not an array", source);
  }
  if (j.contains("fixed_bytes")) {
    if (!j["fixed_bytes"].is_number_integer() ||
        (j["fixed_bytes"].is_number_unsigned() &&
         j["fixed_bytes"].get<uint64_t>() > static_cast<uint64_t>(kMaxGraphBytes))) {
      return InvalidInput("{}: field 'fixed_bytes' must be an integer of at most 2^62, got {}",
                          source, j["fixed_bytes"].dump());
    }
    graph.fixed_bytes = j["fixed_bytes"].get<int64_t>();
  }
  if (j.contains("batch_size")) {
    if (!j["batch_size"].is_number_integer() || j["batch_size"].get<int64_t>() < 0) {
      return InvalidInput("{}: field 'batch_size' must be a non-negative integer, got {}", source,
                          j["batch_size"].dump());
    }
    graph.batch_size = j["batch_size"].get<int64_t>();
  }
  if (j.contains("paging")) {
    auto paging = PagingFromJson(j["paging"], source);
    if (!paging.ok()) return paging.error();
    graph.paging = *paging;
  }
  const json& nodes = j["nodes"];
  std::unordered_map<int64_t, int> index_of;
  std::vector<std::vector<int64_t>> input_ids(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const json& jn = nodes[i];
    if (!jn.is_object()) return InvalidInput("{}: nodes[{}] must be an object", source, i);
    Node node;
    if (!jn.contains("id") || !jn["id"].is_number_integer()) {
      return InvalidInput("{}: nodes[{}]: field 'id' is missing or not an integer", source, i);
    }
    node.id = jn["id"].get<int64_t>();
    if (!index_of.emplace(node.id, static_cast<int>(i)).second) {
      return InvalidInput("{}: nodes[{}]: duplicate id {}", source, i, node.id);
    }
    if (jn.contains("name")) {
      if (!jn["name"].is_string()) {
        return InvalidInput("{}: nodes[{}] (id {}): field 'name' must be a string", source, i,
                            node.id);
      }
      node.name = jn["name"].get<std::string>();
    }
    if (jn.contains("op")) {
      if (!jn["op"].is_string()) {
        return InvalidInput("{}: nodes[{}] (id {}): field 'op' must be a string", source, i,
                            node.id);
      }
      node.op = jn["op"].get<std::string>();
    }
    if (!jn.contains("bytes") || !jn["bytes"].is_number_integer()) {
      return InvalidInput("{}: nodes[{}] (id {}): field 'bytes' is missing or not an integer",
                          source, i, node.id);
    }
    // Beyond int64 the value would wrap to a negative one.
    if (jn["bytes"].is_number_unsigned() &&
        jn["bytes"].get<uint64_t>() > static_cast<uint64_t>(kMaxGraphBytes)) {
      return InvalidInput(
          "{}: nodes[{}] (id {}): field 'bytes' ({}) is above the limit of {} bytes", source, i,
          node.id, jn["bytes"].get<uint64_t>(), kMaxGraphBytes);
    }
    node.bytes = jn["bytes"].get<int64_t>();
    if (!jn.contains("cost") || !jn["cost"].is_number()) {
      return InvalidInput("{}: nodes[{}] (id {}): field 'cost' is missing or not a number", source,
                          i, node.id);
    }
    node.cost = jn["cost"].get<double>();
    if (jn.contains("backward")) {
      if (!jn["backward"].is_boolean()) {
        return InvalidInput("{}: nodes[{}] (id {}): field 'backward' must be true or false", source,
                            i, node.id);
      }
      node.backward = jn["backward"].get<bool>();
    }
    if (jn.contains("module")) {
      if (!jn["module"].is_string()) {
        return InvalidInput("{}: nodes[{}] (id {}): field 'module' must be a string, got {}",
                            source, i, node.id, jn["module"].dump());
      }
      node.module = jn["module"].get<std::string>();
    }
    if (jn.contains("energy_j")) {
      if (!jn["energy_j"].is_number() || !std::isfinite(jn["energy_j"].get<double>()) ||
          jn["energy_j"].get<double>() < 0) {
        return InvalidInput(
            "{}: nodes[{}] (id {}): field 'energy_j' must be a finite number >= 0, got {}", source,
            i, node.id, jn["energy_j"].dump());
      }
      node.energy_j = jn["energy_j"].get<double>();
    }
    if (jn.contains("inputs")) {
      if (!jn["inputs"].is_array()) {
        return InvalidInput("{}: nodes[{}] (id {}): field 'inputs' must be an array", source, i,
                            node.id);
      }
      for (const json& input : jn["inputs"]) {
        if (!input.is_number_integer()) {
          return InvalidInput("{}: nodes[{}] (id {}): input {} is not an integer id", source, i,
                              node.id, input.dump());
        }
        input_ids[i].push_back(input.get<int64_t>());
      }
    }
    graph.nodes.push_back(std::move(node));
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (int64_t id : input_ids[i]) {
      auto it = index_of.find(id);
      if (it == index_of.end()) {
        return InvalidInput("{}: nodes[{}] (id {}): input id {} does not exist", source, i,
                            graph.nodes[i].id, id);
      }
      if (it->second == static_cast<int>(i)) {
        return InvalidInput("{}: nodes[{}] (id {}) reads itself (a cycle)", source, i,
                            graph.nodes[i].id);
      }
      graph.nodes[i].inputs.push_back(it->second);
    }
  }
  for (const json& output : j["outputs"]) {
    if (!output.is_number_integer()) {
      return InvalidInput("{}: field 'outputs': {} is not an integer id", source, output.dump());
    }
    auto it = index_of.find(output.get<int64_t>());
    if (it == index_of.end()) {
      return InvalidInput("{}: field 'outputs': id {} does not exist", source,
                          output.get<int64_t>());
    }
    graph.outputs.push_back(it->second);
  }
  return Finish(source, std::move(graph));
}

Expected<PagingParams> PagingFromJson(const json& j, std::string_view source) {
  if (!j.is_object()) {
    return InvalidInput(
        "{}: field 'paging' must be an object such as {{\"bandwidth_bytes_per_s\": "
        "12e9}}, got {}",
        source, j.dump());
  }
  static constexpr const char* kFields[] = {"bandwidth_bytes_per_s", "latency_s",
                                            "energy_per_byte_j", "compute_power_w"};
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    if (std::find_if(std::begin(kFields), std::end(kFields),
                     [&](const char* f) { return key == f; }) == std::end(kFields)) {
      return InvalidInput(
          "{}: field 'paging.{}' is unknown (known: bandwidth_bytes_per_s, latency_s, "
          "energy_per_byte_j, compute_power_w)",
          source, key);
    }
  }
  PagingParams paging;
  if (!j.contains("bandwidth_bytes_per_s")) {
    return InvalidInput("{}: field 'paging.bandwidth_bytes_per_s' is missing", source);
  }
  const json& bandwidth = j["bandwidth_bytes_per_s"];
  if (bandwidth.is_string()) {
    auto rate = ParseBandwidth(bandwidth.get<std::string>());
    if (!rate.ok()) {
      return rate.error().WithContext(
          fmt::format("{}: field 'paging.bandwidth_bytes_per_s'", source));
    }
    paging.bandwidth_bytes_per_s = *rate;
  } else if (bandwidth.is_number() && std::isfinite(bandwidth.get<double>()) &&
             bandwidth.get<double>() > 0) {
    paging.bandwidth_bytes_per_s = bandwidth.get<double>();
  } else {
    return InvalidInput(
        "{}: field 'paging.bandwidth_bytes_per_s' must be a positive number of bytes per second "
        "or a rate such as \"12GB/s\", got {}",
        source, bandwidth.dump());
  }
  auto non_negative = [&](const char* field, double* out) -> Expected<void> {
    if (!j.contains(field)) return Ok();
    const json& v = j[field];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0) {
      return InvalidInput("{}: field 'paging.{}' must be a finite number >= 0, got {}", source,
                          field, v.dump());
    }
    *out = v.get<double>();
    return Ok();
  };
  for (auto [field, out] : {std::pair{"latency_s", &paging.latency_s},
                            std::pair{"energy_per_byte_j", &paging.energy_per_byte_j},
                            std::pair{"compute_power_w", &paging.compute_power_w}}) {
    if (auto ok = non_negative(field, out); !ok.ok()) return ok.error();
  }
  return paging;
}

json PagingToJson(const PagingParams& paging) {
  return {{"bandwidth_bytes_per_s", paging.bandwidth_bytes_per_s},
          {"latency_s", paging.latency_s},
          {"energy_per_byte_j", paging.energy_per_byte_j},
          {"compute_power_w", paging.compute_power_w}};
}

Expected<Graph> LoadGraph(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidInput("{}: cannot open the graph file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  Expected<json> j = ParseJson(buffer.str());
  if (!j.ok()) return j.error().WithContext(path);
  auto graph = GraphFromJson(*j, path);
  if (graph.ok()) graph->content_hash = ContentHash(buffer.str());
  return graph;
}

std::string ContentHash(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return fmt::format("{:016x}", hash);
}

json GraphToJson(const Graph& graph) {
  json nodes = json::array();
  for (const Node& node : graph.nodes) {
    json inputs = json::array();
    for (int input : node.inputs) inputs.push_back(graph.nodes[input].id);
    json j = {{"id", node.id},     {"name", node.name},   {"op", node.op},
              {"inputs", inputs},  {"bytes", node.bytes}, {"cost", node.cost},
              {"backward", node.backward}};
    if (!node.module.empty()) j["module"] = node.module;
    if (node.energy_j >= 0) j["energy_j"] = node.energy_j;
    nodes.push_back(std::move(j));
  }
  json outputs = json::array();
  for (int output : graph.outputs) outputs.push_back(graph.nodes[output].id);
  json j = {{"name", graph.name},
            {"nodes", nodes},
            {"outputs", outputs},
            {"fixed_bytes", graph.fixed_bytes}};
  if (graph.batch_size > 0) j["batch_size"] = graph.batch_size;
  if (graph.paging) j["paging"] = PagingToJson(*graph.paging);
  return j;
}

Expected<void> SaveGraph(const Graph& graph, const std::string& path) {
  std::ofstream out(path);
  if (!out) return IoError("{}: cannot write graph file", path);
  out << GraphToJson(graph).dump(1) << "\n";
  if (!out) return IoError("{}: write failed", path);
  return Ok();
}

Graph ScaleGraph(const Graph& graph, double factor) {
  Graph scaled = graph;
  for (Node& node : scaled.nodes) {
    // Saturates rather than overflowing; the simulator refuses totals beyond kMaxGraphBytes.
    const double bytes =
        std::min(static_cast<double>(node.bytes) * factor, static_cast<double>(kMaxGraphBytes));
    node.bytes = static_cast<int64_t>(std::llround(bytes));
    node.cost *= factor;
    if (node.energy_j >= 0) node.energy_j *= factor;
  }
  return scaled;
}

}  // namespace sysopt::remat
