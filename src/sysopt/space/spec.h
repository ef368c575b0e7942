#pragma once
/// \brief Tuning specs: the project's JSON spec format and the Autotuning Association's T1 format
/// (whose space is read; its run command then comes from the command line).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/space/space.h"

namespace sysopt {

/// \brief One objective the command reports.
struct Objective {
  std::string name;
  bool minimize = true;
};

/// \brief How to run a configuration (the spec's "run" section).
struct RunSpec {
  std::vector<std::string> command;  ///< argv template with {name} placeholders
  /// Per run, in seconds. Absent: a default derived from the runs measured so far; 0: no limit.
  std::optional<double> timeout_s;
  int repeat = 1;
  std::string aggregate = "median";  ///< median | mean | min
  std::string working_dir;           ///< relative paths are relative to the spec's folder
  /// "output" (the program prints its objectives) or "wall-time" (sysopt times the program).
  std::string objective = "output";
  int warmup = 0;                  ///< untimed runs before the measured repeats
  std::vector<std::string> check;  ///< argv template run after the repeats; must exit 0
};

/// \brief A parsed spec.
struct Spec {
  std::string name;
  Space space;
  std::vector<Objective> objectives;
  std::optional<RunSpec> run;
  std::optional<int> budget;  ///< A T1 "Budget" (ConfigurationCount), if given.
  std::optional<double> time_limit_s;  ///< A T1 "Budget" of type TuningDuration (seconds).
  bool from_t1 = false;

  /// \brief The spec in the project's own format (what a study stores): name, parameters,
  /// constraints, objectives, run.
  nlohmann::json ToJson() const;
};

/// \brief Parses a spec or T1 document. A T1 document's run settings (repeats, time limit) come
/// from KernelSpecification.BenchmarkConfig ({"Iterations", "Timeout", "Aggregate",
/// "WarmupIterations"}); its `run` then has no command. `source` (usually the file name) prefixes
/// every error, which names the field and the value.
Expected<Spec> ParseSpec(const nlohmann::json& json, const std::string& source);

/// \brief Reads and parses a spec file. Commands run in the spec file's folder unless
/// run.working_dir says otherwise (a relative working_dir is taken from the spec's folder).
Expected<Spec> LoadSpec(const std::string& path);

}  // namespace sysopt
