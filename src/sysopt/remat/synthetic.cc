#include "sysopt/remat/synthetic.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sysopt/core/rng.h"

namespace sysopt::remat {

Expected<Graph> MakeTrainingGraph(std::string name, const std::vector<ForwardOp>& forward,
                                  int64_t fixed_bytes, int64_t batch_size) {
  const int m = static_cast<int>(forward.size());
  if (m == 0) return InvalidInput("graph '{}': the forward graph is empty", name);
  std::vector<Node> nodes;
  std::vector<std::vector<int>> users(m);
  for (int k = 0; k < m; ++k) {
    Node node;
    node.id = k;
    node.name = fmt::format("f{}", k);
    node.op = "forward";
    for (int input : forward[k].inputs) {
      if (input < 0 || input >= k) {
        return InvalidInput("graph '{}': forward op {} reads op {} (must be earlier)", name, k,
                            input);
      }
      node.inputs.push_back(input);
      users[input].push_back(k);
    }
    node.bytes = forward[k].bytes;
    node.cost = forward[k].cost;
    nodes.push_back(std::move(node));
  }
  auto grad_index = [m](int k) { return m + (m - 1 - k); };
  for (int k = m - 1; k >= 0; --k) {
    Node node;
    node.id = grad_index(k);
    node.name = fmt::format("g{}", k);
    node.op = "backward";
    node.backward = true;
    node.inputs.push_back(k);
    for (int input : forward[k].inputs) node.inputs.push_back(input);
    for (int user : users[k]) node.inputs.push_back(grad_index(user));
    node.bytes = forward[k].bytes;
    node.cost = 2.0 * forward[k].cost;
    nodes.push_back(std::move(node));
  }
  auto graph = MakeGraph(std::move(name), std::move(nodes), {2 * m - 1}, fixed_bytes);
  if (graph.ok()) graph->batch_size = batch_size;
  return graph;
}

std::vector<ForwardOp> ChainOps(int length, int64_t bytes, double cost) {
  std::vector<ForwardOp> ops;
  for (int k = 0; k < length; ++k) {
    ForwardOp op;
    if (k > 0) op.inputs = {k - 1};
    op.bytes = bytes;
    op.cost = cost;
    ops.push_back(op);
  }
  return ops;
}

std::vector<ForwardOp> ResidualOps(int length, int span, int64_t bytes, double cost) {
  std::vector<ForwardOp> ops = ChainOps(length, bytes, cost);
  if (span < 2) return ops;
  for (int k = span; k < length; k += span) ops[k].inputs.push_back(k - span);
  return ops;
}

std::vector<ForwardOp> UNetOps(int depth, int64_t top_bytes, double cost) {
  std::vector<ForwardOp> ops;
  int64_t bytes = top_bytes;
  for (int d = 0; d < depth; ++d) {
    ForwardOp op;
    if (d > 0) op.inputs = {d - 1};
    op.bytes = std::max<int64_t>(1, bytes);
    op.cost = cost;
    ops.push_back(op);
    bytes /= 2;
  }
  for (int d = depth - 1; d >= 0; --d) {
    ForwardOp op;
    const int previous = static_cast<int>(ops.size()) - 1;
    op.inputs = {previous};
    if (d != previous) op.inputs.push_back(d);
    op.bytes = ops[d].bytes;
    op.cost = cost;
    ops.push_back(op);
  }
  return ops;
}

std::vector<ForwardOp> DiamondOps(int blocks, int64_t bytes, double cost) {
  std::vector<ForwardOp> ops;
  ops.push_back({{}, bytes, cost});
  for (int b = 0; b < blocks; ++b) {
    const int top = static_cast<int>(ops.size()) - 1;
    ops.push_back({{top}, bytes, cost});
    ops.push_back({{top}, bytes, cost});
    ops.push_back({{top + 1, top + 2}, bytes, cost});
  }
  return ops;
}

std::vector<ForwardOp> RandomNetworkOps(int length, uint64_t seed, int64_t top_bytes,
                                        double skip_probability, double dense_probability) {
  Rng rng(DeriveSeed(seed, 41));
  std::vector<ForwardOp> ops;
  const int stages = std::max(1, std::min(5, length / 8));
  const int per_stage = std::max(1, length / stages);
  int block_start = 0;  // first op of the current dense block
  for (int k = 0; k < length; ++k) {
    const int stage = std::min(stages - 1, k / per_stage);
    ForwardOp op;
    if (k > 0) op.inputs.push_back(k - 1);
    if (k % per_stage == 0) block_start = k;
    if (k >= 2 && Uniform01(rng) < skip_probability) {
      // A residual skip over the last 2..8 ops, within the stage.
      const int reach = 2 + static_cast<int>(UniformIndex(rng, 7));
      const int from = std::max(block_start, k - reach);
      if (from < k - 1) op.inputs.push_back(from);
    }
    if (k - block_start >= 3 && Uniform01(rng) < dense_probability) {
      // A concatenation of up to four earlier ops of the block.
      const int count = 1 + static_cast<int>(UniformIndex(rng, 4));
      for (int c = 0; c < count; ++c) {
        const int from = block_start + static_cast<int>(UniformIndex(rng, k - 1 - block_start));
        if (std::find(op.inputs.begin(), op.inputs.end(), from) == op.inputs.end()) {
          op.inputs.push_back(from);
        }
      }
      if (Uniform01(rng) < 0.3) block_start = k;  // a transition closes the block
    }
    const double size_factor = std::exp(std::log(4.0) * (Uniform01(rng) - 0.5));
    const double stage_bytes = static_cast<double>(top_bytes) / static_cast<double>(1 << stage);
    const bool view = Uniform01(rng) < 0.1;
    op.bytes = view ? 0 : std::max<int64_t>(1, std::llround(stage_bytes * size_factor));
    // Costs: per byte roughly constant within a stage and doubling per stage (channels double as
    // the resolution halves), with a wide spread between cheap (elementwise) and costly ops.
    const double cost_factor = std::exp(std::log(30.0) * (Uniform01(rng) - 0.5));
    op.cost = view ? 1e-3 : cost_factor * (stage_bytes * size_factor) *
                                static_cast<double>(1 << stage) / static_cast<double>(top_bytes);
    ops.push_back(std::move(op));
  }
  return ops;
}

}  // namespace sysopt::remat
