#pragma once
/// \file
/// \brief Small synthetic training graphs (chains, diamonds, skip connections) built from a
/// forward graph by adding one gradient node per forward node.

#include <cstdint>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/remat/graph.h"

namespace sysopt::remat {

/// \brief A forward operation: the forward nodes it reads (indices into the forward list), its
/// output size and cost.
struct ForwardOp {
  std::vector<int> inputs;
  int64_t bytes = 1;
  double cost = 1.0;
};

/// \brief The training graph of a forward graph whose last op is the loss: forward nodes in
/// order, then gradient node g_k for k = last..0, reading the gradients of k's users, k's
/// inputs and k itself; g_k costs twice the forward op and has k's size. The output is the last
/// gradient node. `batch_size` is recorded in the graph.
Expected<Graph> MakeTrainingGraph(std::string name, const std::vector<ForwardOp>& forward,
                                  int64_t fixed_bytes = 0, int64_t batch_size = 1);

/// \brief A chain of `length` forward ops with unit size and cost.
std::vector<ForwardOp> ChainOps(int length, int64_t bytes = 1, double cost = 1.0);

/// \brief A chain with a skip connection from op i to op i + `span` for every i divisible by
/// `span` (residual blocks).
std::vector<ForwardOp> ResidualOps(int length, int span, int64_t bytes = 1, double cost = 1.0);

/// \brief A U-Net-like encoder-decoder: `depth` down ops then `depth` up ops, each up op
/// reading the mirrored down op; sizes halve going down.
std::vector<ForwardOp> UNetOps(int depth, int64_t top_bytes = 64, double cost = 1.0);

/// \brief A chain of diamonds: each block forks into two ops that join again.
std::vector<ForwardOp> DiamondOps(int blocks, int64_t bytes = 1, double cost = 1.0);

/// \brief A random forward graph of training-graph shape, `length` ops: a chain cut into
/// stages (sizes halve and per-op costs stay about level from one stage to the next, as in a
/// convolutional network's downsampling), with residual skips (an op also reads one of the
/// last few ops) and dense blocks (an op reads several earlier ops of its block, as a
/// concatenation does), and some cheap zero-size ops (views). Sizes and costs vary by a
/// random factor per op. The same seed gives the same graph.
std::vector<ForwardOp> RandomNetworkOps(int length, uint64_t seed, int64_t top_bytes = 1 << 22,
                                        double skip_probability = 0.25,
                                        double dense_probability = 0.1);

}  // namespace sysopt::remat
