#include "sysopt/remat/synthetic.h"

#include <fmt/format.h>

#include <algorithm>

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

}  // namespace sysopt::remat
