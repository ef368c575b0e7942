#pragma once
/// \file
/// \brief Training graphs for the memory planner: one tensor per node, nodes in topological
/// order, parsed from JSON and validated strictly.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/core/expected.h"

namespace sysopt::remat {

/// \brief One operation of a training step and the tensor it produces.
struct Node {
  int64_t id = 0;           ///< The id used in the graph and schedule files.
  std::string name;         ///< Human-readable name (e.g. "layer1.0.conv1").
  std::string op;           ///< Operator (e.g. "aten.convolution").
  std::vector<int> inputs;  ///< Indices (not ids) of the nodes whose tensors this one reads.
  int64_t bytes = 0;        ///< Size of the output tensor.
  double cost = 0.0;        ///< Compute time (or any additive cost) of the operation.
  bool backward = false;    ///< True for nodes of the backward pass.
  std::string module;       ///< Optional: the module path the node comes from (e.g.
                            ///< "layer1.0.conv1"); kept and written back, not interpreted.
  double energy_j = -1.0;   ///< Optional: energy of one execution in joules; negative when not
                            ///< given (then cost times PagingParams::compute_power_w).
};

/// \brief Default compute power (watts) for the energy of an operation whose graph gives no
/// energy: cost (seconds) times this. The order of one busy CPU core; a placeholder that a
/// measured value should replace.
inline constexpr double kDefaultComputePowerW = 10.0;
/// \brief Default energy per byte moved by a page-out or page-in (joules): 20 pJ per bit, the
/// order of a PCIe transfer plus a host DRAM access; a placeholder that a measured value should
/// replace.
inline constexpr double kDefaultPageEnergyPerByteJ = 1.6e-10;

/// \brief The link to host memory that paging uses (POET, Patil et al. 2022). Transfers are
/// serialised on one link and not overlapped with compute: each page-out or page-in of b bytes
/// takes latency_s + b / bandwidth_bytes_per_s seconds, added to the schedule's time.
struct PagingParams {
  double bandwidth_bytes_per_s = 0;                       ///< Positive and finite.
  double latency_s = 0;                                   ///< Fixed time per transfer, >= 0.
  double energy_per_byte_j = kDefaultPageEnergyPerByteJ;  ///< Per byte moved, >= 0.
  double compute_power_w = kDefaultComputePowerW;  ///< For operations without `energy_j`, >= 0.

  /// \brief Seconds one transfer of `bytes` takes.
  double TransferSeconds(int64_t bytes) const {
    return latency_s + static_cast<double>(bytes) / bandwidth_bytes_per_s;
  }
  /// \brief Joules one transfer of `bytes` takes.
  double TransferEnergy(int64_t bytes) const {
    return energy_per_byte_j * static_cast<double>(bytes);
  }
};

/// \brief The most a validated graph holds in all: fixed bytes plus every node's bytes. Far
/// beyond any machine's memory, and small enough that no sum of sizes overflows int64.
inline constexpr int64_t kMaxGraphBytes = int64_t{1} << 62;

/// \brief A validated training graph. Node i's inputs all have indices below i, and fixed_bytes
/// plus the sum of all node bytes is at most kMaxGraphBytes.
/// Thread safety: immutable after construction; safe to share between threads.
struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<int> outputs;             ///< Indices of nodes whose tensors must exist at the end.
  int64_t fixed_bytes = 0;              ///< Memory resident throughout (parameters, optimiser).
  int64_t batch_size = 0;               ///< Batch size the graph was extracted at; 0 if unknown.
  std::vector<std::vector<int>> users;  ///< users[i]: indices of nodes reading node i, ascending.
  std::vector<char> is_output;          ///< is_output[i]: 1 when i is in `outputs`.
  std::string content_hash;  ///< Set by LoadGraph: FNV-1a (64 bits, 16 hex digits) of the
                             ///< file's bytes, so that a plan names the exact graph it is for.
  std::optional<PagingParams> paging;  ///< The graph's "paging" field, or one given on the
                                       ///< command line; without it no schedule may page.

  /// \brief Number of nodes.
  int size() const { return static_cast<int>(nodes.size()); }
  /// \brief Sum of all node costs: the cost of a plan that computes every node once.
  double TotalCost() const;
  /// \brief Index of the node with the given id, or -1.
  int IndexOf(int64_t id) const;
  /// \brief Cost of the forward nodes only (one extra forward pass).
  double ForwardCost() const;
  /// \brief Energy (joules) of one execution of node i: its `energy_j` when given, else its
  /// cost times the compute power (the paging parameters' or kDefaultComputePowerW).
  double NodeEnergy(int i) const;
  /// \brief Sum of NodeEnergy over all nodes: the energy of computing every node once.
  double TotalEnergy() const;
};

/// \brief Checks and reads a "paging" object: {"bandwidth_bytes_per_s": a positive number or a
/// rate such as "12GB/s", "latency_s", "energy_per_byte_j", "compute_power_w": non-negative
/// numbers}; any other field is an error. `source` names the file (or flag) in messages.
Expected<PagingParams> PagingFromJson(const nlohmann::json& json, std::string_view source);

/// \brief The JSON form read by PagingFromJson.
nlohmann::json PagingToJson(const PagingParams& paging);

/// \brief Parses and validates a graph. `source` names the file in error messages. Rejects
/// duplicate or dangling ids, cycles, nodes out of topological order, negative sizes or costs,
/// and missing fields.
Expected<Graph> GraphFromJson(const nlohmann::json& json, std::string_view source);

/// \brief FNV-1a (64 bits) of `bytes`, as 16 lowercase hexadecimal digits.
std::string ContentHash(std::string_view bytes);

/// \brief Reads and validates a graph file (and sets `content_hash`).
Expected<Graph> LoadGraph(const std::string& path);

/// \brief The JSON form read by GraphFromJson.
nlohmann::json GraphToJson(const Graph& graph);

/// \brief Writes GraphToJson(graph) to `path`.
Expected<void> SaveGraph(const Graph& graph, const std::string& path);

/// \brief Builds a validated graph from nodes whose `inputs` are already indices (used by
/// generators and tests). Fails like GraphFromJson on invalid structure.
Expected<Graph> MakeGraph(std::string name, std::vector<Node> nodes, std::vector<int> outputs,
                          int64_t fixed_bytes);

/// \brief The graph with every tensor size and cost multiplied by `factor` (a batch-size
/// ratio); `fixed_bytes` (parameters) does not change. Sizes are rounded to whole bytes.
Graph ScaleGraph(const Graph& graph, double factor);

}  // namespace sysopt::remat
