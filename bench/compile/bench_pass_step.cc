// What one evaluated pass sequence costs: sysopt's in-process worker (clone the module, apply,
// count) against a fresh `opt-14 -passes=...` process per sequence, on the same programs and
// the same random sequences (fixed seed). Also the cost of one incremental step (a sequence one
// pass longer than one just evaluated, so the worker starts from the module it holds), which is
// what greedy and tree search pay. Prints a Markdown table of medians.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "sysopt/compile/actions.h"
#include "sysopt/compile/pass_pool.h"
#include "sysopt/compile/program.h"
#include "sysopt/runner/subprocess.h"

using namespace sysopt;

namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Cost of one evaluated pass sequence: in process against opt-14 processes"};
  std::vector<std::string> programs;
  int sequences = 100, length = 20;
  uint64_t seed = 1;
  app.add_option("programs", programs, "Program folders or files (.c, .bc, .ll)")->required();
  app.add_option("--sequences", sequences, "Random sequences per program")->capture_default_str();
  app.add_option("--length", length, "Passes per sequence")->capture_default_str();
  app.add_option("--seed", seed, "Seed of the sequences")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  fmt::print(
      "| program | IR instructions | opt-14 process (ms) | in process (ms) | ratio | "
      "incremental step (ms) | ratio |\n|---|---:|---:|---:|---:|---:|---:|\n");
  std::vector<double> ratios, step_ratios;
  for (const std::string& path : programs) {
    std::vector<std::string> files;
    // A program is named by its folder, or by its file's stem.
    std::filesystem::path where = std::filesystem::path(path).lexically_normal();
    if (where.filename().empty()) where = where.parent_path();
    const std::string label =
        std::filesystem::is_directory(path) ? where.filename().string() : where.stem().string();
    if (std::filesystem::is_directory(path)) {
      for (const auto& e : std::filesystem::directory_iterator(path)) {
        if (IsCSource(e.path().string())) files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
    } else {
      files = {path};
    }
    auto program = LoadProgram(files, ProgramOptions{});
    if (!program.ok()) {
      fmt::print(stderr, "{}: {}\n", path, program.error().message());
      return 2;
    }
    const std::string bc =
        (std::filesystem::temp_directory_path() / fmt::format("sysopt-step-{}.bc", program->name))
            .string();
    std::FILE* f = std::fopen(bc.c_str(), "wb");
    std::fwrite(program->bitcode.data(), 1, program->bitcode.size(), f);
    std::fclose(f);
    std::mt19937_64 rng(seed);
    // CompilerGym's passes only: the standard pipelines would dominate both sides' cost.
    std::uniform_int_distribution<int> pick(0, CompilerGymActionCount() - 1);
    std::vector<std::vector<int>> seqs(static_cast<size_t>(sequences));
    for (auto& s : seqs) {
      for (int i = 0; i < length; ++i) s.push_back(pick(rng));
    }
    // One worker, so that both sides use one core. No held modules for the fresh sequences:
    // the first comparison is of whole sequences from the unoptimised module.
    PassPoolOptions cold;
    cold.cache_instructions = 0;
    auto pool = PassPool::Create(program->bitcode, cold);
    auto warm_pool = PassPool::Create(program->bitcode, PassPoolOptions{});
    if (!pool.ok() || !warm_pool.ok()) return 1;
    std::vector<double> in_process, opt, step;
    for (const auto& s : seqs) {
      PassRequest r;
      r.actions = s;
      const auto t0 = std::chrono::steady_clock::now();
      const PassResult result = (*pool)->Evaluate(r);
      in_process.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      (void)result;
      SubprocessOptions o;
      o.argv = {"opt-14", "-passes=" + PipelineText(s), bc, "-o", "/dev/null"};
      o.env = {"PATH=/usr/bin:/bin"};
      o.drain_grace_s = 0.05;
      const SubprocessOutcome outcome = RunSubprocess(o);
      opt.push_back(outcome.seconds);
      // The sequence, then the sequence plus one pass: the second is a step.
      PassRequest a;
      a.actions = s;
      (*warm_pool)->Evaluate(a);
      a.actions.push_back(pick(rng));
      const auto t1 = std::chrono::steady_clock::now();
      (*warm_pool)->Evaluate(a);
      step.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());
    }
    const double mi = Median(in_process) * 1e3, mo = Median(opt) * 1e3, ms = Median(step) * 1e3;
    ratios.push_back(mo / mi);
    step_ratios.push_back(mo / ms);
    fmt::print("| {} | {} | {:.2f} | {:.2f} | {:.1f}x | {:.3f} | {:.0f}x |\n", label,
               program->ir_count, mo, mi, mo / mi, ms, mo / ms);
    std::filesystem::remove(bc);
  }
  auto geomean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += std::log(x);
    return std::exp(s / static_cast<double>(v.size()));
  };
  fmt::print("| **geomean** | | | | **{:.1f}x** | | **{:.0f}x** |\n", geomean(ratios),
             geomean(step_ratios));
  return 0;
}
