// tsp10: a symmetric travelling salesman problem on 10 cities, a standard permutation benchmark
// (see e.g. G. Reinelt, "TSPLIB — A Traveling Salesman Problem Library", ORSA J. Computing 3(4),
// 1991, for the closed-tour Euclidean formulation used here).
//
// The cities lie at fixed points of [0, 100)^2, drawn from std::mt19937_64 seeded with
// kCitySeed; each coordinate is 100 * (raw 64-bit output >> 11) * 2^-53, so they are the same
// under every standard library (std::uniform_real_distribution is not). A configuration is the
// visiting order (a permutation of 0..9); its value is the Euclidean length of the closed tour.
// The optimum is computed once, at construction, by the Held–Karp dynamic programme
// (M. Held and R. M. Karp, "A dynamic programming approach to sequencing problems",
// J. SIAM 10(1), 1962): 2^9 * 9 * 9 steps.

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "sysopt/problems/builtin.h"

namespace sysopt::problems_detail {

namespace {

constexpr int kCities = 10;
constexpr uint64_t kCitySeed = 10;

using Distances = std::array<std::array<double, kCities>, kCities>;

Distances CityDistances() {
  Rng rng(kCitySeed);
  std::array<std::array<double, 2>, kCities> xy{};
  for (auto& city : xy) {
    for (double& coordinate : city) {
      coordinate = 100.0 * static_cast<double>(rng() >> 11) * 0x1.0p-53;
    }
  }
  Distances d{};
  for (int i = 0; i < kCities; ++i) {
    for (int j = 0; j < kCities; ++j) {
      d[i][j] = std::hypot(xy[i][0] - xy[j][0], xy[i][1] - xy[j][1]);
    }
  }
  return d;
}

double TourLength(const Distances& d, const std::vector<int>& order) {
  double length = 0;
  for (size_t i = 0; i < order.size(); ++i) length += d[order[i]][order[(i + 1) % order.size()]];
  return length;
}

// Held–Karp from city 0: best[S][j] is the shortest path that starts at 0, visits exactly the
// cities in S (a subset of 1..n-1, as a bit mask over j-1) and ends at j in S.
std::vector<int> HeldKarp(const Distances& d) {
  const int m = kCities - 1;
  const uint32_t full = (1u << m) - 1;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::array<double, kCities>> best(full + 1);
  std::vector<std::array<int, kCities>> parent(full + 1);
  for (auto& row : best) row.fill(inf);
  for (int j = 1; j < kCities; ++j) best[1u << (j - 1)][j] = d[0][j];
  for (uint32_t s = 1; s <= full; ++s) {
    for (int j = 1; j < kCities; ++j) {
      if (!(s & (1u << (j - 1))) || best[s][j] == inf) continue;
      for (int k = 1; k < kCities; ++k) {
        if (s & (1u << (k - 1))) continue;
        const uint32_t t = s | (1u << (k - 1));
        const double candidate = best[s][j] + d[j][k];
        if (candidate < best[t][k]) {
          best[t][k] = candidate;
          parent[t][k] = j;
        }
      }
    }
  }
  int last = 1;
  for (int j = 2; j < kCities; ++j) {
    if (best[full][j] + d[j][0] < best[full][last] + d[last][0]) last = j;
  }
  std::vector<int> tour;
  uint32_t s = full;
  for (int j = last; j != 0;) {
    tour.push_back(j);
    const uint32_t before = s & ~(1u << (j - 1));
    const int previous = before == 0 ? 0 : parent[s][j];
    s = before;
    j = previous;
  }
  tour.push_back(0);
  std::reverse(tour.begin(), tour.end());
  return tour;
}

}  // namespace

Expected<Problem> MakeTsp10() {
  nlohmann::json spec = {
      {"name", "tsp10"},
      {"parameters", {{{"name", "tour"}, {"type", "permutation"}, {"size", kCities}}}},
      {"objectives", {{{"name", "length"}, {"goal", "minimize"}}}},
  };
  const Distances d = CityDistances();
  auto problem =
      Assemble("tsp10",
               "closed Euclidean tour of 10 fixed random cities in [0,100)^2 (seed 10); optimum by "
               "Held-Karp",
               spec, [d](const Config& c) -> Expected<std::vector<double>> {
                 return std::vector<double>{TourLength(d, Perm(c, 0))};
               });
  if (!problem.ok()) return problem;
  const std::vector<int> tour = HeldKarp(d);
  problem->optimum = TourLength(d, tour);
  problem->optimum_config = Config{Value(Permutation{tour})};
  return problem;
}

}  // namespace sysopt::problems_detail
