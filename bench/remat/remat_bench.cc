// Memory-planner benchmark: every solver on every shipped graph at 30/50/70/90% of the
// keep-everything activation peak, the smallest budget each solver fits, and the maximum batch
// at an overhead cap of one extra forward pass. Writes the "Memory planner" section of
// docs/benchmarks.md (between its markers) and prints the same tables.
//
// Usage: remat_bench [--quick] [--time-limit S] [--out docs/benchmarks.md] [--graphs a.json,...]
//        remat_bench --write-synthetic DIR   (writes the synthetic test graphs)
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sysopt/remat/graph.h"
#include "sysopt/remat/planner.h"
#include "sysopt/remat/size.h"
#include "sysopt/remat/synthetic.h"

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

std::string Pct(double x) { return fmt::format("{:.1f}%", 100.0 * x); }

int WriteSynthetic(const std::string& dir) {
  struct Item {
    std::string name;
    std::vector<remat::ForwardOp> ops;
  };
  const std::vector<Item> items = {
      {"chain16", remat::ChainOps(16, 1 << 20, 1.0)},
      {"residual24", remat::ResidualOps(24, 3, 1 << 20, 1.0)},
      {"diamond6", remat::DiamondOps(6, 1 << 20, 1.0)},
      {"unet6", remat::UNetOps(6, 64 << 20, 1.0)},
  };
  for (const Item& item : items) {
    auto g = remat::MakeTrainingGraph(item.name, item.ops, 0, 1);
    if (!g.ok()) {
      fmt::print(stderr, "{}\n", g.error().message());
      return 1;
    }
    const std::string path = dir + "/synthetic_" + item.name + ".json";
    auto saved = remat::SaveGraph(*g, path);
    if (!saved.ok()) {
      fmt::print(stderr, "{}\n", saved.error().message());
      return 1;
    }
    fmt::print("wrote {} ({} nodes)\n", path, g->size());
  }
  return 0;
}

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root = SYSOPT_SOURCE_DIR;
  std::string out_path = root + "/docs/benchmarks.md";
  double time_limit = 60;
  bool quick = false;
  std::vector<std::string> graphs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--write-synthetic" && i + 1 < argc) return WriteSynthetic(argv[++i]);
    if (arg == "--quick")
      quick = true;
    else if (arg == "--time-limit" && i + 1 < argc)
      time_limit = std::stod(argv[++i]);
    else if (arg == "--out" && i + 1 < argc)
      out_path = argv[++i];
    else if (arg == "--graphs" && i + 1 < argc)
      graphs = Split(argv[++i]);
    else {
      fmt::print(stderr,
                 "usage: remat_bench [--quick] [--time-limit S] [--out FILE] "
                 "[--graphs a.json,b.json] | --write-synthetic DIR\n");
      return 2;
    }
  }
  if (graphs.empty()) {
    for (const char* name :
         {"vgg16", "resnet50", "mobilenet_v2", "unet", "synthetic_unet6", "synthetic_chain16"}) {
      graphs.push_back(root + "/data/graphs/" + name + ".json");
    }
  }
  const std::vector<double> fractions = {0.3, 0.5, 0.7, 0.9};
  std::string md;
  md += "## Memory planner\n\n";
  md += fmt::format(
      "Produced by `build/bench/remat/remat_bench{}` (source: bench/remat/remat_bench.cc) on "
      "{} ({} hardware threads), {} UTC. Each cell is one run (solve times on this shared "
      "2-core machine vary by about 2x between runs). Budgets are the fixed bytes plus the given "
      "fraction of the keep-everything activation peak. Overhead is extra compute relative to "
      "keeping everything (cost = measured CPU time per op, see docs/remat.md); `-` means the "
      "solver found no schedule within the budget. Every schedule was checked by the "
      "simulator. The solvers are those `auto` runs (the baselines, `stage-search`, and `milp` up "
      "to 120 nodes or the bound-only `lp-bound` above 200), plus `checkpoint-search` (the "
      "stage search's starting point) on its own and `lp-bound` everywhere. The lower bound is "
      "the best of: every node computed once, CBC's bound on Checkmate's program (root LP with "
      "the stage-boundary rows and cuts, then branch and bound), and the LP of its "
      "stage-boundary relaxation (`lp-bound`, without a column); all are bounds of the "
      "frontier-advancing model, see docs/remat.md. Time limit per solver: {} s.\n\n",
      quick ? " --quick" : "", CpuName(), std::thread::hardware_concurrency(),
      [] {
        char buf[64];
        const std::time_t now = std::time(nullptr);
        std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&now));
        return std::string(buf);
      }(),
      time_limit);
  std::string batch_md;
  // Checks against the targets, collected as the tables are made.
  int cells = 0, within_2pct = 0, not_worse = 0, under_60s = 0, feasible_cells = 0;
  std::vector<std::string> misses, min_budget_notes;
  for (const std::string& path : graphs) {
    auto graph = remat::LoadGraph(path);
    if (!graph.ok()) {
      fmt::print(stderr, "{}\n", graph.error().message());
      return 1;
    }
    const remat::Graph& g = *graph;
    // What `auto` runs, with the checkpoint search (the stage search's starting point) shown on
    // its own, and the stage-boundary LP bound (no schedule, so no column) on every graph.
    std::vector<std::string> solvers = remat::AutoSolvers(g);
    solvers.insert(std::find(solvers.begin(), solvers.end(), "stage-search"), "checkpoint-search");
    if (quick) {
      std::erase_if(solvers, [](const std::string& s) { return s == "milp" || s == "lp-rounding"; });
    }
    if (!quick && std::find(solvers.begin(), solvers.end(), "lp-bound") == solvers.end()) {
      solvers.push_back("lp-bound");
    }
    auto is_search = [](const std::string& s) {
      return s == "checkpoint-search" || s == "stage-search" || s == "lp-rounding" || s == "milp" ||
             s == "lp-bound";
    };
    std::string timed;  // the solvers whose solve times are listed
    for (const auto& s : solvers) {
      if (is_search(s)) timed += (timed.empty() ? "" : " / ") + s;
    }
    auto has_column = [](const std::string& s) { return s != "lp-bound"; };
    const size_t columns = static_cast<size_t>(
        std::count_if(solvers.begin(), solvers.end(), has_column));
    const int64_t peak = remat::KeepEverythingPeak(g);
    md += fmt::format("### {} ({} nodes, batch {}, activations {}, fixed {})\n\n", g.name, g.size(),
                      g.batch_size, remat::FormatBytes(peak - g.fixed_bytes),
                      remat::FormatBytes(g.fixed_bytes));
    md += "| budget | ";
    for (const auto& s : solvers) {
      if (has_column(s)) md += s + " | ";
    }
    md += "lower bound | best gap | solve time (" + timed + ") |\n|---|";
    for (size_t k = 0; k < columns + 3; ++k) md += "---|";
    md += "\n";
    for (double f : fractions) {
      const int64_t budget = remat::BudgetAtFraction(g, f);
      auto result = remat::RunPlanner(g, {budget, solvers, time_limit, 1});
      if (!result.ok()) {
        fmt::print(stderr, "{}\n", result.error().message());
        return 1;
      }
      md += fmt::format("| {:.0f}% ({}) | ", 100 * f, remat::FormatBytes(budget));
      std::string times;
      double best_baseline = INFINITY;
      for (const auto& e : result->entries) {
        if (has_column(e.solver)) {
          md += e.plan.feasible ? Pct(e.overhead) : "-";
          if (e.plan.feasible && e.plan.proven_optimal && e.solver != "keep-all") md += " (opt)";
          md += " | ";
        }
        if (is_search(e.solver)) {
          times += fmt::format("{}{:.1f} s", times.empty() ? "" : " / ", e.solve_seconds);
        }
        if (e.plan.feasible && !is_search(e.solver)) {
          best_baseline = std::min(best_baseline, e.sim.cost);
        }
      }
      ++cells;
      if (result->best >= 0) {
        const auto& best = result->entries[result->best];
        ++feasible_cells;
        if (best.gap <= 0.02 || best.plan.proven_optimal) {
          ++within_2pct;
        } else {
          misses.push_back(fmt::format("{} at {:.0f}%: gap {}", g.name, 100 * f, Pct(best.gap)));
        }
        if (best.sim.cost <= best_baseline + 1e-12) ++not_worse;
      }
      bool fast = true;
      for (const auto& e : result->entries) fast = fast && e.solve_seconds < 60.0;
      if (fast) ++under_60s;
      const double lb_overhead = result->lower_bound / result->keep_all_cost - 1.0;
      std::string infeasible_by;  // a solver that proved no plan fits Checkmate's model
      for (const auto& e : result->entries) {
        if ((e.solver == "lp-bound" || e.solver == "lp-rounding" || e.solver == "milp") &&
            e.plan.status.find("infeasible") != std::string::npos && infeasible_by.empty()) {
          infeasible_by = e.solver;
        }
      }
      md += fmt::format("{} | {} | {} |\n",
                        infeasible_by.empty()
                            ? fmt::format("{} ({})", Pct(lb_overhead), result->bound_source)
                            : fmt::format("infeasible in the model ({})", infeasible_by),
                        result->best >= 0 ? Pct(result->entries[result->best].gap) : "-", times);
      fmt::print("{} {:.0f}%: best {} lb {} time {}\n", g.name, 100 * f,
                 result->best >= 0 ? result->entries[result->best].solver : "none",
                 Pct(lb_overhead), times);
      std::fflush(stdout);
    }
    // Smallest budget each solver that always returns a schedule reaches: its least-peak plan
    // (budget = the fixed bytes, which nothing fits).
    md +=
        "\nSmallest budget with a schedule (peak above fixed bytes, as % of keep-everything "
        "activations; searches limited to 10 s):";
    std::vector<std::string> least_solvers = remat::BaselineNames();
    least_solvers.push_back("checkpoint-search");
    least_solvers.push_back("stage-search");
    auto least = remat::RunPlanner(g, {g.fixed_bytes, least_solvers, std::min(time_limit, 10.0), 1});
    if (least.ok()) {
      int64_t best_baseline_peak = INT64_MAX, search_peak = INT64_MAX;
      std::vector<std::string> reached;
      for (const auto& e : least->entries) {
        if (!e.plan.has_schedule) continue;
        if (is_search(e.solver)) {
          search_peak = std::min(search_peak, e.sim.peak_bytes);
        } else {
          best_baseline_peak = std::min(best_baseline_peak, e.sim.peak_bytes);
        }
        reached.push_back(fmt::format("{} {}", e.solver,
                                      Pct(static_cast<double>(e.sim.peak_bytes - g.fixed_bytes) /
                                          static_cast<double>(peak - g.fixed_bytes))));
      }
      md += fmt::format(" {}.", fmt::join(reached, "; "));
      min_budget_notes.push_back(
          fmt::format("{}: the searches {} the best baseline ({} vs {})", g.name,
                      search_peak < best_baseline_peak ? "below" : "NOT below",
                      remat::FormatBytes(search_peak - g.fixed_bytes),
                      remat::FormatBytes(best_baseline_peak - g.fixed_bytes)));
    }
    md += "\n\n";
    // Maximum batch at one extra forward pass, budget = 4x the activations at the base batch.
    if (g.batch_size > 0) {
      const int64_t budget = g.fixed_bytes + 4 * (peak - g.fixed_bytes);
      const double cap = g.ForwardCost() / g.TotalCost();
      std::vector<std::string> batch_solvers = remat::BaselineNames();
      batch_solvers.push_back("stage-search");
      auto entries = remat::MaxBatch(g, budget, cap, batch_solvers, std::min(time_limit, 5.0),
                                     64 * g.batch_size, 1);
      if (entries.ok()) {
        batch_md += fmt::format("| {} | {} | {} |", g.name, remat::FormatBytes(budget), Pct(cap));
        for (const auto& e : *entries) batch_md += fmt::format(" {} |", e.max_batch);
        batch_md += "\n";
      }
    }
  }
  md += "### Against the targets\n\n";
  md += fmt::format(
      "* Budgets with a plan: {} of {}. Best plan within 2% of the lower bound (or proven "
      "optimal): {} of {}{}.\n",
      feasible_cells, cells, within_2pct, feasible_cells,
      misses.empty() ? "" : fmt::format(" — misses: {}", fmt::join(misses, "; ")));
  md += fmt::format("* Best plan never worse than the best baseline: {} of {}.\n", not_worse,
                    feasible_cells);
  md += fmt::format("* Every solver under 60 s: {} of {} budgets.\n", under_60s, cells);
  md += fmt::format("* Smallest feasible budget (activations above fixed bytes): {}.\n\n",
                    fmt::join(min_budget_notes, "; "));
  md += "### Maximum batch size at an overhead cap of one extra forward pass\n\n";
  md +=
      "Sizes and costs scale linearly with the batch (as in Checkmate's experiment); the "
      "budget is the fixed bytes plus 4x the keep-everything activations at the extraction "
      "batch, so keep-all fits exactly 4x that batch. Each solve in the batch search is limited "
      "to 5 s.\n\n";
  md += "| graph | budget | cap |";
  for (const auto& s : remat::BaselineNames()) md += " " + s + " |";
  md += " stage-search |\n|---|---|---|";
  for (size_t k = 0; k < remat::BaselineNames().size() + 1; ++k) md += "---|";
  md += "\n" + batch_md + "\n";
  fmt::print("{}", md);

  // Replace our section in docs/benchmarks.md, leaving the rest of the file alone.
  const std::string begin = "<!-- remat:begin -->", end = "<!-- remat:end -->";
  std::string doc;
  {
    std::ifstream in(out_path);
    std::stringstream buf;
    buf << in.rdbuf();
    doc = buf.str();
  }
  const std::string section = begin + "\n" + md + end;
  const size_t b = doc.find(begin), e = doc.find(end);
  if (b != std::string::npos && e != std::string::npos && e > b) {
    doc.replace(b, e + end.size() - b, section);
  } else {
    if (doc.empty()) doc = "# Benchmarks\n";
    doc += "\n" + section + "\n";
  }
  std::ofstream out(out_path);
  out << doc;
  if (!out) {
    fmt::print(stderr, "cannot write {}\n", out_path);
    return 1;
  }
  fmt::print("updated {}\n", out_path);
  return 0;
}
