// kernel_constrained: tuning a tiled GPU matrix-multiply kernel (C = A B, M = N = K = 2048) on a
// synthetic GPU, in the style of the constrained kernel spaces of Kernel Tuner and the BAT
// benchmark suite (B. van Werkhoven, "Kernel Tuner: A search-optimizing GPU code
// auto-tuner", FGCS 90, 2019; I. Tørring et al., "Towards a Benchmarking Suite for Kernel
// Tuners", IPDPSW 2023), whose T1 `Conditions` the constraints below are written in.
//
// Parameters (ordinals): block_x, block_y (threads per block in x and y, 1..1024), tile_x,
// tile_y (outputs per thread, 1..16), vec (vector width of loads, 1..8), unroll (unrolling of the
// k loop, 1..16): 60500 combinations, of which the stated constraints leave a few per cent.
//
// Hidden infeasibility, as on real hardware, where the constraints do not say it: a block needs
// (block_x tile_x + block_y tile_y) * 8 unroll * 4 bytes of shared memory, and a launch that
// asks more than 48 KiB fails with "out of shared memory"; a block whose threads need more than
// 64K registers (regs/thread = 24 + tile_x tile_y + 2 (tile_x + tile_y) + 4 unroll) fails with
// "too many resources requested for launch". evaluate returns those as errors.
//
// The runtime model (made up for this library; it only has to have the interactions real
// kernels show): an SM holds up to 2048 threads, 32 blocks, 64K registers and 96 KiB of shared
// memory; occupancy is the fraction of 2048 thread slots filled; latency hiding needs
// occupancy times instruction-level parallelism (min(1, tile_x tile_y / 8) * min(1, unroll / 4))
// to reach 0.5; global loads are coalesced to the degree a warp row (min(block_x, 32) threads of
// vec elements) spans 128 bytes; the k loop costs 1 + 0.5 / unroll per step; and a block computes
// a (block_y tile_y) x (block_x tile_x) tile of C. Time is the larger of compute and memory time,
// in milliseconds, for 80 SMs, times the number of waves of blocks. The optimum is found at
// construction by evaluating every feasible configuration (Space::FeasibleAt).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sysopt/problems/builtin.h"

namespace sysopt::problems_detail {

namespace {

constexpr double kSize = 2048;  // M = N = K
constexpr double kSms = 80;
constexpr double kSharedLimit = 48 * 1024;

Expected<double> KernelTime(double bx, double by, double tx, double ty, double vec, double unroll) {
  const double threads = bx * by;
  const double shared = (bx * tx + by * ty) * 8 * unroll * 4;
  if (shared > kSharedLimit) {
    return RuntimeError("out of shared memory: the block needs {} bytes, the limit is {}", shared,
                        kSharedLimit);
  }
  const double regs = 24 + tx * ty + 2 * (tx + ty) + 4 * unroll;
  if (regs * threads > 65536) {
    return RuntimeError("too many resources requested for launch: {} registers per block",
                        regs * threads);
  }
  const double blocks_per_sm = std::max(
      1.0,
      std::floor(std::min({2048 / threads, 32.0, 65536 / (regs * threads), 96 * 1024 / shared})));
  const double occupancy = std::min(1.0, blocks_per_sm * threads / 2048);
  const double ilp = std::min(1.0, tx * ty / 8) * std::min(1.0, unroll / 4);
  const double hiding = std::min(1.0, occupancy * ilp / 0.5);
  const double tile_m = by * ty, tile_n = bx * tx;
  const double blocks = std::ceil(kSize / tile_m) * std::ceil(kSize / tile_n);
  const double waves = std::ceil(blocks / (kSms * blocks_per_sm));
  // Per block and per k step: FMAs spread over the block's threads (32 lanes per cycle per
  // warp scheduler, 4 schedulers), and bytes of A and B loaded.
  const double fma_cycles = tile_m * tile_n / 128.0 * (1 + 0.5 / unroll);
  const double coalescing = std::min(1.0, std::min(bx, 32.0) * vec * 4 / 128);
  const double load_cycles = (tile_m + tile_n) * 4 / (32.0 * coalescing);
  const double block_cycles = kSize * std::max(fma_cycles, load_cycles) / hiding;
  // One wave runs blocks_per_sm blocks per SM concurrently, sharing the SM.
  const double cycles = waves * block_cycles * blocks_per_sm + 5000;
  return cycles / 1.5e6;  // ms at 1.5 GHz
}

}  // namespace

Expected<Problem> MakeKernelConstrained() {
  const nlohmann::json threads = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  const nlohmann::json tiles = {1, 2, 4, 8, 16};
  nlohmann::json spec = {
      {"name", "kernel_constrained"},
      {"parameters",
       {{{"name", "block_x"}, {"type", "ordinal"}, {"values", threads}},
        {{"name", "block_y"}, {"type", "ordinal"}, {"values", threads}},
        {{"name", "tile_x"}, {"type", "ordinal"}, {"values", tiles}},
        {{"name", "tile_y"}, {"type", "ordinal"}, {"values", tiles}},
        {{"name", "vec"}, {"type", "ordinal"}, {"values", {1, 2, 4, 8}}},
        {{"name", "unroll"}, {"type", "ordinal"}, {"values", {1, 2, 4, 8, 16}}}}},
      {"constraints",
       {"64 <= block_x * block_y <= 1024", "block_x % 32 == 0 or block_x * block_y <= 128",
        "tile_x % vec == 0", "tile_x * tile_y <= 64", "block_x * tile_x <= 256",
        "block_y * tile_y <= 256"}},
      {"objectives", {{{"name", "time_ms"}, {"goal", "minimize"}}}},
  };
  auto problem = Assemble(
      "kernel_constrained",
      "tiled GEMM kernel on a synthetic GPU: 6 ordinals under T1-style constraints, hidden "
      "launch failures (shared memory, registers); optimum by enumeration",
      spec, [](const Config& c) -> Expected<std::vector<double>> {
        auto t = KernelTime(Num(c, 0), Num(c, 1), Num(c, 2), Num(c, 3), Num(c, 4), Num(c, 5));
        if (!t.ok()) return t.error();
        return std::vector<double>{*t};
      });
  if (!problem.ok()) return problem;
  SYSOPT_RETURN_IF_ERROR(EnumerateOptimum(*problem));
  return problem;
}

}  // namespace sysopt::problems_detail
