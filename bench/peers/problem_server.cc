// bench_problem_server: serves one of sysopt's built-in problems over JSON lines on stdin and
// stdout, so that another tuner (bench/peers/optuna_peers.py) evaluates exactly the problem
// definitions sysopt's own benchmark (bench/tuner/bench_samplers.cc) uses.
//
// Protocol (one JSON document per line, one reply per request):
//   -> {"problem": "branin"}
//   <- {"spec": <Problem::spec_json>, "optimum": <number or null>, "scoring": {...}}
//   -> {"config": {"x1": 0.3, "x2": 7.1}}
//   <- {"values": [1.23]}                          a completed evaluation
//   <- {"error": "infeasible: <constraint>"}       violates one of the spec's known constraints
//   <- {"error": "<reason>"}                       outside the domain, or a hidden failure of the
//                                                  problem (kernel_constrained)
// "scoring" carries what bench_samplers scores a run with, computed the same way: "minimize"
// (first objective), "reference_point" and "max_hypervolume" (two-objective problems),
// "q_star" (best possible quality) and "q_random" (median quality of one uniformly random
// feasible configuration over 2000 draws with bench_samplers' seed). A request that is not
// valid JSON gets {"error": ...} and the server goes on; end of input ends it.

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sysopt/core/rng.h"
#include "sysopt/problems/problem.h"

namespace sysopt {
namespace {

using nlohmann::json;

constexpr double kInf = std::numeric_limits<double>::infinity();

void Reply(const json& j) {
  std::cout << j.dump() << '\n';
  std::cout.flush();
}

// Quality as bench_samplers defines it: smaller is better.
double Quality(const Problem& p, const std::vector<std::vector<double>>& points) {
  if (points.empty()) return kInf;
  if (p.spec.objectives.size() > 1) return -Hypervolume2D(points, p.reference_point);
  const bool minimize = p.spec.objectives.front().minimize;
  double best = kInf;
  for (const auto& v : points) best = std::min(best, minimize ? v[0] : -v[0]);
  return best;
}

json Scoring(const Problem& p) {
  json s = json::object();
  const bool multi = p.spec.objectives.size() > 1;
  s["minimize"] = p.spec.objectives.front().minimize;
  s["reference_point"] = p.reference_point;
  s["max_hypervolume"] = p.max_hypervolume ? json(*p.max_hypervolume) : json(nullptr);
  if (multi && p.max_hypervolume) {
    s["q_star"] = -*p.max_hypervolume;
  } else if (!multi && p.optimum) {
    s["q_star"] = p.spec.objectives.front().minimize ? *p.optimum : -*p.optimum;
  } else {
    s["q_star"] = nullptr;
  }
  // Same draws as bench_samplers' Prepare (seed 20240601, 2000 draws, failures left out).
  Rng rng(20240601);
  std::vector<double> q;
  for (int i = 0; i < 2000; ++i) {
    auto c = p.spec.space.Sample(rng);
    if (!c.ok()) break;
    auto v = p.evaluate(*c);
    if (v.ok()) q.push_back(Quality(p, {*v}));
  }
  if (q.empty()) {
    s["q_random"] = nullptr;
  } else {
    std::nth_element(q.begin(), q.begin() + q.size() / 2, q.end());
    s["q_random"] = q[q.size() / 2];
  }
  return s;
}

int Main() {
  std::optional<Problem> problem;
  std::optional<Space> unconstrained;  // the same parameters without the constraints
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
      Reply({{"error", "request is not a JSON object"}});
      continue;
    }
    if (request.contains("problem")) {
      if (!request["problem"].is_string()) {
        Reply({{"error", "\"problem\" must be a string"}});
        continue;
      }
      auto p = MakeProblem(request["problem"].get<std::string>());
      if (!p.ok()) {
        Reply({{"error", p.error().message()}});
        continue;
      }
      auto free = Space::Create(p->spec.space.parameters(), {});
      if (!free.ok()) {
        Reply({{"error", free.error().message()}});
        continue;
      }
      problem = std::move(*p);
      unconstrained = std::move(*free);
      Reply({{"spec", problem->spec_json},
             {"optimum", problem->optimum ? json(*problem->optimum) : json(nullptr)},
             {"scoring", Scoring(*problem)}});
      continue;
    }
    if (request.contains("config")) {
      if (!problem) {
        Reply({{"error", "no problem chosen: send {\"problem\": NAME} first"}});
        continue;
      }
      // Domains first (on the space without constraints), then each known constraint, so that
      // a violation is reported as such; then the problem itself (hidden failures).
      auto config = unconstrained->ConfigFromJson(request["config"]);
      if (!config.ok()) {
        Reply({{"error", config.error().message()}});
        continue;
      }
      std::string violated;
      for (const auto& c : problem->spec.space.constraints()) {
        auto holds = c.Check(*config);
        if (!holds.ok()) {
          violated = holds.error().message();
          break;
        }
        if (!*holds) {
          violated = c.text();
          break;
        }
      }
      if (!violated.empty()) {
        Reply({{"error", "infeasible: " + violated}});
        continue;
      }
      auto values = problem->evaluate(*config);
      if (!values.ok()) {
        Reply({{"error", values.error().message()}});
        continue;
      }
      Reply({{"values", *values}});
      continue;
    }
    Reply({{"error", "expected {\"problem\": NAME} or {\"config\": {...}}"}});
  }
  return 0;
}

}  // namespace
}  // namespace sysopt

int main() {
  std::ios::sync_with_stdio(false);
  try {
    return sysopt::Main();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return 1;
  }
}
