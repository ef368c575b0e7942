// bench_samplers: every sampler on every built-in problem with the same seeds and budgets, in one
// run, side by side (DESIGN.md, "Measuring"). Each (sampler, problem, seed) is one study of the
// largest budget in memory storage, run by the ordinary Tune loop with the function runner and
// one worker; the best value after each trial is recorded, so smaller budgets read the same
// trace (anytime performance). Writes a Markdown summary (--out) and every trace (--raw).
//
// Quality is "smaller is better": the first objective (negated when maximised) for
// single-objective problems, minus the hypervolume of all points found so far for problems with
// a reference point. With q* the problem's optimum and q_rand the median quality of a single
// uniformly random feasible configuration (2000 draws, fixed seed, failures left out):
//   regret            = q_best - q*
//   normalised regret = (q_best - q*) / (q_rand - q*)        (1 = as good as a typical guess)
//   within 5%         = normalised regret <= 0.05.
//
// Samplers are taken by name from SamplerDescriptions(); a sampler that cannot propose for a
// problem's space (its first Ask fails, e.g. exhaustive on a continuous space) is skipped there,
// and the report says so.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sysopt/problems/problem.h"
#include "sysopt/runner/function_runner.h"
#include "sysopt/sampler/sampler.h"
#include "sysopt/storage/storage.h"
#include "sysopt/study/study.h"
#include "sysopt/tuner/tuner.h"

namespace sysopt {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kWithin = 0.05;
constexpr int kRandomDraws = 2000;

struct Options {
  std::vector<std::string> samplers;
  std::vector<std::string> problems;
  int seeds = 10;
  std::vector<int> budgets = {10, 20, 50, 100};
  std::string out = "docs/benchmarks/tuner.md";
  std::string raw;
  int threads = 2;
};

// A problem with what scoring it needs.
struct Scored {
  Problem problem;
  bool multi = false;   // scored by hypervolume
  double q_star = 0;    // best possible quality
  double q_random = 0;  // median quality of one random configuration
};

// Quality of the history so far (see the file comment); `points` accumulates complete results.
double Quality(const Scored& s, const std::vector<std::vector<double>>& points) {
  if (points.empty()) return kInf;
  if (s.multi) return -Hypervolume2D(points, s.problem.reference_point);
  const bool minimize = s.problem.spec.objectives.front().minimize;
  double best = kInf;
  for (const auto& p : points) best = std::min(best, minimize ? p[0] : -p[0]);
  return best;
}

Expected<Scored> Prepare(const std::string& name) {
  auto problem = MakeProblem(name);
  if (!problem.ok()) return problem.error();
  Scored s{std::move(*problem)};
  const auto& objectives = s.problem.spec.objectives;
  s.multi = objectives.size() > 1;
  if (s.multi) {
    if (objectives.size() != 2 || !s.problem.max_hypervolume) {
      return InvalidInput(
          "problem {}: only 2-objective problems with a known hypervolume can be "
          "scored",
          name);
    }
    s.q_star = -*s.problem.max_hypervolume;
  } else {
    if (!s.problem.optimum) return InvalidInput("problem {}: no known optimum to score", name);
    s.q_star = objectives.front().minimize ? *s.problem.optimum : -*s.problem.optimum;
  }
  Rng rng(20240601);
  std::vector<double> qualities;
  for (int i = 0; i < kRandomDraws; ++i) {
    auto config = s.problem.spec.space.Sample(rng);
    if (!config.ok()) return config.error();
    auto values = s.problem.evaluate(*config);
    if (values.ok()) qualities.push_back(Quality(s, {*values}));
  }
  if (qualities.empty()) return RuntimeError("problem {}: no random configuration evaluates", name);
  std::nth_element(qualities.begin(), qualities.begin() + qualities.size() / 2, qualities.end());
  s.q_random = qualities[qualities.size() / 2];
  if (!(s.q_random > s.q_star)) {
    return RuntimeError("problem {}: the random median does not exceed the optimum", name);
  }
  return s;
}

struct Job {
  size_t sampler = 0, problem = 0;
  int seed = 0;
};

struct Trace {
  std::vector<bool> ok;                     // per trial: completed
  std::vector<std::vector<double>> values;  // per trial: objective values (empty if failed)
  std::vector<std::string> failure;         // per trial: failure reason
  std::vector<double> best;                 // per trial: best quality so far
  double seconds = 0;                       // wall time of the Tune call
  std::string error;                        // set when the run itself failed
};

Trace RunJob(const std::string& sampler_name, const Scored& s, int seed, int budget) {
  Trace trace;
  auto sampler = MakeSampler(sampler_name, SamplerOptions{static_cast<uint64_t>(seed), budget});
  if (!sampler.ok()) {
    trace.error = sampler.error().message();
    return trace;
  }
  auto storage = MakeMemoryStorage();
  ResumeInfo info;
  auto study = Study::Open(*storage, "bench", s.problem.spec,
                           {{"name", sampler_name}, {"seed", seed}}, &info);
  if (!study.ok()) {
    trace.error = study.error().message();
    return trace;
  }
  auto runner = MakeFunctionRunner(s.problem.evaluate);
  TuneOptions options;
  options.budget = budget;
  options.workers = 1;
  const auto start = std::chrono::steady_clock::now();
  auto report = Tune(**study, **sampler, *runner, options, info.to_rerun);
  trace.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report.ok()) {
    trace.error = report.error().message();
    return trace;
  }
  std::vector<std::vector<double>> points;
  for (const auto& t : (*study)->Finished()) {
    const bool ok = t.state == TrialState::kComplete;
    trace.ok.push_back(ok);
    trace.values.push_back(ok ? t.values : std::vector<double>{});
    trace.failure.push_back(t.failure_reason);
    if (ok) points.push_back(t.values);
    trace.best.push_back(Quality(s, points));
  }
  return trace;
}

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double Mean(const std::vector<double>& v) {
  if (v.empty()) return NAN;
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// The best quality after `b` trials (a run that ended early, the space exhausted, keeps its
// last value).
double BestAt(const Trace& t, int b) {
  if (t.best.empty()) return kInf;
  return t.best[std::min<size_t>(static_cast<size_t>(b), t.best.size()) - 1];
}

std::string Num(double x) {
  if (std::isnan(x)) return "n/a";
  if (std::isinf(x)) return "inf";
  if (x == 0) return "0";
  return fmt::format("{:.3g}", x);
}

std::string Join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

int Main(int argc, char** argv) {
  Options opt;
  for (const auto& [name, _] : SamplerDescriptions()) opt.samplers.push_back(name);
  opt.problems = ProblemNames();
  CLI::App app{"Benchmarks every sampler on the built-in problems (same seeds and budgets)"};
  bool list = false;
  app.add_option("--samplers", opt.samplers, "Comma-separated sampler names")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--problems", opt.problems, "Comma-separated problem names")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--seeds", opt.seeds, "Seeds per (sampler, problem): 0..N-1")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--budgets", opt.budgets, "Comma-separated trial budgets to report")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--out", opt.out, "Markdown summary to write")->capture_default_str();
  app.add_option("--raw", opt.raw, "All traces: CSV, or JSON when the name ends in .json");
  app.add_option("--threads", opt.threads, "Jobs run at once (the problems are pure functions)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_flag("--list", list, "List samplers and problems, then exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (list) {
    for (const auto& [name, desc] : SamplerDescriptions())
      fmt::print("sampler {}: {}\n", name, desc);
    for (const auto& name : ProblemNames()) {
      auto p = MakeProblem(name);
      fmt::print("problem {}: {}\n", name, p.ok() ? p->description : p.error().message());
    }
    return 0;
  }
  std::sort(opt.budgets.begin(), opt.budgets.end());
  opt.budgets.erase(std::unique(opt.budgets.begin(), opt.budgets.end()), opt.budgets.end());
  const int max_budget = opt.budgets.back();

  std::vector<Scored> problems;
  for (const auto& name : opt.problems) {
    auto s = Prepare(name);
    if (!s.ok()) {
      fmt::print(stderr, "error: {}\n", s.error().message());
      return 2;
    }
    problems.push_back(std::move(*s));
  }
  // Which sampler can run on which problem: its first Ask on an empty study must succeed.
  std::vector<std::string> notes;
  std::vector<std::vector<bool>> runs(opt.samplers.size(), std::vector<bool>(problems.size()));
  std::vector<Job> jobs;
  for (size_t si = 0; si < opt.samplers.size(); ++si) {
    for (size_t pi = 0; pi < problems.size(); ++pi) {
      auto sampler = MakeSampler(opt.samplers[si], SamplerOptions{0, max_budget});
      if (!sampler.ok()) {
        fmt::print(stderr, "error: {}\n", sampler.error().message());
        return 2;
      }
      const std::vector<TrialRecord> none;
      const std::vector<Config> pending;
      const auto& spec = problems[pi].problem.spec;
      auto probe = (*sampler)->Ask(SamplerContext{spec.space, spec.objectives, none, pending}, 1);
      if (!probe.ok()) {
        notes.push_back(fmt::format("`{}` skipped on `{}`: {}", opt.samplers[si],
                                    problems[pi].problem.name, probe.error().message()));
        continue;
      }
      runs[si][pi] = true;
      for (int seed = 0; seed < opt.seeds; ++seed) jobs.push_back(Job{si, pi, seed});
    }
  }

  std::vector<Trace> traces(jobs.size());
  std::atomic<size_t> next{0};
  std::mutex print_mutex;
  size_t done = 0;
  auto worker = [&] {
    for (size_t j = next++; j < jobs.size(); j = next++) {
      const Job& job = jobs[j];
      const Scored& s = problems[job.problem];
      traces[j] = RunJob(opt.samplers[job.sampler], s, job.seed, max_budget);
      std::lock_guard lock(print_mutex);
      ++done;
      const Trace& t = traces[j];
      if (!t.error.empty()) {
        fmt::print(stderr, "[{}/{}] {} on {} seed {}: FAILED: {}\n", done, jobs.size(),
                   opt.samplers[job.sampler], s.problem.name, job.seed, t.error);
      } else {
        fmt::print(stderr, "[{}/{}] {} on {} seed {}: {} trials, regret {} in {:.2f} s\n", done,
                   jobs.size(), opt.samplers[job.sampler], s.problem.name, job.seed, t.best.size(),
                   Num(BestAt(t, max_budget) - s.q_star), t.seconds);
      }
    }
  };
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> pool;
    for (int i = 0; i < std::max(1, opt.threads); ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  const double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Group the traces of each (sampler, problem).
  std::map<std::pair<size_t, size_t>, std::vector<const Trace*>> groups;
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (!traces[j].error.empty()) {
      notes.push_back(fmt::format("`{}` on `{}` seed {} failed: {}", opt.samplers[jobs[j].sampler],
                                  problems[jobs[j].problem].problem.name, jobs[j].seed,
                                  traces[j].error));
      continue;
    }
    groups[{jobs[j].sampler, jobs[j].problem}].push_back(&traces[j]);
  }
  auto normalised = [&](const Scored& s, double q) {
    return (q - s.q_star) / (s.q_random - s.q_star);
  };
  // Trials until within 5%, or +inf when never within the largest budget.
  auto evals_to_within = [&](const Scored& s, const Trace& t) {
    for (size_t i = 0; i < t.best.size() && static_cast<int>(i) < max_budget; ++i) {
      if (normalised(s, t.best[i]) <= kWithin) return static_cast<double>(i + 1);
    }
    return kInf;
  };

  std::ostringstream md;
  md << "### Settings\n\n";
  md << fmt::format(
      "Samplers: {}. Problems: {}. Seeds 0..{} for every sampler and problem; "
      "budgets {}; {} thread(s) across jobs, one worker per study; {:.1f} s in all.\n\n",
      Join(opt.samplers), Join(opt.problems), opt.seeds - 1, Join([&] {
        std::vector<std::string> b;
        for (int x : opt.budgets) b.push_back(std::to_string(x));
        return b;
      }()),
      opt.threads, total_s);
  md << "Each run is one study of " << max_budget
     << " trials; the value at a smaller budget is the best found after that many trials of the "
        "same run (samplers that plan for the budget, such as `lhs`, plan for "
     << max_budget
     << "). Failed trials (the hidden infeasible region of `kernel_constrained`) "
        "count towards the budget.\n\n";
  md << "Definitions (all problems minimise): *regret* = f_best - f\\*, with f\\* the known "
        "optimum; for `two_objective` (ZDT1) the quality is minus the hypervolume of every point "
        "found, so regret = HV\\* - HV (reference point (11, 11), HV\\* = 120.667). *Normalised "
        "regret* = (f_best - f\\*) / (f_rand - f\\*), where f_rand is the median value of one "
        "uniformly random feasible configuration (2000 draws, failures left out): 0 is optimal, 1 "
        "is a typical random guess. *Within 5%* means normalised regret <= 0.05; *evals to 5%* "
        "is the median over seeds of the first trial at which a run gets there, \"> B\" when "
        "the median run does not within the largest budget B.\n\n";
  for (const auto& n : notes) md << "- " << n << "\n";
  if (!notes.empty()) md << "\n";

  md << "Reference values:\n\n| problem | f* | f_rand | description |\n|---|---|---|---|\n";
  for (const auto& s : problems) {
    md << fmt::format("| `{}` | {} | {} | {} |\n", s.problem.name, Num(s.q_star), Num(s.q_random),
                      s.problem.description);
  }
  md << "\n";

  // Summary: median normalised regret at the largest budget, problem by sampler.
  md << fmt::format("### Median normalised regret after {} trials\n\n| problem |", max_budget);
  for (const auto& name : opt.samplers) md << " `" << name << "` |";
  md << "\n|---|";
  for (size_t i = 0; i < opt.samplers.size(); ++i) md << "---|";
  md << "\n";
  std::vector<std::vector<double>> per_sampler(opt.samplers.size());
  for (size_t pi = 0; pi < problems.size(); ++pi) {
    md << "| `" << problems[pi].problem.name << "` |";
    for (size_t si = 0; si < opt.samplers.size(); ++si) {
      auto it = groups.find({si, pi});
      if (it == groups.end()) {
        md << " skipped |";
        continue;
      }
      std::vector<double> v;
      for (const Trace* t : it->second)
        v.push_back(normalised(problems[pi], BestAt(*t, max_budget)));
      const double m = Median(v);
      per_sampler[si].push_back(m);
      md << " " << Num(m) << " |";
    }
    md << "\n";
  }
  md << "| median over problems |";
  for (size_t si = 0; si < opt.samplers.size(); ++si) {
    md << fmt::format(" {} ({} problems) |", Num(Median(per_sampler[si])), per_sampler[si].size());
  }
  md << "\n\n";

  // Per problem: regret at each budget, evaluations to 5%, time per trial.
  for (size_t pi = 0; pi < problems.size(); ++pi) {
    const Scored& s = problems[pi];
    md << fmt::format("### `{}`: regret, median (mean) over {} seeds\n\n| sampler |",
                      s.problem.name, opt.seeds);
    for (int b : opt.budgets) md << " " << b << " trials |";
    md << " evals to 5% | within 5% | ms/trial |\n|---|";
    for (size_t i = 0; i < opt.budgets.size() + 3; ++i) md << "---|";
    md << "\n";
    for (size_t si = 0; si < opt.samplers.size(); ++si) {
      auto it = groups.find({si, pi});
      if (it == groups.end()) continue;
      md << "| `" << opt.samplers[si] << "` |";
      for (int b : opt.budgets) {
        std::vector<double> r;
        for (const Trace* t : it->second) r.push_back(BestAt(*t, b) - s.q_star);
        md << " " << Num(Median(r)) << " (" << Num(Mean(r)) << ") |";
      }
      std::vector<double> evals, ms;
      int within = 0;
      for (const Trace* t : it->second) {
        evals.push_back(evals_to_within(s, *t));
        within += std::isfinite(evals.back());
        ms.push_back(t->best.empty() ? NAN : 1000 * t->seconds / t->best.size());
      }
      const double m = Median(evals);
      md << " " << (std::isfinite(m) ? Num(m) : fmt::format("> {}", max_budget)) << " | " << within
         << "/" << it->second.size() << " | " << Num(Median(ms)) << " |\n";
    }
    md << "\n";
  }

  auto make_parent = [](const std::string& path) {
    const auto parent = std::filesystem::path(path).parent_path();
    std::error_code ignored;  // a failure shows when the file is opened
    if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
  };
  if (!opt.out.empty()) {
    make_parent(opt.out);
    std::ofstream out(opt.out);
    if (!out) {
      fmt::print(stderr, "error: cannot write {}\n", opt.out);
      return 1;
    }
    out << md.str();
    fmt::print(stderr, "wrote {}\n", opt.out);
  }
  if (!opt.raw.empty()) {
    make_parent(opt.raw);
    std::ofstream raw(opt.raw);
    if (!raw) {
      fmt::print(stderr, "error: cannot write {}\n", opt.raw);
      return 1;
    }
    const bool as_json = opt.raw.size() >= 5 && opt.raw.substr(opt.raw.size() - 5) == ".json";
    nlohmann::json all = nlohmann::json::array();
    if (!as_json)
      raw << "sampler,problem,seed,trial,state,values,best_quality,regret,normalised_regret\n";
    for (size_t j = 0; j < jobs.size(); ++j) {
      const Trace& t = traces[j];
      const Scored& s = problems[jobs[j].problem];
      const std::string& sampler = opt.samplers[jobs[j].sampler];
      if (as_json) {
        all.push_back({{"sampler", sampler},
                       {"problem", s.problem.name},
                       {"seed", jobs[j].seed},
                       {"error", t.error},
                       {"seconds", t.seconds},
                       {"values", t.values},
                       {"failure", t.failure},
                       {"best_quality", t.best},
                       {"optimum", s.q_star},
                       {"random_median", s.q_random}});
        continue;
      }
      for (size_t i = 0; i < t.best.size(); ++i) {
        std::string values;
        for (double v : t.values[i]) values += (values.empty() ? "" : ";") + fmt::format("{}", v);
        raw << fmt::format("{},{},{},{},{},{},{},{},{}\n", sampler, s.problem.name, jobs[j].seed,
                           i + 1, t.ok[i] ? "COMPLETE" : "FAILED", values, t.best[i],
                           t.best[i] - s.q_star, normalised(s, t.best[i]));
      }
    }
    if (as_json) raw << all.dump() << "\n";
    fmt::print(stderr, "wrote {}\n", opt.raw);
  }
  return 0;
}

}  // namespace
}  // namespace sysopt

int main(int argc, char** argv) {
  try {
    return sysopt::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return 1;
  }
}
