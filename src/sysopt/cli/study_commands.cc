// `sysopt best` and `sysopt export`: read a recorded study.
#include <fmt/core.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sysopt/cli/command.h"
#include "sysopt/cli/study_access.h"
#include "sysopt/report/export.h"

namespace sysopt::cli {

namespace {

struct ReadArgs {
  std::string storage = kDefaultStorage;
  std::string study;
  bool json = false;
  std::string format = "csv";
  std::string output;
};

void AddStudyOptions(CLI::App* cmd, ReadArgs* args) {
  cmd->add_option("--storage", args->storage, "SQLite file holding the study")
      ->capture_default_str();
  cmd->add_option("--study", args->study, "Study name (default: the only study in the storage)");
}

int RunBest(const ReadArgs& args) {
  auto opened = OpenExistingStudy(args.storage, args.study);
  if (!opened.ok()) return ReportError(opened.error());
  const Study& s = *opened->study;
  const bool multi = s.spec().objectives.size() > 1;
  const auto chosen = multi ? s.ParetoFront() : std::vector<TrialRecord>{};
  const auto best = s.Best();
  if (!best) {
    if (args.json) {
      fmt::print("{}\n",
                 nlohmann::json{
                     {"study", s.name()}, {"best", nullptr}, {"counts", CountsJson(CountTrials(s))}}
                     .dump(2));
    } else {
      fmt::print("Study '{}' has no completed trial yet ({}).\n", s.name(),
                 DescribeCounts(CountTrials(s)));
    }
    return kExitFailure;
  }
  auto trial_json = [&](const TrialRecord& t) {
    nlohmann::json values = nlohmann::json::object();
    for (size_t i = 0; i < t.values.size(); ++i) values[s.spec().objectives[i].name] = t.values[i];
    return nlohmann::json{
        {"number", t.number}, {"config", s.space().ConfigToJson(t.config)}, {"values", values}};
  };
  std::vector<double> reference;
  const double hypervolume = multi ? s.FrontHypervolume(&reference) : 0.0;
  if (args.json) {
    const TrialCounts counts = CountTrials(s);
    nlohmann::json j = {
        {"study", s.name()}, {"finished", counts.counted}, {"counts", CountsJson(counts)}};
    if (multi) {
      j["pareto_front"] = nlohmann::json::array();
      for (const auto& t : chosen) j["pareto_front"].push_back(trial_json(t));
      j["hypervolume"] = hypervolume;
      j["reference_point"] = reference;
    } else {
      j["best"] = trial_json(*best);
    }
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  if (multi) {
    fmt::print(
        "Study '{}': Pareto front of {} trial{} ({}), hypervolume {:.6g} "
        "(reference point {})\n",
        s.name(), chosen.size(), chosen.size() == 1 ? "" : "s", DescribeCounts(CountTrials(s)),
        hypervolume, FormatValues(s, reference));
    for (const auto& t : chosen) {
      fmt::print("  #{:<4} {}  {}\n", t.number, FormatValues(s, t.values),
                 FormatConfig(s, t.config));
    }
  } else {
    const int measurements = best->attrs.value("measurements", 1);
    fmt::print("Study '{}' ({}): best is #{}  {}{}\n  {}\n", s.name(),
               DescribeCounts(CountTrials(s)), best->number, FormatValues(s, best->values),
               measurements > 1 ? fmt::format(" (mean of {} trials)", measurements) : "",
               FormatConfig(s, best->config));
  }
  return kExitOk;
}

int RunExport(const ReadArgs& args) {
  auto format = ParseExportFormat(args.format);
  if (!format.ok()) return ReportError(format.error());
  auto opened = OpenExistingStudy(args.storage, args.study);
  if (!opened.ok()) return ReportError(opened.error());
  const Study& s = *opened->study;
  const std::string text = ExportText(s, *format);
  if (args.output.empty() || args.output == "-") {
    fmt::print("{}", text);
    return kExitOk;
  }
  std::ofstream out(args.output);
  out << text;
  if (!out) return ReportError(IoError("cannot write '{}'", args.output));
  fmt::print(stderr, "sysopt: wrote {} trials of study '{}' to {}\n", s.Finished().size(), s.name(),
             args.output);
  return kExitOk;
}

}  // namespace

void RegisterBest(CLI::App& app, Action* action) {
  auto args = std::make_shared<ReadArgs>();
  auto* cmd = app.add_subcommand(
      "best", "Print the best configuration of a study (the Pareto front for several objectives)");
  AddStudyOptions(cmd, args.get());
  cmd->add_flag("--json", args->json, "Print JSON for scripts");
  cmd->callback([args, action] { *action = [args] { return RunBest(*args); }; });
}

void RegisterExport(CLI::App& app, Action* action) {
  auto args = std::make_shared<ReadArgs>();
  auto* cmd = app.add_subcommand(
      "export", "Write every finished trial of a study as CSV, JSON or T4 (Autotuning results)");
  AddStudyOptions(cmd, args.get());
  cmd->add_option("--format,-f", args->format, "csv, json or t4")->capture_default_str();
  cmd->add_option("--output,-o", args->output, "File to write (default: stdout)");
  cmd->callback([args, action] { *action = [args] { return RunExport(*args); }; });
}

}  // namespace sysopt::cli
