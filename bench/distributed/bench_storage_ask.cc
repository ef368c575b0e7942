// bench_storage_ask: the cost of one ask and one tell of `sysopt tune` against a storage, at
// given study sizes, to see whether it stays flat as the study grows.
//
// One ask is what the tune loop does before each trial: Study::Refresh (read what changed since
// the last read, reclaim trials of gone workers), one proposal of the random sampler on the
// history and pending trials, and Study::Reserve (the atomic reservation of that configuration
// within the budget). One tell is Study::Finish. The random sampler is used so that the storage
// and the study layer are measured, not a model.
//
// One study per size is filled with rows as the tune loop writes them (a reservation key, then
// a COMPLETE outcome with its values and run times), written through the Storage interface;
// then each study is opened again, as a worker joining it would, and asks and tells are timed
// going round the studies in turn (after a few untimed rounds), so that the sizes are measured
// under the same load.
//
// Usage: bench_storage_ask --storage URL --spec SPEC [--sizes 1000,20000] [--repeats 100]
//                          [--study PREFIX] [--seed S]    (studies PREFIX-SIZE)
// Prints one JSON object per size on stdout: medians in milliseconds of the ask, of its parts
// (refresh, propose, reserve) and of the tell, in wall time and in this process's CPU time (the
// database server's is not in it), the fill's time, and the time of the reopening.

#include <fmt/core.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <vector>

#include "sysopt/core/rng.h"
#include "sysopt/sampler/sampler.h"
#include "sysopt/space/spec.h"
#include "sysopt/storage/storage.h"
#include "sysopt/study/study.h"

namespace sysopt {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// CPU time of this thread, in ms: on a loaded machine the wall time also holds the waits for a
// core.
double CpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

[[noreturn]] void Die(const std::string& message) {
  fmt::print(stderr, "bench_storage_ask: {}\n", message);
  std::exit(2);
}

template <typename T>
T Must(Expected<T> value, const char* what) {
  if (!value.ok()) Die(fmt::format("{}: {}", what, value.error().message()));
  return std::move(*value);
}

// Any value will do for the storage; a smooth function of the numbers keeps the rows ordinary.
double Value(const Config& c) {
  double f = 0;
  for (const auto& v : c) {
    if (std::holds_alternative<double>(v)) f += std::get<double>(v) * std::get<double>(v);
    if (std::holds_alternative<int64_t>(v)) f += 0.01 * static_cast<double>(std::get<int64_t>(v));
  }
  return f;
}

TrialOutcome Completed(const Config& c) {
  TrialOutcome outcome;
  outcome.state = TrialState::kComplete;
  outcome.values = {Value(c)};
  outcome.samples = {outcome.values};
  outcome.end_time = Now();
  outcome.attrs = {{"elapsed_s", 0.001}, {"run_seconds", {0.001}}};
  return outcome;
}

struct Args {
  std::string storage;
  std::string spec;
  std::string study = "ask-bench";
  std::vector<int> sizes = {1000, 20000};
  int repeats = 100;
  uint64_t seed = 1;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Die("missing value after " + flag);
    const std::string value = argv[++i];
    if (flag == "--storage") {
      a.storage = value;
    } else if (flag == "--spec") {
      a.spec = value;
    } else if (flag == "--study") {
      a.study = value;
    } else if (flag == "--repeats") {
      a.repeats = std::atoi(value.c_str());
    } else if (flag == "--seed") {
      a.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--sizes") {
      a.sizes.clear();
      for (size_t at = 0; at < value.size();) {
        const size_t comma = std::min(value.find(',', at), value.size());
        a.sizes.push_back(std::atoi(value.substr(at, comma - at).c_str()));
        at = comma + 1;
      }
    } else {
      Die("unknown flag " + flag);
    }
  }
  if (a.storage.empty() || a.spec.empty()) Die("--storage and --spec are required");
  if (a.repeats < 1) Die("--repeats must be at least 1");
  return a;
}

// One study of the benchmark, filled to its size, and the times measured on it.
struct Case {
  int size = 0;
  std::unique_ptr<Study> study;
  std::unique_ptr<Sampler> sampler;
  int budget = 0;
  double fill_s = 0;
  double open_ms = 0;
  int64_t at_size = 0;
  std::vector<double> ask, refresh, propose, reserve, tell, ask_cpu, tell_cpu;
};

// Writes trials until the study holds `size`, as the tune loop records them.
double Fill(Storage& storage, int64_t study_id, const Space& space, int64_t count,
            const std::string& worker, Rng& rng, std::unordered_set<size_t>& seen) {
  const auto start = Clock::now();
  for (int64_t i = 0; i < count; ++i) {
    const Config c = Must(SampleDistinct(space, 1, rng, seen), "fill").at(0);
    TrialRequest request{c, worker, Now(), ConfigKey(space, c), 0};
    const Reservation r = Must(storage.ReserveTrial(study_id, request), "fill reserve");
    if (r.status != ReserveStatus::kCreated) Die("fill: a configuration was taken twice");
    if (auto done = storage.FinishTrial(r.trial.id, Completed(c)); !done.ok()) {
      Die("fill finish: " + done.error().message());
    }
  }
  return Ms(start, Clock::now()) / 1000;
}

// One ask and one tell, timed unless `warmup`.
void AskAndTell(const Spec& spec, const std::string& worker, bool warmup, Case& k) {
  Study& study = *k.study;
  const double c0 = CpuMs();
  const auto t0 = Clock::now();
  Must(study.Refresh(), "refresh");
  const auto t1 = Clock::now();
  std::vector<Config> proposed;
  {
    // The snapshot is let go before the tell, as the tune loop does: a snapshot still held
    // when the history changes makes the study copy it.
    const auto [history, pending] = study.FinishedAndPending();
    proposed = Must(
        k.sampler->Ask(SamplerContext{spec.space, spec.objectives, *history, pending}, 1), "ask");
  }
  if (proposed.empty()) Die("the sampler proposed nothing");
  const auto t2 = Clock::now();
  const Reserved reserved = Must(study.Reserve(proposed[0], worker, 0, k.budget), "reserve");
  const auto t3 = Clock::now();
  const double c3 = CpuMs();
  if (reserved.status != ReserveStatus::kCreated) Die("reserve: the proposal was refused");
  Must(study.Finish(reserved.trial, Completed(proposed[0])), "tell");
  const auto t4 = Clock::now();
  const double c4 = CpuMs();
  if (warmup) return;
  k.ask.push_back(Ms(t0, t3));
  k.refresh.push_back(Ms(t0, t1));
  k.propose.push_back(Ms(t1, t2));
  k.reserve.push_back(Ms(t2, t3));
  k.tell.push_back(Ms(t3, t4));
  k.ask_cpu.push_back(c3 - c0);
  k.tell_cpu.push_back(c4 - c3);
}

int Main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  const Spec spec = Must(LoadSpec(args.spec), "spec");
  auto storage = Must(OpenStorage(args.storage), "storage");
  const nlohmann::json sampler_json = {{"name", "random"}, {"seed", args.seed}};
  const std::string worker = WorkerName(0);
  std::vector<Case> cases;
  for (const int size : args.sizes) {
    Case k;
    k.size = size;
    const std::string name = fmt::format("{}-{}", args.study, size);
    int64_t study_id = 0;
    int64_t stored = 0;
    std::unordered_set<size_t> seen;  // the fill's configurations, all distinct
    {
      auto study = Must(Study::Open(*storage, name, spec, sampler_json, nullptr), "open");
      study_id = study->record().id;
      for (const auto& t : study->Finished()) seen.insert(HashConfig(t.config));
      stored = static_cast<int64_t>(study->Finished().size());
    }
    // A stream of its own: the sampler's streams are DeriveSeed(seed, history size).
    Rng rng(DeriveSeed(DeriveSeed(args.seed, 7), size));
    k.fill_s = Fill(*storage, study_id, spec.space, std::max<int64_t>(0, size - stored), worker,
                    rng, seen);
    cases.push_back(std::move(k));
  }
  // Each study is then opened as a worker joining it would (reading its whole history once),
  // on a connection of its own, and the asks go round the studies in turn: a change of the
  // machine's load meanwhile weighs on every size alike.
  std::vector<std::unique_ptr<Storage>> connections;
  for (Case& k : cases) {
    connections.push_back(Must(OpenStorage(args.storage), "storage"));
    const auto start = Clock::now();
    k.study = Must(Study::Open(*connections.back(), fmt::format("{}-{}", args.study, k.size),
                               spec, sampler_json, nullptr),
                   "reopen");
    k.open_ms = Ms(start, Clock::now());
    k.at_size = static_cast<int64_t>(k.study->Finished().size());
    k.sampler = Must(MakeSampler("random", {args.seed, k.size}), "sampler");
    // Room in the budget, so that Reserve counts the places held, as in a running study.
    k.budget = static_cast<int>(k.at_size) + args.repeats + 100;
  }
  constexpr int kWarmup = 3;
  for (int r = 0; r < kWarmup + args.repeats; ++r) {
    for (Case& k : cases) AskAndTell(spec, worker, r < kWarmup, k);
  }
  for (const Case& k : cases) {
    const nlohmann::json out = {{"storage", RedactStorageUrl(args.storage)},
                                {"trials", k.at_size},
                                {"repeats", args.repeats},
                                {"ask_ms", Median(k.ask)},
                                {"refresh_ms", Median(k.refresh)},
                                {"propose_ms", Median(k.propose)},
                                {"reserve_ms", Median(k.reserve)},
                                {"tell_ms", Median(k.tell)},
                                {"ask_cpu_ms", Median(k.ask_cpu)},
                                {"tell_cpu_ms", Median(k.tell_cpu)},
                                {"open_ms", k.open_ms},
                                {"fill_s", k.fill_s}};
    fmt::print("{}\n", out.dump());
  }
  return 0;
}

}  // namespace
}  // namespace sysopt

int main(int argc, char** argv) { return sysopt::Main(argc, argv); }
