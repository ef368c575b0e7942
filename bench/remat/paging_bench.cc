// Paging benchmark: shipped graphs planned without paging and with paging over links of several
// bandwidths, at two budgets. Per graph and budget: the default plan without paging (`auto`),
// then per link the default plan with paging (`auto`, which adds `paging` and, up to
// kPagingMilpNodes nodes, `milp-paging`), and the paging pass alone on the no-paging plan
// (which isolates what paging does from the search's run-to-run spread). Writes the "Memory
// planner: paging" section of docs/benchmarks.md (between its markers) and prints it.
//
// Usage: remat_paging_bench [--time-limit S] [--out docs/benchmarks.md]
#include <fmt/core.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "doc_section.h"
#include "sysopt/remat/graph.h"
#include "sysopt/remat/paging.h"
#include "sysopt/remat/planner.h"
#include "sysopt/remat/size.h"

namespace remat = sysopt::remat;

namespace {

std::string CpuName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double one = 0, five = 0, fifteen = 0;
  in >> one >> five >> fifteen;
  return fmt::format("{:.1f} / {:.1f} / {:.1f}", one, five, fifteen);
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * t.tv_usec; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string Pct(double x) { return fmt::format("{:.2f}%", 100.0 * x); }

std::string Rate(double bytes_per_s) {
  if (bytes_per_s >= 1e9) return fmt::format("{:g} GB/s", bytes_per_s / 1e9);
  return fmt::format("{:g} MB/s", bytes_per_s / 1e6);
}

struct Link {
  double bandwidth;
  remat::Objective objective = remat::Objective::kTime;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string root = SYSOPT_SOURCE_DIR;
  std::string out_path = root + "/docs/benchmarks.md";
  double time_limit = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--time-limit" && i + 1 < argc) {
      time_limit = std::stod(argv[++i]);
    } else if (arg == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else {
      fmt::print(stderr, "usage: remat_paging_bench [--time-limit S] [--out FILE]\n");
      return 2;
    }
  }
  // Graphs whose costs are measured seconds, so that a bandwidth in bytes per second means
  // what it says; then small generated graphs (unit costs, 1 MiB tensors: a link of B MB/s moves
  // a tensor in 1.05 / B cost units) where `milp-paging` runs. `held_out`: first run here, after
  // the planners were written (nothing in them is set by any graph).
  struct Case {
    std::string name;
    bool held_out;
    std::vector<Link> links;
  };
  const std::vector<Link> real_links = {
      {100e6}, {1e9}, {12e9}, {32e9}, {100e6, remat::Objective::kEnergy}};
  const std::vector<Link> unit_links = {{1e6}, {5e6}, {20e6}};
  const std::vector<Case> cases = {
      {"unet", false, real_links},
      {"transformer_lm", true, real_links},
      {"mobilenet_v2", true, real_links},
      {"resnet50", true, real_links},
      {"vit_b_16_layer", true, real_links},
      {"synthetic_chain16", false, unit_links},
      {"synthetic_residual24", true, unit_links},
      {"synthetic_diamond6", true, unit_links},
  };
  const std::string load_before = LoadAverage();
  const auto started = std::chrono::steady_clock::now();
  std::string body;
  for (const Case& c : cases) {
    auto loaded = remat::LoadGraph(root + "/data/graphs/" + c.name + ".json");
    if (!loaded.ok()) {
      fmt::print(stderr, "{}\n", loaded.error().message());
      return 1;
    }
    const remat::Graph& base = *loaded;
    body += fmt::format("### {} ({} nodes){}\n\n", base.name, base.size(),
                        c.held_out ? ", held out" : "");
    body +=
        "| budget | link | objective | best | overhead | transfers | recomputes | page-ins | "
        "paged | energy | paging bound gap | wall | CPU | paging pass on the no-paging plan |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (double fraction : {0.5, 0.3}) {
      const int64_t budget = remat::BudgetAtFraction(base, fraction);
      auto run = [&](const remat::Graph& g, remat::Objective objective, double* wall, double* cpu) {
        const double cpu_start = CpuSeconds();
        const auto t0 = std::chrono::steady_clock::now();
        remat::PlannerOptions options{budget, {"auto"}, time_limit, 1};
        options.objective = objective;
        auto result = remat::RunPlanner(g, options);
        *wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        *cpu = CpuSeconds() - cpu_start;
        return result;
      };
      double wall = 0, cpu = 0;
      auto plain = run(base, remat::Objective::kTime, &wall, &cpu);
      if (!plain.ok()) {
        fmt::print(stderr, "{}\n", plain.error().message());
        return 1;
      }
      const remat::PlanEntry* none = plain->best >= 0 ? &plain->entries[plain->best] : nullptr;
      const std::string label = fmt::format("{:.0f}%", 100 * fraction);
      if (none == nullptr) {
        body += fmt::format("| {} | none | time | - | - | | | | | | | {:.1f} s | {:.1f} s | |\n",
                            label, wall, cpu);
        fmt::print("{} {}: no plan without paging\n", base.name, label);
        continue;
      }
      body += fmt::format(
          "| {} | none | time | {} | {} | 0 | {} | 0 | 0 | {:.4g} J | | {:.1f} s | {:.1f} s | |\n",
          label, none->solver, Pct(none->overhead), none->sim.recomputes, none->sim.energy, wall,
          cpu);
      fmt::print("{} {} no paging: {} ({})\n", base.name, label, Pct(none->overhead), none->solver);
      for (const Link& link : c.links) {
        remat::Graph g = base;
        g.paging = remat::PagingParams{};
        g.paging->bandwidth_bytes_per_s = link.bandwidth;
        auto paged = run(g, link.objective, &wall, &cpu);
        if (!paged.ok()) {
          fmt::print(stderr, "{}\n", paged.error().message());
          return 1;
        }
        const remat::PagingPass pass = remat::PageRecomputations(
            g, none->plan.schedule, budget, link.objective, remat::Deadline::In(time_limit));
        const double base_cost = std::max(paged->keep_all_cost, 1e-300);
        const std::string pass_cell = fmt::format(
            "{} ({} of {} recomputations gone, {} page-ins)", Pct(pass.sim.cost / base_cost - 1.0),
            pass.recomputations - pass.sim.recomputes, pass.recomputations, pass.replaced);
        const std::string objective =
            link.objective == remat::Objective::kEnergy ? "energy" : "time";
        if (paged->best < 0) {
          body += fmt::format("| {} | {} | {} | - | - | | | | | | | {:.1f} s | {:.1f} s | {} |\n",
                              label, Rate(link.bandwidth), objective, wall, cpu, pass_cell);
          continue;
        }
        const remat::PlanEntry& best = paged->entries[paged->best];
        body += fmt::format(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.4g} J | {} | {:.1f} s | {:.1f} s "
            "| {} |\n",
            label, Rate(link.bandwidth), objective, best.solver, Pct(best.overhead),
            Pct(best.sim.paging_seconds / base_cost), best.sim.recomputes, best.sim.page_ins,
            remat::FormatBytes(best.sim.paged_bytes), best.sim.energy,
            fmt::format("{} ({})", Pct(best.gap), paged->paging_bound_source), wall, cpu,
            pass_cell);
        fmt::print("{} {} {} {}: {} ({}), pass {}\n", base.name, label, Rate(link.bandwidth),
                   objective, Pct(best.overhead), best.solver, pass_cell);
        std::fflush(stdout);
      }
    }
    body += "\n";
  }
  const double minutes =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() / 60.0;
  std::string md = "## Memory planner: paging\n\n";
  md += fmt::format(
      "Produced by `build/bench/remat/remat_paging_bench --time-limit {:g}` (source: "
      "bench/remat/paging_bench.cc) on {} ({} hardware threads, shared with other jobs; load "
      "average {} before and {} after the {:.0f} minutes of the run), {} UTC. Each cell is one "
      "run.\n\n"
      "* Budgets are the fixed bytes plus 50% or 30% of the keep-everything activation peak. "
      "*none* is `sysopt remat plan --solver auto --time-limit {:g}` without paging; each link "
      "row is the same command with `--page-bandwidth` (latency 0; for the energy rows "
      "`--objective energy` with the default {:g} W compute and {:g} J/byte). `auto` then adds "
      "`paging` (the best plans' recomputations replaced by page-ins where the transfers cost "
      "less) and, up to {} nodes, `milp-paging` (Checkmate's program with POET's page-in and "
      "page-out variables), sharing the same clock, so the stage search gets less time than "
      "without paging.\n"
      "* *overhead* is the best plan's time (compute plus transfers) over the keep-everything "
      "compute; *transfers* the transfer part of it (serialised on one link, not overlapped "
      "with compute); *paged* the bytes moved out and in. *paging bound gap* is the plan's gap "
      "to the best bound on plans with paging: every node once, or `milp-paging`'s CBC bound.\n"
      "* The last column is the paging pass alone on the *none* plan: it isolates what paging "
      "does from the stage search's run-to-run spread.\n"
      "* The shipped network graphs' costs are CPU seconds (one thread); on an accelerator "
      "compute is one to two orders of magnitude faster, so the bandwidth at which paging "
      "starts to pay is that much higher. The synthetic graphs have unit costs, read as seconds "
      "(1 MiB tensors).\n\n",
      time_limit, CpuName(), std::thread::hardware_concurrency(), load_before, LoadAverage(),
      minutes,
      [] {
        char buf[64];
        const std::time_t now = std::time(nullptr);
        std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&now));
        return std::string(buf);
      }(),
      time_limit, remat::kDefaultComputePowerW, remat::kDefaultPageEnergyPerByteJ,
      remat::kPagingMilpNodes);
  md += body;
  fmt::print("{}", md);

  return sysopt::bench::ReplaceDocSection(out_path, "remat-paging", md);
}
