#include "sysopt/report/html_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "sysopt/model/fanova.h"
#include "sysopt/model/random_forest.h"
#include "sysopt/report/export.h"
#include "sysopt/report/html.h"
#include "sysopt/report/noise.h"

namespace sysopt {

namespace {

using html::Escape;
using html::FormatNumber;
using nlohmann::json;

constexpr const char* kFailedColor = "#d62728";
constexpr int kTopRows = 10;

// ---------------------------------------------------------------------------------------------
// Small helpers.

std::string Percent(double fraction) { return FormatNumber(100 * fraction) + "%"; }
std::string PercentTick(double v) { return FormatNumber(v) + "%"; }

// Values that span more than two orders of magnitude, all positive, read better on a log axis.
bool WantsLog(const std::vector<double>& values) {
  if (values.empty()) return false;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return *lo > 0 && *hi / *lo > 100;
}

std::string ObjectiveLabel(const Objective& o) {
  return fmt::format("{} ({} is better)", o.name, o.minimize ? "lower" : "higher");
}

// A value of a configuration as text for a table cell or a tooltip.
std::string ValueText(const Parameter& p, const Value& v) {
  if (IsInactive(v)) return "inactive";
  if (p.kind == ParamKind::kSequence) {
    std::string out;
    for (const auto& name : p.SequenceNames(v)) out += (out.empty() ? "" : " ") + name;
    return out.empty() ? "(empty)" : out;
  }
  if (std::holds_alternative<double>(v)) return FormatNumber(std::get<double>(v));
  return ValueToString(v);
}

std::string SamplerName(const Study& s) {
  const json& sampler = s.record().sampler;
  if (sampler.is_object() && sampler.contains("name") && sampler["name"].is_string()) {
    return sampler["name"].get<std::string>();
  }
  return "unknown sampler";
}

std::vector<TrialRecord> Complete(const std::vector<TrialRecord>& trials) {
  std::vector<TrialRecord> out;
  for (const auto& t : trials) {
    if (t.state == TrialState::kComplete && !t.values.empty()) out.push_back(t);
  }
  return out;
}

// Running best of the first objective: one (trial number, best) point per complete trial that
// improved it, drawn as steps.
std::vector<std::pair<double, double>> BestSoFar(const std::vector<TrialRecord>& trials,
                                                 bool minimize, double last_number) {
  std::vector<std::pair<double, double>> steps;
  bool have = false;
  double best = 0;
  for (const auto& t : trials) {
    if (t.state != TrialState::kComplete || t.values.empty()) continue;
    const double v = t.values[0];
    if (have && !(minimize ? v < best : v > best)) continue;
    if (have) steps.push_back({static_cast<double>(t.number), best});
    best = v;
    have = true;
    steps.push_back({static_cast<double>(t.number), best});
  }
  if (have) steps.push_back({last_number, best});
  return steps;
}

// ---------------------------------------------------------------------------------------------
// Study plots.

std::string HistoryPlot(const Study& s) {
  const auto trials = s.Finished();
  const auto complete = Complete(trials);
  const Objective& objective = s.spec().objectives.front();
  std::vector<double> values;
  for (const auto& t : complete) values.push_back(t.values[0]);
  const bool log = WantsLog(values);
  html::Plot plot({.width = 900,
                   .height = 380,
                   .title = fmt::format("Every trial and the best {} so far", objective.name),
                   .x_label = "trial number",
                   .y_label = ObjectiveLabel(objective) + (log ? ", log scale" : ""),
                   .y_log = log,
                   .css_class = "plot history",
                   .right_margin = 190});
  const double last = trials.empty() ? 1.0 : static_cast<double>(trials.back().number);
  const auto [xlo, xhi] = html::PaddedRange(0, std::max(last, 1.0), false, 0.02);
  plot.SetX(xlo, xhi);
  double lo = 0, hi = 1;
  if (!values.empty()) {
    lo = *std::min_element(values.begin(), values.end());
    hi = *std::max_element(values.begin(), values.end());
  }
  const auto [ylo, yhi] = html::PaddedRange(lo, hi, log, 0.08);
  plot.SetY(ylo, yhi);
  plot.Frame();
  // Failed trials have no value: they sit on the edge of the worse side, as open red circles.
  const double failed_y = objective.minimize ? yhi : ylo;
  int failed = 0;
  for (const auto& t : trials) {
    if (t.state == TrialState::kComplete && !t.values.empty()) {
      plot.Circle(static_cast<double>(t.number), t.values[0], 3.5,
                  fmt::format("class=\"trial complete\" fill=\"{}\" fill-opacity=\"0.75\"",
                              html::Color(0)),
                  fmt::format("#{}: {}\n{}", t.number, FormatValues(s, t.values),
                              FormatConfig(s, t.config)));
    } else {
      ++failed;
      plot.Circle(static_cast<double>(t.number), failed_y, 4,
                  fmt::format("class=\"trial failed\" fill=\"white\" stroke=\"{}\" "
                              "stroke-width=\"2\"",
                              kFailedColor),
                  fmt::format("#{} failed: {}\n{}", t.number, t.failure_reason,
                              FormatConfig(s, t.config)));
    }
  }
  plot.Polyline(BestSoFar(trials, objective.minimize, last),
                fmt::format("class=\"best-so-far\" stroke=\"{}\" stroke-width=\"2\"",
                            html::Color(1)));
  std::vector<html::LegendEntry> legend = {
      {html::Color(0), fmt::format("complete trial ({})", complete.size())},
      {html::Color(1), "best so far", true}};
  if (failed > 0) legend.push_back({kFailedColor, fmt::format("failed trial ({})", failed)});
  plot.Legend(legend);
  return plot.Finish();
}

std::string ComparisonPlot(const std::vector<const Study*>& studies) {
  const Objective& objective = studies.front()->spec().objectives.front();
  std::vector<double> values;
  double last = 1;
  for (const Study* s : studies) {
    for (const auto& t : Complete(s->Finished())) values.push_back(t.values[0]);
    const auto all = s->Finished();
    if (!all.empty()) last = std::max(last, static_cast<double>(all.back().number));
  }
  const bool log = WantsLog(values);
  html::Plot plot({.width = 900,
                   .height = 380,
                   .title = fmt::format("Best {} so far, study by study", objective.name),
                   .x_label = "trial number",
                   .y_label = ObjectiveLabel(objective) + (log ? ", log scale" : ""),
                   .y_log = log,
                   .css_class = "plot comparison",
                   .right_margin = 190});
  const auto [xlo, xhi] = html::PaddedRange(0, last, false, 0.02);
  plot.SetX(xlo, xhi);
  double lo = 0, hi = 1;
  if (!values.empty()) {
    lo = *std::min_element(values.begin(), values.end());
    hi = *std::max_element(values.begin(), values.end());
  }
  const auto [ylo, yhi] = html::PaddedRange(lo, hi, log, 0.08);
  plot.SetY(ylo, yhi);
  plot.Frame();
  std::vector<html::LegendEntry> legend;
  for (size_t i = 0; i < studies.size(); ++i) {
    const Study& s = *studies[i];
    const auto trials = s.Finished();
    const double end = trials.empty() ? 0 : static_cast<double>(trials.back().number);
    plot.Polyline(BestSoFar(trials, s.spec().objectives.front().minimize, end),
                  fmt::format("class=\"best-so-far study-line\" stroke=\"{}\" stroke-width=\"2\"",
                              html::Color(i)));
    legend.push_back({html::Color(i), fmt::format("{} ({})", s.name(), SamplerName(s)), true});
  }
  plot.Legend(legend);
  return plot.Finish();
}

std::string ImportancePlot(const ParameterImportance& imp) {
  std::vector<size_t> order(imp.names.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return imp.importance[a] > imp.importance[b]; });
  const int bar = 22;
  const int height = 80 + bar * static_cast<int>(order.size());
  html::Plot plot({.width = 900,
                   .height = height,
                   .title = "Parameter importance (fANOVA on a random forest)",
                   .x_label = "share of the variance explained by the parameter alone (%)",
                   .y_label = "",
                   .css_class = "plot importance",
                   .right_margin = 40});
  double hi = 0;
  for (double v : imp.importance) hi = std::max(hi, v);
  plot.SetX(0, std::max(5.0, std::min(100.0, 100 * hi * 1.15)));
  plot.SetY(0, static_cast<double>(order.size()));
  // The frame is drawn here rather than by Frame: the y axis lists parameters, not numbers.
  plot.Raw(fmt::format(
      "<text class=\"title\" x=\"{}\" y=\"20\">Parameter importance (fANOVA on a random forest "
      "of {} trials{})</text>\n",
      plot.left(), imp.trials, imp.log_scale ? ", log of the objective" : ""));
  plot.Raw(fmt::format(
      "<rect class=\"area\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" "
      "stroke=\"#999\"/>\n",
      plot.left(), plot.top(), plot.right() - plot.left(), plot.bottom() - plot.top()));
  for (double v : html::Ticks(plot.x().lo, plot.x().hi, 8, false)) {
    const double px = plot.x()(v);
    plot.Raw(fmt::format(
        "<line class=\"grid\" x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#e4e4e4\"/>"
        "<text class=\"tick\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}%</text>\n",
        px, plot.top(), px, plot.bottom(), px, plot.bottom() + 15, FormatNumber(v)));
  }
  plot.Text((plot.left() + plot.right()) / 2.0, height - 10.0,
            "share of the variance of the prediction explained by the parameter alone (%)",
            "class=\"axis-label\" text-anchor=\"middle\"");
  const double scale_left = plot.x()(0);
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    const double y0 = plot.y()(static_cast<double>(order.size() - k));
    const double width = plot.x()(100 * imp.importance[i]) - scale_left;
    plot.Raw(fmt::format(
        "<rect class=\"importance-bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
        "height=\"{}\" fill=\"{}\"><title>{}: {} ± {}</title></rect>\n",
        scale_left, y0 + 3, std::max(width, 0.5), bar - 6, html::Color(0),
        Escape(imp.names[i]), Percent(imp.importance[i]), Percent(imp.spread[i])));
    plot.Text(scale_left + std::max(width, 0.5) + 6, y0 + bar / 2.0 + 4,
              Percent(imp.importance[i]), "class=\"value\"");
  }
  // Parameter names go in the left margin; a long one is shortened, its tooltip keeps it whole.
  std::string labels;
  for (size_t k = 0; k < order.size(); ++k) {
    const std::string& name = imp.names[order[k]];
    const double y0 = plot.y()(static_cast<double>(order.size() - k));
    labels += fmt::format(
        "<text class=\"param-name\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}<title>{}</title>"
        "</text>\n",
        plot.left() - 6, y0 + bar / 2.0 + 4,
        Escape(name.size() > 18 ? name.substr(0, 17) + "…" : name), Escape(name));
  }
  plot.Raw(labels);
  return plot.Finish();
}

// Where a value sits on its parallel axis, in [0, 1]; -0.1 for an inactive value.
double AxisPosition(const Parameter& p, const Value& v) {
  if (IsInactive(v)) return -0.1;
  if (p.kind == ParamKind::kCategorical) {
    const auto k = p.IndexOf(v);
    const double n = static_cast<double>(p.values.size());
    return n <= 1 || !k ? 0.5 : static_cast<double>(*k) / (n - 1);
  }
  double u = 0.5;
  p.Encode(v, &u);
  return std::clamp(u, 0.0, 1.0);
}

std::string ParallelPlot(const Study& s, const std::optional<ParameterImportance>& imp) {
  const Space& space = s.space();
  std::vector<size_t> axes;
  for (size_t i = 0; i < space.size(); ++i) {
    const ParamKind kind = space.parameters()[i].kind;
    if (kind != ParamKind::kPermutation && kind != ParamKind::kSequence) axes.push_back(i);
  }
  if (imp) {
    std::stable_sort(axes.begin(), axes.end(), [&](size_t a, size_t b) {
      return imp->importance[a] > imp->importance[b];
    });
  }
  constexpr size_t kMaxAxes = 8;
  const bool cut = axes.size() > kMaxAxes;
  if (cut) axes.resize(kMaxAxes);
  const auto complete = Complete(s.Finished());
  if (axes.empty() || complete.empty()) return "";
  const Objective& objective = s.spec().objectives.front();
  std::vector<double> values;
  for (const auto& t : complete) values.push_back(t.values[0]);
  const bool log = WantsLog(values);
  const double vlo = *std::min_element(values.begin(), values.end());
  const double vhi = *std::max_element(values.begin(), values.end());
  auto objective_position = [&](double v) {
    if (!(vhi > vlo)) return 0.5;
    return log ? (std::log(v) - std::log(vlo)) / (std::log(vhi) - std::log(vlo))
               : (v - vlo) / (vhi - vlo);
  };
  const int n_axes = static_cast<int>(axes.size()) + 1;
  html::Plot plot({.width = 900,
                   .height = 400,
                   .title = "The best configurations across the parameters",
                   .x_label = "",
                   .y_label = "",
                   .css_class = "plot parallel",
                   .right_margin = 150});
  plot.SetX(0, n_axes - 1);
  plot.SetY(-0.14, 1.08);
  plot.Raw(fmt::format(
      "<text class=\"title\" x=\"{}\" y=\"20\">The best configurations across the parameters "
      "({}most important first){}</text>\n",
      plot.left(), imp ? "" : "in space order, ",
      cut ? fmt::format(", {} of {} axes", kMaxAxes, space.size()) : ""));
  // The best configurations: distinct ones by mean value, or the Pareto front.
  std::vector<Config> best;
  if (s.spec().objectives.size() > 1) {
    for (const auto& t : s.ParetoFront()) best.push_back(t.config);
  } else {
    best = TopConfigs(s, kTopRows);
  }
  auto line = [&](const TrialRecord& t) {
    std::vector<std::pair<double, double>> points;
    for (size_t a = 0; a < axes.size(); ++a) {
      points.push_back({static_cast<double>(a),
                        AxisPosition(space.parameters()[axes[a]], t.config[axes[a]])});
    }
    points.push_back({static_cast<double>(axes.size()), objective_position(t.values[0])});
    return points;
  };
  for (const auto& t : complete) {
    plot.Polyline(line(t), "class=\"pc-line\" stroke=\"#bbb\" stroke-width=\"1\" "
                           "stroke-opacity=\"0.6\"");
  }
  // Darker for better; the best is drawn last, on top.
  for (size_t k = best.size(); k-- > 0;) {
    auto it = std::find_if(complete.begin(), complete.end(),
                           [&](const TrialRecord& t) { return t.config == best[k]; });
    if (it == complete.end()) continue;
    const double shade = best.size() <= 1 ? 0 : static_cast<double>(k) / (best.size() - 1);
    const int g = static_cast<int>(40 + 150 * shade);
    plot.Raw(fmt::format("<g><title>{}</title>",
                         Escape(fmt::format("#{}: {}\n{}", it->number, FormatValues(s, it->values),
                                            FormatConfig(s, it->config)))));
    plot.Polyline(line(*it), fmt::format("class=\"pc-line top\" stroke=\"rgb(230,{},20)\" "
                                         "stroke-width=\"2.5\"",
                                         g));
    plot.Raw("</g>");
  }
  // Axes with their ticks and names.
  for (int a = 0; a < n_axes; ++a) {
    const double px = plot.x()(a);
    plot.Raw(fmt::format(
        "<line class=\"pc-axis\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
        "stroke=\"#333\"/>\n",
        px, plot.y()(0), px, plot.y()(1)));
    std::vector<std::pair<double, std::string>> ticks;
    std::string name;
    if (a == n_axes - 1) {
      name = objective.name;
      ticks = {{0, FormatNumber(vlo)}, {1, FormatNumber(vhi)}};
      if (vhi > vlo) {
        const double mid = log ? std::sqrt(vlo * vhi) : (vlo + vhi) / 2;
        ticks.push_back({0.5, FormatNumber(mid)});
      }
    } else {
      const Parameter& p = space.parameters()[axes[a]];
      name = p.name;
      if (p.kind == ParamKind::kCategorical || p.kind == ParamKind::kOrdinal) {
        const size_t n = p.values.size();
        const size_t stride = std::max<size_t>(1, n / 8);
        for (size_t k = 0; k < n; k += stride) {
          ticks.push_back({AxisPosition(p, p.values[k]), ValueText(p, p.values[k])});
        }
      } else {
        for (double u : {0.0, 0.5, 1.0}) ticks.push_back({u, ValueText(p, p.FromUnit(u))});
      }
      if (p.IsConditional()) ticks.push_back({-0.1, "inactive"});
    }
    for (const auto& [u, label] : ticks) {
      plot.Text(px - 5, plot.y()(u) + 4, label.size() > 14 ? label.substr(0, 13) + "…" : label,
                "class=\"tick\" text-anchor=\"end\"");
    }
    plot.Text(px, plot.y()(1) - 8, name.size() > 16 ? name.substr(0, 15) + "…" : name,
              "class=\"axis-name\" text-anchor=\"middle\"");
  }
  plot.Legend({{"#bbb", fmt::format("trial ({})", complete.size()), true},
               {"rgb(230,40,20)", s.spec().objectives.size() > 1
                                      ? "Pareto front"
                                      : fmt::format("best {}", std::min<size_t>(kTopRows,
                                                                                best.size())),
                true}},
              /*dx=*/24, /*dy=*/30);
  return plot.Finish();
}

std::string ParetoPlot(const Study& s) {
  const auto& objectives = s.spec().objectives;
  const auto complete = Complete(s.Finished());
  if (complete.empty()) return "";
  std::vector<double> xs, ys;
  for (const auto& t : complete) {
    xs.push_back(t.values[0]);
    ys.push_back(t.values[1]);
  }
  const bool xlog = WantsLog(xs), ylog = WantsLog(ys);
  html::Plot plot({.width = 900,
                   .height = 440,
                   .title = fmt::format("Pareto front: {} against {}", objectives[1].name,
                                        objectives[0].name),
                   .x_label = ObjectiveLabel(objectives[0]) + (xlog ? ", log scale" : ""),
                   .y_label = ObjectiveLabel(objectives[1]) + (ylog ? ", log scale" : ""),
                   .x_log = xlog,
                   .y_log = ylog,
                   .css_class = "plot pareto",
                   .right_margin = 190});
  const auto [xlo, xhi] = html::PaddedRange(*std::min_element(xs.begin(), xs.end()),
                                            *std::max_element(xs.begin(), xs.end()), xlog);
  const auto [ylo, yhi] = html::PaddedRange(*std::min_element(ys.begin(), ys.end()),
                                            *std::max_element(ys.begin(), ys.end()), ylog);
  plot.SetX(xlo, xhi);
  plot.SetY(ylo, yhi);
  plot.Frame();
  auto front = s.ParetoFront();
  std::vector<int64_t> on_front;
  for (const auto& t : front) on_front.push_back(t.number);
  for (const auto& t : complete) {
    if (std::find(on_front.begin(), on_front.end(), t.number) != on_front.end()) continue;
    plot.Circle(t.values[0], t.values[1], 3.5,
                "class=\"pareto-point\" fill=\"#9aa\" fill-opacity=\"0.7\"",
                fmt::format("#{}: {}\n{}", t.number, FormatValues(s, t.values),
                            FormatConfig(s, t.config)));
  }
  std::sort(front.begin(), front.end(), [](const TrialRecord& a, const TrialRecord& b) {
    return a.values[0] < b.values[0];
  });
  std::vector<std::pair<double, double>> steps;
  // Between two front points the attainable region's edge is a step (minimisation of the first
  // objective read left to right).
  for (size_t k = 0; k < front.size(); ++k) {
    if (k > 0) steps.push_back({front[k].values[0], front[k - 1].values[1]});
    steps.push_back({front[k].values[0], front[k].values[1]});
  }
  plot.Polyline(steps, fmt::format("class=\"front-line\" stroke=\"{}\" stroke-width=\"1.5\"",
                                   html::Color(1)));
  for (const auto& t : front) {
    plot.Circle(t.values[0], t.values[1], 5,
                fmt::format("class=\"pareto-point front\" fill=\"{}\" stroke=\"#333\"",
                            html::Color(1)),
                fmt::format("#{} (on the front): {}\n{}", t.number, FormatValues(s, t.values),
                            FormatConfig(s, t.config)));
  }
  plot.Legend({{"#9aa", fmt::format("dominated trial ({})", complete.size() - front.size())},
               {html::Color(1), fmt::format("Pareto front ({})", front.size())}});
  return plot.Finish();
}

std::string TopTable(const Study& s) {
  const auto& objectives = s.spec().objectives;
  const auto& params = s.space().parameters();
  const auto complete = Complete(s.Finished());
  struct Row {
    const TrialRecord* trial;
    std::vector<double> values;
    int measurements;
  };
  std::vector<Row> rows;
  if (objectives.size() > 1) {
    for (const auto& t : s.ParetoFront()) {
      auto it = std::find_if(complete.begin(), complete.end(),
                             [&](const TrialRecord& c) { return c.number == t.number; });
      if (it != complete.end()) rows.push_back({&*it, t.values, 1});
    }
    std::sort(rows.begin(), rows.end(),
              [](const Row& a, const Row& b) { return a.values[0] < b.values[0]; });
  } else {
    for (const Config& c : TopConfigs(s, kTopRows)) {
      const TrialRecord* first = nullptr;
      double sum = 0;
      int n = 0;
      for (const auto& t : complete) {
        if (t.config != c) continue;
        if (!first) first = &t;
        sum += t.values[0];
        ++n;
      }
      if (first) rows.push_back({first, {sum / n}, n});
    }
  }
  std::string out = "<table class=\"top-configs sortable\">\n<thead><tr><th>rank</th><th>trial</th>";
  for (const auto& o : objectives) {
    out += fmt::format("<th>{} ({})</th>", Escape(o.name), o.minimize ? "min" : "max");
  }
  if (objectives.size() == 1) out += "<th>runs</th>";
  for (const auto& p : params) out += fmt::format("<th>{}</th>", Escape(p.name));
  out += "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    out += fmt::format("<tr><td>{}</td><td>#{}</td>", r + 1, row.trial->number);
    const auto& values = objectives.size() == 1 ? row.values : row.trial->values;
    for (double v : values) out += fmt::format("<td class=\"num\">{}</td>", FormatNumber(v));
    if (objectives.size() == 1) out += fmt::format("<td class=\"num\">{}</td>", row.measurements);
    for (size_t i = 0; i < params.size(); ++i) {
      out += fmt::format("<td>{}</td>", Escape(ValueText(params[i], row.trial->config[i])));
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

std::string FailureTable(const Study& s) {
  std::map<std::string, std::vector<int64_t>> groups;
  std::map<std::string, std::string> stderr_of;  // The first trial's last lines of stderr.
  for (const auto& t : s.Finished()) {
    if (t.state == TrialState::kFailed) {
      std::string reason = t.failure_reason.substr(0, 300);
      groups[reason].push_back(t.number);
      if (!stderr_of.count(reason)) {
        const std::string& tail = t.stderr_tail;
        stderr_of[reason] = tail.size() > 300 ? "…" + tail.substr(tail.size() - 300) : tail;
      }
    }
  }
  if (groups.empty()) return "";
  std::string out =
      "<h3>Failures</h3>\n<table class=\"failures\">\n<thead><tr><th>reason</th><th>trials</th>"
      "<th>which</th><th>stderr of the first</th></tr></thead>\n<tbody>\n";
  for (const auto& [reason, numbers] : groups) {
    std::string which;
    for (size_t k = 0; k < numbers.size() && k < 12; ++k) {
      which += (k ? ", #" : "#") + std::to_string(numbers[k]);
    }
    if (numbers.size() > 12) which += ", …";
    out += fmt::format(
        "<tr><td class=\"reason\">{}</td><td class=\"num\">{}</td><td>{}</td>"
        "<td class=\"reason\"><pre>{}</pre></td></tr>\n",
        Escape(reason), numbers.size(), which, Escape(stderr_of[reason]));
  }
  return out + "</tbody></table>\n";
}

std::string StudySection(const Study& s, size_t index) {
  const auto& objectives = s.spec().objectives;
  const TrialCounts counts = CountTrials(s);
  std::string out = fmt::format("<section class=\"study\" id=\"study-{}\">\n<h2>Study {}</h2>\n",
                                index, Escape(s.name()));
  std::string objective_names;
  for (const auto& o : objectives) {
    objective_names += (objective_names.empty() ? "" : ", ") +
                       fmt::format("{} ({})", o.name, o.minimize ? "minimised" : "maximised");
  }
  out += fmt::format(
      "<p class=\"summary\">{} · sampler <b>{}</b> · {} parameter{} · objective{}: {}</p>\n",
      Escape(DescribeCounts(counts)), Escape(SamplerName(s)), s.space().size(),
      s.space().size() == 1 ? "" : "s", objectives.size() == 1 ? "" : "s",
      Escape(objective_names));
  if (objectives.size() == 1) {
    if (auto best = s.Best()) {
      const int n = best->attrs.value("measurements", 1);
      out += fmt::format(
          "<p class=\"best\">Best: trial #{} with <b>{}</b>{}<br><code>{}</code></p>\n",
          best->number, Escape(FormatValues(s, best->values)),
          n > 1 ? fmt::format(" (mean of {} runs)", n) : "", Escape(FormatConfig(s, best->config)));
    } else {
      out += "<p class=\"best\">No trial has completed yet.</p>\n";
    }
  } else {
    out += fmt::format("<p class=\"best\">Pareto front: {} trial{}.</p>\n", s.ParetoFront().size(),
                       s.ParetoFront().size() == 1 ? "" : "s");
  }
  if (counts.total == 0) return out + "</section>\n";
  out += "<figure>" + HistoryPlot(s) +
         "<figcaption>Each dot is a trial; open red circles are trials that failed (no value), "
         "drawn on the worse edge. The line is the best value found up to each trial.</figcaption>"
         "</figure>\n";
  if (objectives.size() >= 2) {
    out += "<figure>" + ParetoPlot(s) +
           "<figcaption>Every complete trial by its first two objectives; the highlighted points "
           "are not beaten on both by any other trial.</figcaption></figure>\n";
  }
  std::optional<ParameterImportance> importance;
  auto computed = ComputeImportance(s);
  if (computed.ok()) {
    importance = *computed;
    out += "<figure>" + ImportancePlot(*importance) +
           "<figcaption>fANOVA: the variance of a random forest's prediction over the whole "
           "space, split into what each parameter explains on its own" +
           std::string(objectives.size() > 1 ? " (first objective)" : "") +
           "; what the bars leave of 100% comes from interactions between parameters. Hover a "
           "bar for its spread over the forest's trees.</figcaption></figure>\n";
  } else {
    out += fmt::format("<p class=\"note\">Parameter importance: {}</p>\n",
                       Escape(computed.error().message()));
  }
  const std::string parallel = ParallelPlot(s, importance);
  if (!parallel.empty()) {
    out += "<figure>" + parallel +
           "<figcaption>Each line is a complete trial through its parameter values, ending at its " +
           Escape(objectives.front().name) +
           "; the coloured lines are the best configurations (darker is better). Hover a line for "
           "its values.</figcaption></figure>\n";
  }
  out += fmt::format("<h3>{}</h3>\n", objectives.size() > 1
                                          ? "The Pareto front"
                                          : "Top configurations (distinct, by mean value)");
  out += TopTable(s);
  out += FailureTable(s);
  return out + "</section>\n";
}

// ---------------------------------------------------------------------------------------------
// Memory plans.

std::string SweepPlot(const SweepData& sweep) {
  html::Plot plot({.width = 900,
                   .height = 420,
                   .title = fmt::format("{}: extra compute against memory budget", sweep.graph),
                   .x_label = "memory budget (% of the keep-everything activation peak)",
                   .y_label = "compute overhead (% over computing every node once)",
                   .css_class = "plot sweep",
                   .right_margin = 190});
  double hi = 0.01;
  for (const auto& row : sweep.overhead) {
    for (double v : row) {
      if (std::isfinite(v)) hi = std::max(hi, v);
    }
  }
  for (double v : sweep.bound_overhead) {
    if (std::isfinite(v)) hi = std::max(hi, v);
  }
  const auto [xlo, xhi] =
      html::PaddedRange(100 * sweep.fractions.front(), 100 * sweep.fractions.back(), false);
  plot.SetX(xlo, xhi);
  plot.SetY(0, 100 * hi * 1.1);
  plot.Frame(PercentTick, PercentTick);
  std::vector<html::LegendEntry> legend;
  for (size_t s = 0; s < sweep.solvers.size(); ++s) {
    std::vector<std::pair<double, double>> points;
    const char* color = html::Color(s);
    for (size_t b = 0; b < sweep.fractions.size(); ++b) {
      const double v = sweep.overhead[s][b];
      if (!std::isfinite(v)) continue;
      points.push_back({100 * sweep.fractions[b], 100 * v});
      plot.Circle(100 * sweep.fractions[b], 100 * v, 3.5,
                  fmt::format("class=\"sweep-point\" fill=\"{}\"", color),
                  fmt::format("{} at {} budget ({}): overhead {}{}", sweep.solvers[s],
                              Percent(sweep.fractions[b]), html::FormatBytes(sweep.budgets[b]),
                              Percent(v), sweep.best[b] == sweep.solvers[s] ? " (best)" : ""));
    }
    plot.Polyline(points, fmt::format("class=\"solver-line\" stroke=\"{}\" stroke-width=\"2\"",
                                      color));
    legend.push_back({color, sweep.solvers[s] + (points.empty() ? " (no plan)" : ""), true});
  }
  std::vector<std::pair<double, double>> bound;
  for (size_t b = 0; b < sweep.fractions.size(); ++b) {
    if (std::isfinite(sweep.bound_overhead[b])) {
      bound.push_back({100 * sweep.fractions[b], 100 * sweep.bound_overhead[b]});
    }
  }
  plot.Polyline(bound, "class=\"bound-line\" stroke=\"#222\" stroke-width=\"2\" "
                       "stroke-dasharray=\"6 4\"");
  legend.push_back({"#222", "lower bound", true, "6 4"});
  plot.Legend(legend);
  return plot.Finish();
}

// Every step up to 3000, else the highest and lowest value of each of 1500 buckets, so that the
// peak stays visible.
std::vector<std::pair<double, double>> ProfilePoints(const std::vector<int64_t>& bytes,
                                                    double unit) {
  std::vector<std::pair<double, double>> points;
  const size_t n = bytes.size();
  if (n <= 3000) {
    for (size_t k = 0; k < n; ++k) {
      if (k > 0) points.push_back({static_cast<double>(k), bytes[k - 1] / unit});
      points.push_back({static_cast<double>(k), bytes[k] / unit});
    }
    return points;
  }
  const size_t buckets = 1500;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t from = b * n / buckets, to = std::max(from + 1, (b + 1) * n / buckets);
    const auto [lo, hi] = std::minmax_element(bytes.begin() + from, bytes.begin() + to);
    points.push_back({static_cast<double>(from), *lo / unit});
    points.push_back({static_cast<double>(from), *hi / unit});
  }
  return points;
}

std::string ProfilePlot(const MemoryProfile& p) {
  double hi = static_cast<double>(p.budget_bytes);
  size_t steps = 1;
  for (const auto* series : {&p.plan, &p.keep_all}) {
    for (int64_t v : *series) hi = std::max(hi, static_cast<double>(v));
    steps = std::max(steps, series->size());
  }
  // The axis counts in the unit of its largest value, so that its ticks are round numbers.
  static const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int unit_index = 0;
  double unit = 1;
  while (hi / unit >= 1024 && unit_index < 4) {
    unit *= 1024;
    ++unit_index;
  }
  html::Plot plot({.width = 900,
                   .height = 420,
                   .title = fmt::format("{}: memory held at each step", p.graph),
                   .x_label = "schedule step (compute or free)",
                   .y_label = fmt::format("memory held ({}, fixed included)", kUnits[unit_index]),
                   .css_class = "plot memory-profile",
                   .right_margin = 250});
  plot.SetX(0, static_cast<double>(steps));
  plot.SetY(0, hi / unit * 1.08);
  plot.Frame();
  plot.Polyline(ProfilePoints(p.keep_all, unit),
                "class=\"keep-all-line\" stroke=\"#999\" stroke-width=\"1.5\"");
  plot.Polyline(ProfilePoints(p.plan, unit), fmt::format("class=\"profile-line\" stroke=\"{}\" "
                                                   "stroke-width=\"1.5\"",
                                                   html::Color(0)));
  std::vector<html::LegendEntry> legend = {
      {html::Color(0), "chosen plan", true},
      {"#999", "keep everything", true}};
  if (p.budget_bytes > 0) {
    plot.Polyline({{0, p.budget_bytes / unit}, {static_cast<double>(steps), p.budget_bytes / unit}},
                  fmt::format("class=\"budget-line\" stroke=\"{}\" stroke-width=\"1.5\" "
                              "stroke-dasharray=\"6 4\"",
                              kFailedColor));
    legend.push_back({kFailedColor, "budget " + html::FormatBytes(p.budget_bytes), true, "6 4"});
  }
  plot.Polyline({{0, p.fixed_bytes / unit}, {static_cast<double>(steps), p.fixed_bytes / unit}},
                "class=\"fixed-line\" stroke=\"#555\" stroke-width=\"1\" stroke-dasharray=\"2 3\"");
  legend.push_back({"#555", "fixed (parameters, optimiser)", true, "2 3"});
  plot.Legend(legend);
  return plot.Finish();
}

std::string MemorySection(const ReportInputs& in) {
  std::string out = "<section class=\"memory\">\n<h2>Memory plan</h2>\n";
  if (in.sweep) {
    const SweepData& s = *in.sweep;
    out += "<figure>" + SweepPlot(s) +
           "<figcaption>Each solver's extra compute at each budget (missing where it found no plan "
           "within the budget); no plan can cost less than the dashed lower bound.</figcaption>"
           "</figure>\n";
    out += "<table class=\"sweep-table\">\n<thead><tr><th>solver</th>";
    for (size_t b = 0; b < s.fractions.size(); ++b) {
      out += fmt::format("<th>{} ({})</th>", Percent(s.fractions[b]),
                         html::FormatBytes(s.budgets[b]));
    }
    out += "</tr></thead>\n<tbody>\n";
    for (size_t k = 0; k < s.solvers.size(); ++k) {
      out += fmt::format("<tr><td>{}</td>", Escape(s.solvers[k]));
      for (size_t b = 0; b < s.fractions.size(); ++b) {
        const double v = s.overhead[k][b];
        out += fmt::format("<td class=\"num{}\">{}</td>", s.best[b] == s.solvers[k] ? " best" : "",
                           std::isfinite(v) ? Percent(v) : "–");
      }
      out += "</tr>\n";
    }
    out += "<tr class=\"bound\"><td>lower bound</td>";
    for (double v : s.bound_overhead) out += fmt::format("<td class=\"num\">{}</td>", Percent(v));
    out += "</tr>\n</tbody></table>\n";
  }
  if (in.profile) {
    const MemoryProfile& p = *in.profile;
    int64_t peak = 0, keep_peak = 0;
    for (int64_t v : p.plan) peak = std::max(peak, v);
    for (int64_t v : p.keep_all) keep_peak = std::max(keep_peak, v);
    out += fmt::format(
        "<p class=\"summary\">{}: peak {} against {} when everything is kept ({} of it), {} "
        "extra compute, {} recomputation{}.</p>\n",
        Escape(p.label), html::FormatBytes(peak), html::FormatBytes(keep_peak),
        Percent(keep_peak > 0 ? static_cast<double>(peak) / keep_peak : 0), Percent(p.overhead),
        p.recomputes, p.recomputes == 1 ? "" : "s");
    out += "<figure>" + ProfilePlot(p) +
           "<figcaption>Memory held after each step of the schedule: the chosen plan frees "
           "activations and recomputes them to stay under the budget.</figcaption></figure>\n";
  }
  return out + "</section>\n";
}

constexpr const char* kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       margin: 24px auto; max-width: 960px; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 21px; border-bottom: 2px solid #4e79a7; padding-bottom: 4px; margin-top: 36px; }
h3 { font-size: 17px; margin-top: 24px; }
figure { margin: 18px 0; }
figcaption { font-size: 13px; color: #555; max-width: 880px; }
svg { max-width: 100%; height: auto; font-size: 12px; font-family: inherit; }
svg .title { font-size: 15px; font-weight: 600; }
svg .axis-label, svg .axis-name { font-size: 13px; }
svg .tick { fill: #444; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
th { background: #f0f3f7; }
table.sortable th { cursor: pointer; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { font-weight: 700; }
td.reason { max-width: 560px; word-break: break-word; }
code { font-size: 13px; }
td pre { margin: 0; white-space: pre-wrap; font-size: 12px; }
.note { color: #8a5a00; }
)";

// Sorting a table by a clicked header: the only script, no data in it.
constexpr const char* kScript = R"(
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, column) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var up = th.dataset.order !== 'up';
      th.dataset.order = up ? 'up' : 'down';
      var key = function (row) {
        var text = row.cells[column].textContent.replace(/^#/, '');
        var number = parseFloat(text);
        return isNaN(number) ? text : number;
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var order = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0) : String(x) < String(y) ? -1 : 1;
        return up ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
)";

}  // namespace

Expected<SweepData> SweepFromJson(const json& j, std::string_view source) {
  auto bad = [&](const std::string& where, const std::string& what) {
    return InvalidInput("{}: {}: {} (expected the output of 'sysopt remat sweep --json')", source,
                        where, what);
  };
  if (!j.is_object() || !j.contains("sweep") || !j["sweep"].is_array()) {
    return bad("top level", "no 'sweep' array");
  }
  SweepData d;
  d.graph = j.value("graph", std::string("graph"));
  const json& sweep = j["sweep"];
  if (sweep.empty()) return bad("sweep", "empty");
  for (size_t b = 0; b < sweep.size(); ++b) {
    const json& e = sweep[b];
    const std::string at = fmt::format("sweep[{}]", b);
    auto number = [&](const char* field) -> Expected<double> {
      if (!e.is_object() || !e.contains(field) || !e[field].is_number()) {
        return bad(at + "." + field, e.is_object() && e.contains(field)
                                         ? "not a number: " + e[field].dump()
                                         : std::string("missing"));
      }
      return e[field].get<double>();
    };
    auto fraction = number("fraction");
    if (!fraction.ok()) return fraction.error();
    auto budget = number("budget_bytes");
    if (!budget.ok()) return budget.error();
    auto cost = number("keep_all_cost");
    if (!cost.ok()) return cost.error();
    auto bound = number("lower_bound");
    if (!bound.ok()) return bound.error();
    if (!(*fraction > 0)) return bad(at + ".fraction", fmt::format("{} is not positive", *fraction));
    if (!(*cost > 0)) return bad(at + ".keep_all_cost", fmt::format("{} is not positive", *cost));
    d.fractions.push_back(*fraction);
    d.budgets.push_back(static_cast<int64_t>(*budget));
    d.bound_overhead.push_back(*bound / *cost - 1.0);
    d.best.push_back(e.contains("best") && e["best"].is_string() ? e["best"].get<std::string>()
                                                                 : "");
    if (!e.contains("plans") || !e["plans"].is_array()) return bad(at + ".plans", "missing");
    for (auto& row : d.overhead) row.push_back(NAN);
    for (size_t k = 0; k < e["plans"].size(); ++k) {
      const json& p = e["plans"][k];
      const std::string pat = fmt::format("{}.plans[{}]", at, k);
      if (!p.is_object() || !p.contains("solver") || !p["solver"].is_string()) {
        return bad(pat + ".solver", "missing");
      }
      const std::string solver = p["solver"].get<std::string>();
      auto it = std::find(d.solvers.begin(), d.solvers.end(), solver);
      size_t s = static_cast<size_t>(it - d.solvers.begin());
      if (it == d.solvers.end()) {
        d.solvers.push_back(solver);
        d.overhead.push_back(std::vector<double>(b + 1, NAN));
      }
      const bool feasible = p.value("feasible", false);
      if (feasible) {
        if (!p.contains("overhead") || !p["overhead"].is_number()) {
          return bad(pat + ".overhead", "missing for a feasible plan");
        }
        d.overhead[s][b] = p["overhead"].get<double>();
      }
    }
  }
  // Sorted by budget, as the plot reads them.
  std::vector<size_t> order(d.fractions.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return d.fractions[a] < d.fractions[b]; });
  SweepData sorted = d;
  for (size_t i = 0; i < order.size(); ++i) {
    sorted.fractions[i] = d.fractions[order[i]];
    sorted.budgets[i] = d.budgets[order[i]];
    sorted.bound_overhead[i] = d.bound_overhead[order[i]];
    sorted.best[i] = d.best[order[i]];
    for (size_t s = 0; s < d.solvers.size(); ++s) sorted.overhead[s][i] = d.overhead[s][order[i]];
  }
  return sorted;
}

Expected<ParameterImportance> ComputeImportance(const Study& s) {
  const auto complete = Complete(s.Finished());
  constexpr int kMinTrials = 8;
  if (static_cast<int>(complete.size()) < kMinTrials) {
    return InvalidInput("needs at least {} complete trials, the study has {}", kMinTrials,
                        complete.size());
  }
  const Space& space = s.space();
  const FeatureLayout& layout = space.layout();
  Eigen::MatrixXd X(static_cast<Eigen::Index>(complete.size()), layout.width);
  Eigen::VectorXd y(static_cast<Eigen::Index>(complete.size()));
  std::vector<double> values;
  std::vector<double> row(static_cast<size_t>(layout.width));
  for (size_t r = 0; r < complete.size(); ++r) {
    space.Encode(complete[r].config, row.data());
    for (int c = 0; c < layout.width; ++c) X(static_cast<Eigen::Index>(r), c) = row[static_cast<size_t>(c)];
    values.push_back(complete[r].values[0]);
  }
  ParameterImportance imp;
  imp.log_scale = WantsLog(values);
  imp.trials = static_cast<int>(complete.size());
  for (size_t r = 0; r < values.size(); ++r) {
    y[static_cast<Eigen::Index>(r)] = imp.log_scale ? std::log(values[r]) : values[r];
  }
  if (y.maxCoeff() == y.minCoeff()) {
    return InvalidInput("every complete trial has the same value ({}), so no parameter matters",
                        FormatNumber(values.front()));
  }
  ForestOptions options;
  options.num_trees = 32;
  auto forest = RandomForest::Create(layout, options, /*seed=*/20140622);
  if (!forest.ok()) return forest.error();
  SYSOPT_RETURN_IF_ERROR((*forest)->Fit(X, y, FitOptions{}));
  // Discrete numeric parameters weigh their own levels, wherever their encoding puts them.
  std::vector<ColumnDomain> domains = DomainsOf(layout);
  std::vector<std::vector<int>> groups;
  size_t g = 0;
  for (size_t i = 0; i < space.size(); ++i, ++g) {
    const Parameter& p = space.parameters()[i];
    const FeatureGroup& group = layout.groups[g];
    std::vector<int> columns;
    for (int c = 0; c < group.width; ++c) columns.push_back(group.offset + c);
    if (group.kind == FeatureKind::kNumeric && p.IsDiscrete() && p.Cardinality() >= 2 &&
        p.Cardinality() <= 256) {
      ColumnDomain d;
      d.kind = ColumnDomain::Kind::kPoints;
      for (uint64_t k = 0; k < p.Cardinality(); ++k) {
        double u = 0;
        p.Encode(p.ValueAt(k), &u);
        d.points.push_back(u);
      }
      std::sort(d.points.begin(), d.points.end());
      domains[static_cast<size_t>(group.offset)] = d;
    }
    if (p.IsConditional()) columns.push_back(layout.groups[++g].offset);  // Its activity column.
    groups.push_back(columns);
    imp.names.push_back(p.name);
  }
  auto fanova = FanovaImportance((*forest)->Trees(), domains, groups);
  if (!fanova.ok()) return fanova.error();
  for (const Importance& i : *fanova) {
    imp.importance.push_back(i.mean);
    imp.spread.push_back(i.std);
  }
  return imp;
}

std::string RenderReport(const ReportInputs& in) {
  std::string body;
  std::string contents;
  if (in.studies.size() > 1) {
    body += "<section class=\"comparison\">\n<h2>Comparison</h2>\n<figure>" +
            ComparisonPlot(in.studies) +
            "<figcaption>The best value found up to each trial, one line per study: lower and "
            "earlier is a better sampler for this problem.</figcaption></figure>\n</section>\n";
  }
  for (size_t i = 0; i < in.studies.size(); ++i) body += StudySection(*in.studies[i], i);
  if (in.sweep || in.profile) body += MemorySection(in);
  std::string subtitle;
  for (const Study* s : in.studies) {
    subtitle += (subtitle.empty() ? "" : ", ") + fmt::format("study {}", s->name());
  }
  if (in.sweep) subtitle += (subtitle.empty() ? "" : ", ") + fmt::format("memory plan of {}", in.sweep->graph);
  else if (in.profile) subtitle += (subtitle.empty() ? "" : ", ") + fmt::format("memory plan of {}", in.profile->graph);
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n"
      "<p class=\"subtitle\">{}</p>\n{}<script>{}</script>\n</body>\n</html>\n",
      Escape(in.title), kStyle, Escape(in.title), Escape(subtitle), body, kScript);
}

}  // namespace sysopt
