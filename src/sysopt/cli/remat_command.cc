// `sysopt remat`: plan, sweep, max-batch and simulate for training-memory rematerialisation.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sysopt/cli/command.h"
#include "sysopt/remat/graph.h"
#include "sysopt/remat/planner.h"
#include "sysopt/remat/schedule.h"
#include "sysopt/remat/size.h"
#include "sysopt/remat/solver.h"

namespace sysopt::cli {
namespace {

using nlohmann::json;
namespace remat = sysopt::remat;

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

std::string Percent(double x) { return fmt::format("{:.2f}%", 100.0 * x); }

// Paging flags, shared by plan, sweep and simulate; they set or override the graph's "paging".
struct PagingArgs {
  std::string bandwidth, latency, energy_per_byte, compute_power, objective = "time";
};

void AddPagingOptions(CLI::App* command, PagingArgs& args, bool with_objective) {
  command->add_option(
      "--page-bandwidth", args.bandwidth,
      "Let tensors be paged out to host memory and back over a link of this rate (12GB/s, "
      "900MiB/s, or bytes per second), beside keeping and recomputing them; overrides the "
      "graph's 'paging.bandwidth_bytes_per_s'. Transfers are serialised on one link and add "
      "latency + bytes / rate seconds each to the plan's time (costs are taken as seconds)");
  command->add_option("--page-latency", args.latency,
                      "Seconds added to every page-out and page-in (default 0, or the graph's)");
  command->add_option("--page-energy", args.energy_per_byte,
                      fmt::format("Joules per byte moved by a page-out or page-in (default {:g}, "
                                  "or the graph's)",
                                  remat::kDefaultPageEnergyPerByteJ));
  command->add_option("--compute-power", args.compute_power,
                      fmt::format("Watts: the energy of an operation without 'energy_j' is its "
                                  "cost times this (default {:g}, or the graph's)",
                                  remat::kDefaultComputePowerW));
  if (with_objective) {
    command
        ->add_option("--objective", args.objective,
                     "What the best plan minimises with paging: 'time' (compute plus transfers) "
                     "or 'energy' (compute energy plus transfer energy, as POET does)")
        ->capture_default_str();
  }
}

// A number >= 0 given to `flag`.
Expected<double> NonNegative(const std::string& flag, const std::string& text) {
  double value = 0;
  try {
    size_t used = 0;
    value = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    return InvalidInput("{} '{}': expected a number", flag, text);
  }
  if (!std::isfinite(value) || value < 0) {
    return InvalidInput("{} '{}': must be a finite number >= 0", flag, text);
  }
  return value;
}

// Applies the paging flags to `graph` and returns the objective.
Expected<remat::Objective> ApplyPaging(const PagingArgs& args, remat::Graph& graph) {
  if (!args.bandwidth.empty()) {
    auto rate = remat::ParseBandwidth(args.bandwidth);
    if (!rate.ok()) return rate.error().WithContext("--page-bandwidth");
    if (!graph.paging) graph.paging = remat::PagingParams{};
    graph.paging->bandwidth_bytes_per_s = *rate;
  }
  struct Flag {
    const char* name;
    const std::string& text;
    double remat::PagingParams::*field;
  };
  const Flag flags[] = {
      {"--page-latency", args.latency, &remat::PagingParams::latency_s},
      {"--page-energy", args.energy_per_byte, &remat::PagingParams::energy_per_byte_j},
      {"--compute-power", args.compute_power, &remat::PagingParams::compute_power_w}};
  for (const Flag& flag : flags) {
    if (flag.text.empty()) continue;
    if (!graph.paging) {
      return InvalidInput(
          "{} '{}': paging is off; give --page-bandwidth or a graph with a 'paging' field",
          flag.name, flag.text);
    }
    auto value = NonNegative(flag.name, flag.text);
    if (!value.ok()) return value.error();
    (*graph.paging).*flag.field = *value;
  }
  if (args.objective == "time") return remat::Objective::kTime;
  if (args.objective == "energy") {
    if (!graph.paging) {
      return InvalidInput(
          "--objective energy: paging is off; give --page-bandwidth or a graph with a 'paging' "
          "field");
    }
    return remat::Objective::kEnergy;
  }
  return InvalidInput("--objective '{}': expected 'time' or 'energy'", args.objective);
}

std::string FormatRate(double bytes_per_s) {
  if (bytes_per_s >= 1e9) return fmt::format("{:.3g} GB/s", bytes_per_s / 1e9);
  if (bytes_per_s >= 1e6) return fmt::format("{:.3g} MB/s", bytes_per_s / 1e6);
  return fmt::format("{:.3g} B/s", bytes_per_s);
}

struct PlanArgs {
  std::string graph_path, budget, solver = "auto", out;
  double time_limit = 60;
  uint64_t seed = 1;
  bool json = false, quiet = false;
  PagingArgs paging;
};

// A progress line on stderr as the planner starts each solver (a run of `auto` on a large
// graph takes a few minutes); nothing with --quiet.
remat::SolverStarted PlannerProgress(bool quiet, std::string prefix) {
  if (quiet) return nullptr;
  return [prefix = std::move(prefix)](const std::string& solver, int index, int count) {
    fmt::print(stderr, "sysopt: {}[{}/{}] {}\n", prefix, index + 1, count, solver);
  };
}

Expected<void> CheckTimeLimit(double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0) {
    return InvalidInput("--time-limit {}: must be a positive number of seconds", seconds);
  }
  return Ok();
}

int RunPlan(const PlanArgs& args) {
  // The clock starts with the command: reading the graph counts against the limit too.
  const auto started = std::chrono::steady_clock::now();
  if (auto ok = CheckTimeLimit(args.time_limit); !ok.ok()) return ReportError(ok.error());
  const remat::Deadline deadline = remat::Deadline::In(args.time_limit);
  auto graph = remat::LoadGraph(args.graph_path);
  if (!graph.ok()) return ReportError(graph.error());
  auto objective = ApplyPaging(args.paging, *graph);
  if (!objective.ok()) return ReportError(objective.error());
  auto budget = remat::ParseBudget(args.budget, *graph);
  if (!budget.ok()) return ReportError(budget.error().WithContext("--budget"));
  remat::PlannerOptions options{
      *budget, SplitList(args.solver), args.time_limit, args.seed, deadline, *objective};
  auto result = remat::RunPlanner(*graph, options, PlannerProgress(args.quiet, ""));
  if (!result.ok()) return ReportError(result.error());
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!args.out.empty()) {
    if (result->best < 0) {
      return ReportError(
          RuntimeError("no solver found a plan within {} for {}; nothing written "
                       "to {}",
                       remat::FormatBytes(*budget), args.graph_path, args.out));
    }
    const remat::PlanEntry& best = result->entries[result->best];
    // The plan names what it is for, so that it is not applied to another graph or budget.
    const json header = {
        {"graph", {{"path", args.graph_path},
                   {"name", graph->name},
                   {"nodes", graph->size()},
                   {"content_hash", graph->content_hash},
                   {"hash_function", "fnv1a64"}}},
        {"budget_bytes", *budget},
        {"budget", args.budget},
        {"solver", best.solver},
        {"peak_bytes", best.sim.peak_bytes},
        {"cost", best.sim.cost},
        {"overhead", best.overhead},
        {"time_limit_s", args.time_limit},
        {"seed", args.seed}};
    json with_paging = header;
    if (graph->paging) {
      // The link the plan's page-outs and page-ins were costed for.
      with_paging["paging"] = remat::PagingToJson(*graph->paging);
      with_paging["objective"] = args.paging.objective;
      with_paging["compute_cost"] = best.sim.compute_cost;
      with_paging["paging_seconds"] = best.sim.paging_seconds;
      with_paging["energy"] = best.sim.energy;
    }
    auto saved = remat::SaveSchedule(*graph, best.plan.schedule, args.out, with_paging);
    if (!saved.ok()) return ReportError(saved.error());
  }
  if (args.json) {
    json j = remat::PlannerResultJson(*result, *budget);
    j["wall_seconds"] = wall_seconds;
    j["time_limit_s"] = args.time_limit;
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print(
        "graph {} ({} nodes), budget {} ({} of the keep-everything activation peak {}, "
        "plus {} fixed)\n",
        graph->name, graph->size(), remat::FormatBytes(*budget),
        Percent(static_cast<double>(*budget - graph->fixed_bytes) /
                std::max<int64_t>(1, result->keep_all_peak - graph->fixed_bytes)),
        remat::FormatBytes(result->keep_all_peak - graph->fixed_bytes),
        remat::FormatBytes(graph->fixed_bytes));
    fmt::print("lower bound on cost: {:.6g} ({}), keep-everything cost {:.6g}\n",
               result->lower_bound, result->bound_source, result->keep_all_cost);
    if (graph->paging) {
      fmt::print(
          "paging over {} (latency {:g} s, {:g} J/byte), objective {}: lower bound {:.6g} {} "
          "({}); gaps are to it\n",
          FormatRate(graph->paging->bandwidth_bytes_per_s), graph->paging->latency_s,
          graph->paging->energy_per_byte_j, args.paging.objective, result->paging_lower_bound,
          *objective == remat::Objective::kEnergy ? "J" : "s", result->paging_bound_source);
    }
    // With paging, the time (overhead) includes the transfers; "paged" is their share.
    const std::string paging_header =
        graph->paging ? fmt::format(" {:>9} {:>11}", "paged", "energy") : "";
    fmt::print("  {:<18} {:>12} {:>9} {:>9}{} {:>9}  {}\n", "solver", "peak", "overhead", "gap",
               paging_header, "time", "status");
    for (int k = 0; k < static_cast<int>(result->entries.size()); ++k) {
      const auto& e = result->entries[k];
      const std::string mark = k == result->best ? "*" : " ";
      if (!e.plan.has_schedule) {
        std::string note = e.plan.status;
        if (e.plan.bound_complete && e.plan.lower_bound > 0) {
          note += fmt::format(" (bound {:.6g})", e.plan.lower_bound);
        }
        const std::string paging_cells =
            graph->paging ? fmt::format(" {:>9} {:>11}", "-", "-") : "";
        fmt::print("{} {:<18} {:>12} {:>9} {:>9}{} {:>8.2f}s  {}\n", mark, e.solver, "-", "-", "-",
                   paging_cells, e.solve_seconds, note);
        continue;
      }
      const std::string paging_cells =
          graph->paging
              ? fmt::format(" {:>9} {:>11}",
                            Percent(e.sim.paging_seconds / std::max(result->keep_all_cost, 1e-300)),
                            fmt::format("{:.4g} J", e.sim.energy))
              : "";
      fmt::print("{} {:<18} {:>12} {:>9} {:>9}{} {:>8.2f}s  {}{}\n", mark, e.solver,
                 remat::FormatBytes(e.sim.peak_bytes), Percent(e.overhead),
                 e.plan.feasible ? Percent(e.gap) : "-", paging_cells, e.solve_seconds,
                 e.plan.feasible ? "" : "over budget; ", e.plan.status);
    }
    if (result->best < 0) fmt::print("no solver found a plan within the budget\n");
  }
  if (!args.quiet) {
    fmt::print(stderr, "sysopt: done in {:.2f} s of the {:g} s limit\n", wall_seconds,
               args.time_limit);
  }
  return result->best >= 0 ? kExitOk : kExitFailure;
}

struct SweepArgs {
  std::string graph_path, solver = "auto", plot, fractions = "0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0";
  double time_limit = 20;
  uint64_t seed = 1;
  bool json = false, quiet = false;
  PagingArgs paging;
};

std::string SvgPlot(const std::string& title, const std::vector<double>& fractions,
                    const std::vector<std::string>& solvers,
                    const std::vector<std::vector<double>>& overhead) {
  constexpr int kW = 720, kH = 420, kL = 70, kR = 170, kT = 40, kB = 50;
  double ymax = 0.05;
  for (const auto& row : overhead) {
    for (double v : row) {
      if (std::isfinite(v)) ymax = std::max(ymax, v);
    }
  }
  ymax *= 1.1;
  const double xmin = fractions.front(), xmax = std::max(fractions.back(), xmin + 1e-9);
  auto X = [&](double f) { return kL + (f - xmin) / (xmax - xmin) * (kW - kL - kR); };
  auto Y = [&](double v) { return kH - kB - v / ymax * (kH - kT - kB); };
  static const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                  "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"{}\" y=\"20\" font-size=\"14\">{}</text>\n",
      kW, kH, kL, title);
  svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", kL,
                     kH - kB, kW - kR, kH - kB);
  svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", kL, kT,
                     kL, kH - kB);
  for (double f : fractions) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:.0f}%</text>\n", X(f),
                       kH - kB + 18, 100 * f);
  }
  for (int k = 0; k <= 4; ++k) {
    const double v = ymax * k / 4;
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.1f}%</text>\n", kL - 6,
                       Y(v) + 4, 100 * v);
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">budget (% of keep-everything "
      "peak)</text>\n",
      (kL + kW - kR) / 2, kH - 10);
  svg += fmt::format(
      "<text x=\"15\" y=\"{}\" transform=\"rotate(-90 15 {})\" "
      "text-anchor=\"middle\">compute overhead</text>\n",
      (kT + kH - kB) / 2, (kT + kH - kB) / 2);
  for (size_t s = 0; s < solvers.size(); ++s) {
    const char* color = kColors[s % 8];
    std::string points;
    for (size_t b = 0; b < fractions.size(); ++b) {
      if (!std::isfinite(overhead[s][b])) continue;
      points += fmt::format("{:.1f},{:.1f} ", X(fractions[b]), Y(overhead[s][b]));
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n",
                         X(fractions[b]), Y(overhead[s][b]), color);
    }
    svg += fmt::format(
        "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" "
        "points=\"{}\"/>\n",
        color, points);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n", kW - kR + 10,
                       kT + 16 * static_cast<int>(s), color, solvers[s]);
  }
  return svg + "</svg>\n";
}

int RunSweep(const SweepArgs& args) {
  if (auto ok = CheckTimeLimit(args.time_limit); !ok.ok()) return ReportError(ok.error());
  auto graph = remat::LoadGraph(args.graph_path);
  if (!graph.ok()) return ReportError(graph.error());
  auto objective = ApplyPaging(args.paging, *graph);
  if (!objective.ok()) return ReportError(objective.error());
  std::vector<double> fractions;
  for (const std::string& f : SplitList(args.fractions)) {
    try {
      size_t used = 0;
      fractions.push_back(std::stod(f, &used));
      if (used != f.size()) throw std::invalid_argument(f);
    } catch (const std::exception&) {
      return ReportError(InvalidInput("--fractions: '{}' is not a number", f));
    }
    if (!remat::FractionGivesBudget(fractions.back(), *graph)) {
      return ReportError(
          InvalidInput("--fractions: '{}' must be a positive number within range", f));
    }
  }
  if (fractions.empty()) return ReportError(InvalidInput("--fractions: empty list"));
  std::sort(fractions.begin(), fractions.end());
  const int64_t peak = remat::KeepEverythingPeak(*graph);
  std::vector<std::string> solvers;
  std::vector<std::vector<double>> overhead;
  json sweeps = json::array();
  std::vector<double> bounds;
  for (size_t b = 0; b < fractions.size(); ++b) {
    const double f = fractions[b];
    const int64_t budget = remat::BudgetAtFraction(*graph, f);
    auto result = remat::RunPlanner(
        *graph, {budget, SplitList(args.solver), args.time_limit, args.seed, {}, *objective},
        PlannerProgress(args.quiet,
                        fmt::format("budget {:.0f}% ({}/{}) ", 100 * f, b + 1, fractions.size())));
    if (!result.ok()) return ReportError(result.error());
    if (solvers.empty()) {
      for (const auto& e : result->entries) solvers.push_back(e.solver);
      overhead.assign(solvers.size(), {});
    }
    for (size_t s = 0; s < result->entries.size(); ++s) {
      const auto& e = result->entries[s];
      overhead[s].push_back(e.plan.feasible ? e.overhead : NAN);
    }
    bounds.push_back(result->lower_bound / result->keep_all_cost - 1.0);
    json j = remat::PlannerResultJson(*result, budget);
    j["fraction"] = f;
    sweeps.push_back(j);
  }
  if (!args.plot.empty()) {
    std::ofstream out(args.plot);
    out << SvgPlot(fmt::format("{}: overhead against budget", graph->name), fractions, solvers,
                   overhead);
    if (!out) return ReportError(IoError("{}: cannot write plot", args.plot));
  }
  if (args.json) {
    fmt::print("{}\n", json{{"graph", graph->name}, {"sweep", sweeps}}.dump(2));
    return kExitOk;
  }
  fmt::print(
      "graph {} ({} nodes), keep-everything peak {}; compute overhead per budget "
      "('-': over budget)\n",
      graph->name, graph->size(), remat::FormatBytes(peak));
  fmt::print("{:<18}", "budget");
  for (double f : fractions) fmt::print(" {:>9}", fmt::format("{:.0f}%", 100 * f));
  fmt::print("\n");
  for (size_t s = 0; s < solvers.size(); ++s) {
    fmt::print("{:<18}", solvers[s]);
    for (double v : overhead[s]) fmt::print(" {:>9}", std::isfinite(v) ? Percent(v) : "-");
    fmt::print("\n");
  }
  fmt::print("{:<18}", "lower bound");
  for (double v : bounds) fmt::print(" {:>9}", Percent(v));
  fmt::print("\n");
  if (!args.plot.empty()) fmt::print("plot written to {}\n", args.plot);
  return kExitOk;
}

struct MaxBatchArgs {
  std::string graph_path, budget, max_overhead = "forward", solver = "auto";
  double time_limit = 10;
  int64_t batch_limit = 4096;
  uint64_t seed = 1;
  bool json = false;
};

int RunMaxBatch(const MaxBatchArgs& args) {
  if (auto ok = CheckTimeLimit(args.time_limit); !ok.ok()) return ReportError(ok.error());
  auto graph = remat::LoadGraph(args.graph_path);
  if (!graph.ok()) return ReportError(graph.error());
  auto budget = remat::ParseSize(args.budget);
  if (!budget.ok()) return ReportError(budget.error().WithContext("--budget"));
  double cap = 0;
  if (args.max_overhead == "forward") {
    cap = graph->ForwardCost() / std::max(graph->TotalCost(), 1e-300);
  } else {
    try {
      size_t used = 0;
      cap = std::stod(args.max_overhead, &used);
      if (used != args.max_overhead.size() || !(cap >= 0)) throw std::invalid_argument("");
    } catch (const std::exception&) {
      return ReportError(InvalidInput(
          "--max-overhead '{}': expected a fraction such as 0.33 or 'forward'", args.max_overhead));
    }
  }
  std::vector<std::string> solvers = SplitList(args.solver);
  if (solvers.empty() || solvers == std::vector<std::string>{"auto"}) {
    solvers = remat::AutoSolvers(*graph);
  }
  if (solvers == std::vector<std::string>{"all"}) solvers = remat::AllSolvers(*graph);
  auto entries =
      remat::MaxBatch(*graph, *budget, cap, solvers, args.time_limit, args.batch_limit, args.seed);
  if (!entries.ok()) return ReportError(entries.error());
  if (args.json) {
    json j = json::array();
    for (const auto& e : *entries) {
      j.push_back({{"solver", e.solver}, {"max_batch", e.max_batch}, {"overhead", e.overhead}});
    }
    fmt::print("{}\n", json{{"graph", graph->name},
                            {"budget_bytes", *budget},
                            {"max_overhead", cap},
                            {"results", j}}
                           .dump(2));
    return kExitOk;
  }
  fmt::print("graph {} (extracted at batch {}), budget {}, overhead cap {}\n", graph->name,
             graph->batch_size, remat::FormatBytes(*budget), Percent(cap));
  fmt::print("  {:<18} {:>10} {:>10}\n", "solver", "max batch", "overhead");
  for (const auto& e : *entries) {
    fmt::print("  {:<18} {:>10} {:>10}\n", e.solver, e.max_batch, Percent(e.overhead));
  }
  return kExitOk;
}

struct SimulateArgs {
  std::string graph_path, schedule_path;
  bool json = false;
  PagingArgs paging;
};

int RunSimulate(const SimulateArgs& args) {
  auto graph = remat::LoadGraph(args.graph_path);
  if (!graph.ok()) return ReportError(graph.error());
  if (auto objective = ApplyPaging(args.paging, *graph); !objective.ok()) {
    return ReportError(objective.error());
  }
  auto schedule = remat::LoadSchedule(*graph, args.schedule_path);
  if (!schedule.ok()) return ReportError(schedule.error());
  auto sim = remat::Simulate(*graph, *schedule);
  if (!sim.ok()) return ReportError(sim.error().WithContext(args.schedule_path));
  const double overhead = sim->cost / std::max(graph->TotalCost(), 1e-300) - 1.0;
  if (args.json) {
    json j = {{"peak_bytes", sim->peak_bytes},
              {"cost", sim->cost},
              {"overhead", overhead},
              {"computes", sim->computes},
              {"recomputes", sim->recomputes}};
    if (graph->paging) {
      j["compute_cost"] = sim->compute_cost;
      j["paging_seconds"] = sim->paging_seconds;
      j["energy"] = sim->energy;
      j["page_outs"] = sim->page_outs;
      j["page_ins"] = sim->page_ins;
      j["paged_bytes"] = sim->paged_bytes;
    }
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print(
        "valid schedule: peak {} ({} bytes), cost {:.6g} (overhead {}), {} computes, {} "
        "recomputations\n",
        remat::FormatBytes(sim->peak_bytes), sim->peak_bytes, sim->cost, Percent(overhead),
        sim->computes, sim->recomputes);
    if (graph->paging) {
      fmt::print(
          "paging: {} page-outs and {} page-ins moving {} ({:.6g} s of the cost, over {}); "
          "energy {:.6g} J\n",
          sim->page_outs, sim->page_ins, remat::FormatBytes(sim->paged_bytes), sim->paging_seconds,
          FormatRate(graph->paging->bandwidth_bytes_per_s), sim->energy);
    }
  }
  return kExitOk;
}

std::string SolverHelp() {
  std::string names;
  for (const auto& n : remat::SolverNames()) names += (names.empty() ? "" : ", ") + n;
  return "Solvers, comma-separated: " + names +
         "; 'auto' (baselines, lagrangian-bound, stage-search, and milp, lp-rounding or "
         "lp-bound by graph size; "
         "with paging also paging, and milp-paging up to " +
         std::to_string(remat::kPagingMilpNodes) +
         " nodes) or 'all'. greedy-recompute keeps the forward tensors with the most "
         "recomputation per byte and recomputes the rest on demand; stage-search starts from "
         "the better of it and Chen's baselines; paging replaces the best plan's "
         "recomputations by page-ins where the transfers cost less; milp-paging is Checkmate's "
         "program with POET's page-in and page-out variables; lp-bound and lagrangian-bound give "
         "lower bounds only (the stage-boundary LP, and a Lagrangian bound that scales to any "
         "size)";
}

}  // namespace

void RegisterRemat(CLI::App& app, Action* action) {
  CLI::App* remat = app.add_subcommand(
      "remat", "Plan training memory by rematerialisation: free activations and recompute them.");
  remat->require_subcommand(1);

  auto plan_args = std::make_shared<PlanArgs>();
  CLI::App* plan = remat->add_subcommand(
      "plan",
      "Plan one graph under a memory budget with several solvers; print peak, overhead, "
      "gap to the lower bound and solve time for each, and save the best schedule.");
  plan->add_option("graph", plan_args->graph_path, "Training graph JSON")->required();
  plan->add_option("--budget", plan_args->budget,
                   "Peak memory allowed, fixed bytes included: a size (6GiB, 512MB, bytes) or a "
                   "percentage (50%) of the keep-everything activation peak (fixed bytes are "
                   "then added)")
      ->required();
  plan->add_option("--solver", plan_args->solver, SolverHelp())->capture_default_str();
  plan->add_option("--time-limit", plan_args->time_limit,
                   "Seconds for the whole command: the solvers share one clock (a baseline "
                   "takes little, the search about half of what is left, a bound the rest); a "
                   "bound that does not finish in its share is reported as not computed")
      ->capture_default_str();
  plan->add_option("--seed", plan_args->seed, "Seed for randomized solvers")->capture_default_str();
  plan->add_option("--out", plan_args->out, "Write the best schedule (JSON) here");
  plan->add_flag("--json", plan_args->json, "Print the results as JSON");
  plan->add_flag("--quiet,-q", plan_args->quiet, "No progress lines on stderr");
  AddPagingOptions(plan, plan_args->paging, /*with_objective=*/true);
  plan->callback([plan_args, action] { *action = [plan_args] { return RunPlan(*plan_args); }; });

  auto sweep_args = std::make_shared<SweepArgs>();
  CLI::App* sweep = remat->add_subcommand(
      "sweep", "Compute overhead against budget for every solver, as a table and an SVG plot.");
  sweep->add_option("graph", sweep_args->graph_path, "Training graph JSON")->required();
  sweep
      ->add_option("--fractions", sweep_args->fractions,
                   "Budgets as fractions of the keep-everything activation peak (fixed bytes "
                   "added), comma-separated")
      ->capture_default_str();
  sweep->add_option("--solver", sweep_args->solver, SolverHelp())->capture_default_str();
  sweep->add_option("--time-limit", sweep_args->time_limit,
                    "Seconds per budget point, all solvers together (as for `plan`)")
      ->capture_default_str();
  sweep->add_option("--seed", sweep_args->seed, "Seed for randomized solvers")
      ->capture_default_str();
  sweep->add_option("--plot", sweep_args->plot, "Write an SVG plot of overhead against budget");
  sweep->add_flag("--json", sweep_args->json, "Print the results as JSON");
  sweep->add_flag("--quiet,-q", sweep_args->quiet, "No progress lines on stderr");
  AddPagingOptions(sweep, sweep_args->paging, /*with_objective=*/true);
  sweep->callback(
      [sweep_args, action] { *action = [sweep_args] { return RunSweep(*sweep_args); }; });

  auto batch_args = std::make_shared<MaxBatchArgs>();
  CLI::App* batch = remat->add_subcommand(
      "max-batch",
      "Largest batch size (sizes and costs scaled with the batch) that each solver fits in the "
      "budget at no more than the given extra compute.");
  batch->add_option("graph", batch_args->graph_path, "Training graph JSON with 'batch_size'")
      ->required();
  batch->add_option("--budget", batch_args->budget, "Memory budget (6GiB, 512MB, bytes)")
      ->required();
  batch
      ->add_option("--max-overhead", batch_args->max_overhead,
                   "Allowed extra compute as a fraction of the keep-everything cost, or "
                   "'forward' for one extra forward pass")
      ->capture_default_str();
  batch->add_option("--solver", batch_args->solver, SolverHelp())->capture_default_str();
  batch->add_option("--time-limit", batch_args->time_limit,
                    "Seconds per probe (one solver at one batch size)")
      ->capture_default_str();
  batch->add_option("--batch-limit", batch_args->batch_limit, "Largest batch size tried")
      ->capture_default_str();
  batch->add_option("--seed", batch_args->seed, "Seed for randomized solvers")
      ->capture_default_str();
  batch->add_flag("--json", batch_args->json, "Print the results as JSON");
  batch->callback(
      [batch_args, action] { *action = [batch_args] { return RunMaxBatch(*batch_args); }; });

  auto sim_args = std::make_shared<SimulateArgs>();
  CLI::App* simulate = remat->add_subcommand(
      "simulate", "Check a schedule against a graph and print its exact peak memory and cost.");
  simulate->add_option("graph", sim_args->graph_path, "Training graph JSON")->required();
  simulate->add_option("schedule", sim_args->schedule_path, "Schedule JSON")->required();
  simulate->add_flag("--json", sim_args->json, "Print the results as JSON");
  AddPagingOptions(simulate, sim_args->paging, /*with_objective=*/false);
  simulate->callback(
      [sim_args, action] { *action = [sim_args] { return RunSimulate(*sim_args); }; });
}

}  // namespace sysopt::cli
