#pragma once
/// \brief Study results in standard formats: CSV (one row per trial), JSON (the study with every
/// trial), and T4, the Autotuning Association's results format.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "sysopt/core/expected.h"
#include "sysopt/study/study.h"

namespace sysopt {

/// \brief The export formats by name: "csv", "json", "t4".
enum class ExportFormat { kCsv, kJson, kT4 };

/// \brief Parses a format name; the error lists the known ones.
Expected<ExportFormat> ParseExportFormat(std::string_view name);

/// \brief CSV with a header: number, state, each parameter, each objective, failure_reason,
/// start_time, end_time, duration_s, worker. Fields are quoted per RFC 4180 where needed; an
/// inactive parameter's field is empty.
std::string ExportCsv(const Study& study);

/// rief {"study", "spec", "counts", "trials": [{number, state, config, values, samples,
/// failure_reason (whole), attrs, ...}], and as `sysopt best --json` gives it: "best" (one
/// objective) or "pareto_front" (several)}; an inactive parameter is null in a config.
nlohmann::json ExportJson(const Study& study);

/// \brief {"schema_version": "1.0.0", "results": [...]} with one result per finished trial:
/// configuration, objectives (names), times.runtimes (the repeat samples of the first
/// objective), invalidity ("correct" for a completed trial; "timeout", "runtime" otherwise),
/// correctness (1 or 0) and measurements (one per objective).
nlohmann::json ExportT4(const Study& study);

/// \brief The study as `sysopt export` writes it in `format`: the CSV, or the JSON documents
/// indented by 2 with a final newline.
std::string ExportText(const Study& study, ExportFormat format);

/// \brief How a study's trials divide: what `tune` and `best` both report.
struct TrialCounts {
  int total = 0;  ///< Finished trials (COMPLETE and FAILED).
  int complete = 0;
  int failed = 0;       ///< FAILED for a reason of their own.
  int interrupted = 0;  ///< FAILED "interrupted": stopped, run again on resume.
  int counted = 0;      ///< Towards the budget: complete + failed.
};

/// \brief The counts of the study's finished trials.
TrialCounts CountTrials(const Study& study);

/// \brief "12 trials: 10 complete, 1 failed, 1 interrupted" (zero parts left out).
std::string DescribeCounts(const TrialCounts& counts);

/// \brief {"total", "complete", "failed", "interrupted", "counted"}.
nlohmann::json CountsJson(const TrialCounts& counts);

/// \brief An objective vector for people: "time=0.0123" or "time=0.0123 energy=4.5".
std::string FormatValues(const Study& study, const std::vector<double>& values);

/// \brief A configuration for people: "tile=32 unroll=4 order=2,0,1" (inactive parameters left
/// out).
std::string FormatConfig(const Study& study, const Config& config);

}  // namespace sysopt
