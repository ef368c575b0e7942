#include "sysopt/report/noise.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace sysopt {

double StudentT975(int df) {
  // Two-sided 95% points; beyond the table the values approach the normal's 1.96.
  static constexpr double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                      2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                      2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                      2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  constexpr int kSize = static_cast<int>(sizeof(kTable) / sizeof(kTable[0]));
  if (df < 1) df = 1;
  if (df <= kSize) return kTable[df - 1];
  if (df <= 40) return 2.021;
  if (df <= 60) return 2.000;
  if (df <= 120) return 1.980;
  return 1.960;
}

SampleSummary Summarize(const std::vector<double>& samples) {
  SampleSummary s;
  s.n = static_cast<int>(samples.size());
  if (samples.empty()) return s;
  double sum = 0;
  for (double v : samples) sum += v;
  s.mean = sum / s.n;
  s.min = *std::min_element(samples.begin(), samples.end());
  s.max = *std::max_element(samples.begin(), samples.end());
  if (s.n >= 2) {
    double squares = 0;
    for (double v : samples) squares += (v - s.mean) * (v - s.mean);
    const double sd = std::sqrt(squares / (s.n - 1));
    s.half_width = StudentT975(s.n - 1) * sd / std::sqrt(static_cast<double>(s.n));
  }
  return s;
}

std::vector<double> ConfigSamples(const Study& study, const Config& config, bool confirm_only) {
  std::vector<double> out;
  for (const auto& t : study.Finished()) {
    if (t.state != TrialState::kComplete || t.config != config) continue;
    if (confirm_only && !t.attrs.contains("confirm")) continue;
    if (t.samples.empty()) {
      if (!t.values.empty()) out.push_back(t.values[0]);
      continue;
    }
    for (const auto& s : t.samples) {
      if (!s.empty()) out.push_back(s[0]);
    }
  }
  return out;
}

std::vector<Config> TopConfigs(const Study& study, int k) {
  const bool minimize = study.spec().objectives.front().minimize;
  struct Group {
    Config config;
    double sum = 0;
    int count = 0;
    int64_t first = 0;
  };
  std::map<size_t, Group> groups;
  for (const auto& t : study.Finished()) {
    if (t.state != TrialState::kComplete || t.values.empty()) continue;
    auto [it, inserted] = groups.try_emplace(HashConfig(t.config));
    if (inserted) it->second = {t.config, 0, 0, t.number};
    it->second.sum += t.values[0];
    ++it->second.count;
  }
  std::vector<Group> sorted;
  for (auto& [_, g] : groups) sorted.push_back(std::move(g));
  std::sort(sorted.begin(), sorted.end(), [&](const Group& a, const Group& b) {
    const double ma = a.sum / a.count, mb = b.sum / b.count;
    if (ma != mb) return minimize ? ma < mb : ma > mb;
    return a.first < b.first;
  });
  std::vector<Config> out;
  for (size_t i = 0; i < sorted.size() && static_cast<int>(i) < k; ++i) {
    out.push_back(sorted[i].config);
  }
  return out;
}

std::string VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kBetter:
      return "better";
    case Verdict::kWorse:
      return "worse";
    case Verdict::kWithinNoise:
      return "within noise";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Comparison Compare(const std::vector<double>& candidate, const std::vector<double>& baseline,
                   bool minimize) {
  Comparison c;
  c.candidate = Summarize(candidate);
  c.baseline = Summarize(baseline);
  if (c.candidate.n > 0 && c.baseline.n > 0 && c.candidate.mean > 0 && c.baseline.mean > 0) {
    c.ratio = minimize ? c.baseline.mean / c.candidate.mean : c.candidate.mean / c.baseline.mean;
  }
  if (c.candidate.n < 2 || c.baseline.n < 2) {
    c.verdict = Verdict::kUnknown;
    return c;
  }
  const bool candidate_lower = c.candidate.high() < c.baseline.low();
  const bool candidate_higher = c.candidate.low() > c.baseline.high();
  if (!candidate_lower && !candidate_higher) {
    c.verdict = Verdict::kWithinNoise;
  } else {
    c.verdict = candidate_lower == minimize ? Verdict::kBetter : Verdict::kWorse;
  }
  return c;
}

std::optional<std::string> SpreadWarning(const std::vector<double>& samples) {
  if (samples.size() < 2) return std::nullopt;
  const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
  if (!(*lo > 0) || !(*hi > 1.5 * *lo)) return std::nullopt;
  return fmt::format("samples range {:.4g} .. {:.4g}", *lo, *hi);
}

}  // namespace sysopt
