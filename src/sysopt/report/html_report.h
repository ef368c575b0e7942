#pragma once
/// \file
/// \brief The HTML report: one self-contained page (inline SVG and CSS, a few lines of inline
/// script to sort tables, nothing fetched) that shows studies and memory plans as plots.
///
/// For each study: best value against trial number with every trial as a point (failures
/// marked), parameter importance (fANOVA over a random forest fitted to the trials), a
/// parallel-coordinates view of the best configurations, the Pareto front of the first two
/// objectives, the top configurations and the failures. Several studies are also overlaid on one
/// plot of best value against trial number, to compare samplers. For a memory plan: overhead
/// against budget for every solver with the lower bound (from `sysopt remat sweep --json`), and
/// the memory held at each step of a chosen schedule against keeping everything.
///
/// Elements carry classes that tests (and users' scripts) can count: circle.trial (one per
/// finished trial; .complete or .failed), polyline.best-so-far, rect.importance-bar,
/// polyline.pc-line (.top for the best), circle.pareto-point (.front), table.top-configs,
/// polyline.solver-line, polyline.bound-line, polyline.profile-line.
///
/// Thread safety: reads the studies only through their const, thread-safe methods.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/study/study.h"

namespace sysopt {

/// \brief A budget sweep as `sysopt remat sweep --json` writes it.
struct SweepData {
  std::string graph;
  std::vector<double> fractions;        ///< Budget as a fraction of the keep-everything peak.
  std::vector<int64_t> budgets;         ///< Bytes, fixed bytes included.
  std::vector<double> bound_overhead;   ///< Lower bound on cost / keep-everything cost - 1.
  std::vector<std::string> solvers;     ///< In the order of the first budget's plans.
  std::vector<std::vector<double>> overhead;  ///< [solver][budget]; NaN: no plan within budget.
  std::vector<std::string> best;        ///< Per budget, the solver of the cheapest plan ("" none).
};

/// \brief Reads the sweep JSON; errors name `source`, the field and the value.
Expected<SweepData> SweepFromJson(const nlohmann::json& json, std::string_view source);

/// \brief The memory held after each step of a schedule (what remat::Simulate counts).
struct MemoryProfile {
  std::string graph;
  std::string label;                ///< What the plan is, e.g. "plan.json (3 recomputations)".
  std::vector<int64_t> plan;        ///< Bytes after each step of the chosen schedule.
  std::vector<int64_t> keep_all;    ///< Bytes after each step of the keep-everything schedule.
  int64_t budget_bytes = 0;         ///< 0: not known.
  int64_t fixed_bytes = 0;
  double overhead = 0;              ///< Extra compute of the plan over computing everything once.
  int recomputes = 0;
};

/// \brief What a report shows; any part may be absent, but not all.
struct ReportInputs {
  std::string title = "sysopt report";
  std::vector<const Study*> studies;  ///< Borrowed; the first is shown first.
  std::optional<SweepData> sweep;
  std::optional<MemoryProfile> profile;
};

/// \brief The importance of each parameter of a study for its first objective, by fANOVA over
/// a random forest fitted to its complete trials (in log scale when every value is positive
/// and they span more than two orders of magnitude). Fails with a reason when there are fewer
/// than 8 complete trials or their values are all equal.
struct ParameterImportance {
  std::vector<std::string> names;
  std::vector<double> importance;  ///< Fraction of the variance each parameter explains alone.
  std::vector<double> spread;      ///< Its standard deviation over the forest's trees.
  bool log_scale = false;
  int trials = 0;
};
Expected<ParameterImportance> ComputeImportance(const Study& study);

/// \brief The whole page.
std::string RenderReport(const ReportInputs& inputs);

}  // namespace sysopt
