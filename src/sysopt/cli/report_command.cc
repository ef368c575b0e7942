// `sysopt report`: one self-contained HTML page of plots for studies and memory plans.
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/cli/command.h"
#include "sysopt/cli/study_access.h"
#include "sysopt/core/json.h"
#include "sysopt/remat/graph.h"
#include "sysopt/remat/planner.h"
#include "sysopt/remat/schedule.h"
#include "sysopt/remat/size.h"
#include "sysopt/report/html_report.h"

namespace sysopt::cli {
namespace {

struct ReportArgs {
  std::string storage = kDefaultStorage;
  bool storage_given = false;
  std::vector<std::string> studies;
  std::string sweep, graph, schedule, budget, title = "sysopt report", out;
};

Expected<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) return NotFound("{}: cannot open the {} file", path, what);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Expected<MemoryProfile> LoadProfile(const ReportArgs& args) {
  auto graph = remat::LoadGraph(args.graph);
  if (!graph.ok()) return graph.error();
  auto schedule = remat::LoadSchedule(*graph, args.schedule);
  if (!schedule.ok()) return schedule.error();
  MemoryProfile p;
  p.graph = graph->name;
  auto sim = remat::Simulate(*graph, *schedule, &p.plan);
  if (!sim.ok()) return sim.error().WithContext(args.schedule);
  auto keep = remat::Simulate(*graph, remat::KeepEverythingSchedule(*graph), &p.keep_all);
  if (!keep.ok()) return keep.error().WithContext(args.graph);
  p.fixed_bytes = graph->fixed_bytes;
  p.overhead = sim->cost / std::max(graph->TotalCost(), 1e-300) - 1.0;
  p.recomputes = sim->recomputes;
  p.label = std::filesystem::path(args.schedule).filename().string();
  if (!args.budget.empty()) {
    auto budget = remat::ParseBudget(args.budget, *graph);
    if (!budget.ok()) return budget.error().WithContext("--budget");
    p.budget_bytes = *budget;
  }
  return p;
}

int RunReport(const ReportArgs& args) {
  if (args.graph.empty() != args.schedule.empty()) {
    return ReportError(InvalidInput(
        "the memory profile needs both --graph and --schedule (got only {})",
        args.graph.empty() ? "--schedule" : "--graph"));
  }
  if (!args.budget.empty() && args.graph.empty()) {
    return ReportError(InvalidInput("--budget draws the budget on the memory profile: it needs "
                                    "--graph and --schedule"));
  }
  ReportInputs inputs;
  inputs.title = args.title;
  // Studies are shown when named, when --storage is given, or when nothing else is asked for.
  std::vector<OpenedStudy> opened;
  const bool memory = !args.sweep.empty() || !args.graph.empty();
  if (!args.studies.empty() || args.storage_given || !memory) {
    const std::vector<std::string> names =
        args.studies.empty() ? std::vector<std::string>{""} : args.studies;
    for (const std::string& name : names) {
      auto study = OpenExistingStudy(args.storage, name);
      if (!study.ok()) return ReportError(study.error());
      opened.push_back(std::move(*study));
      inputs.studies.push_back(opened.back().study.get());
    }
  }
  if (!args.sweep.empty()) {
    auto text = ReadFile(args.sweep, "sweep");
    if (!text.ok()) return ReportError(text.error());
    auto json = ParseJson(*text);
    if (!json.ok()) return ReportError(json.error().WithContext(args.sweep));
    auto sweep = SweepFromJson(*json, args.sweep);
    if (!sweep.ok()) return ReportError(sweep.error());
    inputs.sweep = std::move(*sweep);
  }
  if (!args.graph.empty()) {
    auto profile = LoadProfile(args);
    if (!profile.ok()) return ReportError(profile.error());
    inputs.profile = std::move(*profile);
  }
  const std::string page = RenderReport(inputs);
  // Written beside the target and renamed, so that a failed write leaves no half page behind.
  const std::string partial = args.out + ".partial";
  {
    std::ofstream out(partial, std::ios::binary);
    out << page;
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
      return ReportError(IoError("{}: cannot write the report", args.out));
    }
  }
  std::error_code error;
  std::filesystem::rename(partial, args.out, error);
  if (error) {
    std::filesystem::remove(partial, error);
    return ReportError(IoError("{}: cannot write the report", args.out));
  }
  std::string what;
  for (const Study* s : inputs.studies) {
    what += (what.empty() ? "" : ", ") +
            fmt::format("study '{}' ({} trials)", s->name(), s->Finished().size());
  }
  if (memory) what += (what.empty() ? "" : ", ") + std::string("a memory plan");
  fmt::print(stderr, "sysopt: wrote the report of {} to {} ({} KiB)\n", what, args.out,
             (page.size() + 1023) / 1024);
  return kExitOk;
}

// Single quotes around anything a shell would read differently.
std::string ShellQuote(const std::string& text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_./:=@%+-,").find(c) !=
                                                              std::string_view::npos;
  });
  if (plain) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string ReportHint(const std::string& storage, const std::string& study) {
  if (StorageFilePath(storage).empty()) return "";  // A memory storage keeps nothing to show.
  return fmt::format("Report: sysopt report --storage {} --study {} --out report.html",
                     ShellQuote(storage), ShellQuote(study));
}

void RegisterReport(CLI::App& app, Action* action) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML page of plots (no network or server needed to view it): "
      "for each study, every trial and the best value so far, parameter importance (fANOVA), the "
      "best configurations across the parameters, the Pareto front and the top configurations; "
      "several --study are also overlaid to compare samplers. For a memory plan: overhead "
      "against budget for every solver (--sweep) and the memory held at each step of a schedule "
      "(--graph with --schedule).");
  cmd->add_option("--storage", args->storage, "SQLite file holding the studies")
      ->capture_default_str()
      ->each([args](const std::string&) { args->storage_given = true; });
  cmd->add_option("--study", args->studies,
                  "Study to show; repeat to compare several (default: the only study in the "
                  "storage)");
  cmd->add_option("--sweep", args->sweep, "Output of 'sysopt remat sweep --json'");
  cmd->add_option("--graph", args->graph, "Training graph JSON of the memory profile");
  cmd->add_option("--schedule", args->schedule,
                  "Schedule to profile (the output of 'sysopt remat plan --out')");
  cmd->add_option("--budget", args->budget,
                  "Budget drawn on the memory profile: a size (6GiB) or a percentage (50%) of "
                  "the keep-everything activation peak, as 'remat plan --budget'");
  cmd->add_option("--title", args->title, "Page title")->capture_default_str();
  cmd->add_option("--out,-o", args->out, "HTML file to write")->required();
  cmd->callback([args, action] { *action = [args] { return RunReport(*args); }; });
}

}  // namespace sysopt::cli
