// loop_order: choose the order of the five loops of a 1x1 convolution and two tile sizes, under
// a synthetic cache cost model. The loop nest is
//
//   for n < 8, co < 64, ci < 64, y < 32, x < 32:        (loops 0..4, in any order)
//     out[n][co][y][x] += w[co][ci] * in[n][ci][y][x]
//
// and a configuration is `order` (a permutation: order[0] is the outermost loop), `tile_outer`
// and `tile_inner` (ordinals 1..64, powers of two) that block the second innermost and the
// innermost loop. The model (made up for this library, in the spirit of the analytical reuse
// models of M. E. Wolf and M. S. Lam, "A data locality optimizing algorithm", PLDI 1991):
//
//   - An array is reloaded on every iteration of the loops down to the deepest loop that indexes
//     it; loops nested inside that one reuse it from a register:
//       traffic(A) = prod_{p <= d_A} N(order[p]),  d_A = deepest position indexing A.
//   - Accesses are unit-stride (8 elements per cache line) when the loop at d_A is the array's
//     contiguous dimension (x for out and in, ci for w), else one line per access.
//   - Tiles of t_o x t_i iterations (clipped to the trip counts of the loops they block) keep a
//     working set of 24 t_o t_i bytes; while it fits a 32 KiB cache it cuts misses by
//     1 / (1 + 0.15 log2(t_o t_i)); beyond, misses grow in proportion to the overflow.
//   - Each tile costs 20 cycles of loop overhead; each iteration 1 cycle of compute; a miss 10.
//
//   cost = [10 * m(t) * sum_A traffic(A) * line(A) + I + 20 I / (t_o t_i)] / 1e6   (Mcycles)
//
// with I = 8 * 64 * 64 * 32 * 32 iterations. The optimum is found at construction by evaluating
// all 5! * 7 * 7 = 5880 configurations.

#include <array>
#include <cmath>

#include "sysopt/problems/builtin.h"

namespace sysopt::problems_detail {

namespace {

constexpr std::array<double, 5> kTrips = {8, 64, 64, 32, 32};  // n, co, ci, y, x

struct ArrayAccess {
  std::array<bool, 5> indexed_by;
  int contiguous;
};

constexpr std::array<ArrayAccess, 3> kArrays = {{
    {{true, true, false, true, true}, 4},    // out[n][co][y][x]
    {{false, true, true, false, false}, 2},  // w[co][ci]
    {{true, false, true, true, true}, 4},    // in[n][ci][y][x]
}};

double LoopCost(const std::vector<int>& order, double tile_outer, double tile_inner) {
  double iterations = 1;
  for (double n : kTrips) iterations *= n;
  double line_accesses = 0;
  for (const auto& a : kArrays) {
    int deepest = -1;
    for (int p = 0; p < 5; ++p) {
      if (a.indexed_by[order[p]]) deepest = p;
    }
    double traffic = 1;
    for (int p = 0; p <= deepest; ++p) traffic *= kTrips[order[p]];
    const double line = order[deepest] == a.contiguous ? 1.0 / 8 : 1.0;
    line_accesses += traffic * line;
  }
  const double t_o = std::min(tile_outer, kTrips[order[3]]);
  const double t_i = std::min(tile_inner, kTrips[order[4]]);
  const double working_set = 24 * t_o * t_i;
  constexpr double kCache = 32 * 1024;
  const double miss_factor = working_set <= kCache
                                 ? 1 / (1 + 0.15 * std::log2(t_o * t_i))
                                 : (1 / (1 + 0.15 * std::log2(kCache / 24))) * working_set / kCache;
  const double cycles =
      10 * miss_factor * line_accesses + iterations + 20 * iterations / (t_o * t_i);
  return cycles / 1e6;
}

}  // namespace

Expected<Problem> MakeLoopOrder() {
  const nlohmann::json tiles = {1, 2, 4, 8, 16, 32, 64};
  nlohmann::json spec = {
      {"name", "loop_order"},
      {"parameters",
       {{{"name", "order"}, {"type", "permutation"}, {"size", 5}},
        {{"name", "tile_outer"}, {"type", "ordinal"}, {"values", tiles}},
        {{"name", "tile_inner"}, {"type", "ordinal"}, {"values", tiles}}}},
      {"objectives", {{{"name", "mcycles"}, {"goal", "minimize"}}}},
  };
  auto problem = Assemble(
      "loop_order",
      "order of the 5 loops of a 1x1 convolution plus 2 tile sizes under a synthetic cache "
      "model; optimum by enumeration (5880 configurations)",
      spec, [](const Config& c) -> Expected<std::vector<double>> {
        return std::vector<double>{LoopCost(Perm(c, 0), Num(c, 1), Num(c, 2))};
      });
  if (!problem.ok()) return problem;
  SYSOPT_RETURN_IF_ERROR(EnumerateOptimum(*problem));
  return problem;
}

}  // namespace sysopt::problems_detail
