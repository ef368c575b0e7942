// bench_ask: how long one suggestion (Ask(context, 1)) of the Bayesian samplers takes on long
// histories, the cost a tuner pays per trial on top of the measurement itself.
//
// Space: 8 parameters of every kind (3 reals, one on a log scale; 2 integers, one on a log
// scale; 1 ordinal of 6 levels; 1 categorical of 5 choices; 1 permutation of 4 elements); a
// synthetic objective mixing all of them. Histories of 100, 500, 1000 and 5000 finished trials
// are drawn uniformly with a fixed seed (a few percent of them FAILED, so the feasibility
// classifier is part of the work, as in real studies).
//
// Two cases per sampler (auto, gp, forest) and history size n:
//   steady  the sampler has already answered an Ask on the first n-1 trials (its model is
//           fitted); the timed Ask sees n trials, i.e. the incremental path a running study takes
//           at every trial (for the GP: one new row in the Cholesky factor, hyperparameters kept);
//   cold    a fresh sampler's first Ask on all n trials (full fit, as after a restart).
// Each repetition rebuilds the untimed state, so every timed Ask is the same situation; the
// reported figure is the median over repetitions (manual time around the Ask call only).
//
// --dump_dir=DIR (read before Google Benchmark's own flags) writes DIR/history_<n>.json for every
// n: {"parameters": [...spec parameters...], "trials": [{"config": {...}, "value": v | null}]},
// so that bench/ask/optuna_ask.py times Optuna on exactly the same histories.
// --ask_repetitions=R sets the repetitions per case (default 5). --profile=SAMPLER:N:STEPS runs
// no benchmark: one full fit on N trials, then STEPS incremental Asks (for perf record).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sysopt/core/rng.h"
#include "sysopt/sampler/sampler.h"
#include "sysopt/space/space.h"
#include "sysopt/space/spec.h"

namespace sysopt {
namespace {

const nlohmann::json& Parameters() {
  static const nlohmann::json p = nlohmann::json::parse(R"([
    {"name": "x1", "type": "real", "low": -2.0, "high": 2.0},
    {"name": "x2", "type": "real", "low": 0.0, "high": 1.0},
    {"name": "lr", "type": "real", "low": 0.0001, "high": 1.0, "log": true},
    {"name": "n1", "type": "integer", "low": 0, "high": 50},
    {"name": "n2", "type": "integer", "low": 1, "high": 1024, "log": true},
    {"name": "tile", "type": "ordinal", "values": [1, 2, 4, 8, 16, 32]},
    {"name": "algo", "type": "categorical", "values": ["a", "b", "c", "d", "e"]},
    {"name": "order", "type": "permutation", "size": 4}
  ])");
  return p;
}

const Space& TheSpace() {
  static const Space space = [] {
    auto s = Space::FromJson({{"parameters", Parameters()}, {"constraints", nlohmann::json::array()}});
    if (!s.ok()) throw std::runtime_error(s.error().message());
    return *s;
  }();
  return space;
}

const std::vector<Objective>& Objectives() {
  static const std::vector<Objective> o = {Objective{"value", true}};
  return o;
}

double AsNum(const Value& v) { return AsDouble(v); }

// A smooth bowl in the reals, a ridge in the integers, a best tile, a best algorithm and a
// preferred loop order; about 3% of the space (large n2 with tile 32) "fails".
std::optional<double> Synthetic(const Config& c) {
  const double x1 = AsNum(c[0]), x2 = AsNum(c[1]), lr = AsNum(c[2]);
  const double n1 = AsNum(c[3]), n2 = AsNum(c[4]), tile = AsNum(c[5]);
  const std::string& algo = std::get<std::string>(c[6]);
  const auto& order = std::get<Permutation>(c[7]).order;
  if (n2 > 700 && tile == 32) return std::nullopt;
  double f = (x1 - 0.5) * (x1 - 0.5) + 2 * (x2 - 0.3) * (x2 - 0.3);
  f += 0.3 * std::pow(std::log10(lr) + 2, 2) + 0.002 * (n1 - 17) * (n1 - 17);
  f += 0.1 * std::abs(std::log2(n2) - 6) + 0.2 * std::abs(std::log2(tile) - 3);
  f += algo == "c" ? 0 : (algo == "a" ? 0.5 : 1.0);
  for (size_t i = 0; i < order.size(); ++i) f += 0.1 * std::abs(order[i] - static_cast<int>(i));
  return f;
}

const std::vector<TrialRecord>& History(int n) {
  static std::map<int, std::vector<TrialRecord>> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  Rng rng(12345);  // the same first trials for every size
  std::vector<TrialRecord> h;
  for (int i = 0; i < n; ++i) {
    TrialRecord t;
    t.id = i + 1;
    t.study_id = 1;
    t.number = i;
    auto c = TheSpace().Sample(rng);
    if (!c.ok()) throw std::runtime_error(c.error().message());
    t.config = std::move(*c);
    if (auto v = Synthetic(t.config)) {
      t.state = TrialState::kComplete;
      t.values = {*v};
    } else {
      t.state = TrialState::kFailed;
      t.failure_reason = "synthetic failure";
    }
    t.start_time = 1.0e9 + i;
    t.end_time = t.start_time + 0.5;
    h.push_back(std::move(t));
  }
  return cache.emplace(n, std::move(h)).first->second;
}

std::unique_ptr<Sampler> Make(const std::string& name, int budget) {
  auto s = MakeSampler(name, SamplerOptions{7, budget});
  if (!s.ok()) throw std::runtime_error(s.error().message());
  return std::move(*s);
}

void AskOnce(Sampler& sampler, const std::vector<TrialRecord>& history, benchmark::State* state) {
  static const std::vector<Config> pending;
  SamplerContext context{TheSpace(), Objectives(), history, pending};
  auto out = sampler.Ask(context, 1);
  if (!out.ok() || out->size() != 1) {
    if (state) state->SkipWithError(out.ok() ? "no proposal" : out.error().message().c_str());
  }
}

// Budget for the samplers' design size: well below n, so every Ask is a model-based proposal.
constexpr int kBudget = 200;

void BM_Steady(benchmark::State& state, std::string name) {
  const int n = static_cast<int>(state.range(0));
  const auto& full = History(n);
  const std::vector<TrialRecord> before(full.begin(), full.end() - 1);
  for (auto _ : state) {
    auto sampler = Make(name, kBudget);
    AskOnce(*sampler, before, nullptr);  // untimed: fit on n - 1 trials
    const auto start = std::chrono::steady_clock::now();
    AskOnce(*sampler, full, &state);
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  state.counters["trials"] = n;
}

void BM_Cold(benchmark::State& state, std::string name) {
  const int n = static_cast<int>(state.range(0));
  const auto& full = History(n);
  for (auto _ : state) {
    auto sampler = Make(name, kBudget);
    const auto start = std::chrono::steady_clock::now();
    AskOnce(*sampler, full, &state);
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  state.counters["trials"] = n;
}

void DumpHistories(const std::string& dir, const std::vector<int>& sizes) {
  std::filesystem::create_directories(dir);
  for (int n : sizes) {
    nlohmann::json trials = nlohmann::json::array();
    for (const auto& t : History(n)) {
      trials.push_back({{"config", TheSpace().ConfigToJson(t.config)},
                        {"value", t.state == TrialState::kComplete ? nlohmann::json(t.values[0])
                                                                   : nlohmann::json(nullptr)}});
    }
    std::ofstream out(dir + "/history_" + std::to_string(n) + ".json");
    out << nlohmann::json{{"parameters", Parameters()}, {"trials", trials}}.dump() << "\n";
  }
}

// For profilers (perf record ... bench_ask --profile=gp:1000:40): one untimed-in-spirit full
// fit on n trials, then `steps` incremental Asks as the history grows by one trial each, so that
// the profile is dominated by the steady-state path. Prints the median time of those Asks.
int Profile(const std::string& spec) {
  const auto a = spec.find(':'), b = spec.rfind(':');
  const std::string name = spec.substr(0, a);
  const int n = std::stoi(spec.substr(a + 1, b - a - 1)), steps = std::stoi(spec.substr(b + 1));
  const auto& all = History(n + steps);
  auto sampler = Make(name, kBudget);
  AskOnce(*sampler, std::vector<TrialRecord>(all.begin(), all.begin() + n), nullptr);
  std::vector<double> ms;
  for (int k = 1; k <= steps; ++k) {
    const std::vector<TrialRecord> h(all.begin(), all.begin() + n + k);
    const auto start = std::chrono::steady_clock::now();
    AskOnce(*sampler, h, nullptr);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%s: median %.2f ms over %d incremental Asks from %d trials\n", name.c_str(),
              ms[ms.size() / 2], steps, n);
  return 0;
}

}  // namespace
}  // namespace sysopt

int main(int argc, char** argv) {
  using namespace sysopt;
  const std::vector<int> sizes = {100, 500, 1000, 5000};
  std::vector<char*> rest;
  std::string dump_dir;
  int repetitions = 5;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--dump_dir=", 11) == 0) {
      dump_dir = argv[i] + 11;
    } else if (std::strncmp(argv[i], "--profile=", 10) == 0) {
      return Profile(argv[i] + 10);
    } else if (std::strncmp(argv[i], "--ask_repetitions=", 18) == 0) {
      repetitions = std::atoi(argv[i] + 18);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!dump_dir.empty()) DumpHistories(dump_dir, sizes);
  for (const char* name : {"auto", "gp", "forest"}) {
    for (const char* mode : {"steady", "cold"}) {
      auto* b = benchmark::RegisterBenchmark(
          (std::string(name) + "/" + mode).c_str(),
          [name = std::string(name), steady = std::string(mode) == "steady"](
              benchmark::State& st) { steady ? BM_Steady(st, name) : BM_Cold(st, name); });
      for (int n : sizes) b->Arg(n);
      b->UseManualTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1)
          ->Repetitions(repetitions)
          ->ReportAggregatesOnly(true);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
