#pragma once
/// \file
/// \brief How much of a measured difference is noise: confidence intervals of a configuration's
/// samples (every repeat of every trial of it), and a verdict on a comparison that claims an
/// improvement only when the intervals are apart.

#include <optional>
#include <string>
#include <vector>

#include "sysopt/study/study.h"

namespace sysopt {

/// \brief The samples of one configuration, summarised.
struct SampleSummary {
  int n = 0;
  double mean = 0;
  double half_width = 0;  ///< Of the 95% confidence interval of the mean (Student's t); n >= 2.
  double min = 0;
  double max = 0;
  double low() const { return mean - half_width; }
  double high() const { return mean + half_width; }
};

/// \brief Mean, 95% interval (t with n-1 degrees of freedom) and range; n = 0 for no samples.
SampleSummary Summarize(const std::vector<double>& samples);

/// \brief The two-sided 95% quantile of Student's t with `df` >= 1 degrees of freedom.
double StudentT975(int df);

/// \brief The first objective's samples of every COMPLETE trial of `config`, in trial order;
/// with `confirm_only`, only those of confirmation trials (attrs "confirm").
std::vector<double> ConfigSamples(const Study& study, const Config& config, bool confirm_only);

/// \brief Up to `k` distinct configurations with the best mean first-objective value, best first.
std::vector<Config> TopConfigs(const Study& study, int k);

enum class Verdict {
  kBetter,       ///< The intervals are apart and the candidate is better.
  kWorse,        ///< The intervals are apart and the candidate is worse.
  kWithinNoise,  ///< The intervals overlap: the difference may be noise.
  kUnknown,      ///< Fewer than two samples on one side: the noise cannot be told.
};

/// \brief "better", "worse", "within noise", "unknown".
std::string VerdictName(Verdict verdict);

/// \brief A candidate against a baseline.
struct Comparison {
  Verdict verdict = Verdict::kUnknown;
  SampleSummary candidate;
  SampleSummary baseline;
  /// How many times better the candidate's mean is (> 1 when better); unset unless both means
  /// are positive.
  std::optional<double> ratio;
};

/// \brief Compares the samples. Non-overlapping 95% intervals of the means are asked for before
/// calling a difference real: stricter than a t-test, which suits a best configuration picked
/// as the minimum of many noisy ones.
Comparison Compare(const std::vector<double>& candidate, const std::vector<double>& baseline,
                   bool minimize);

/// \brief Set when the samples spread widely (max above 1.5 x min, all positive): "samples
/// range 2 .. 5.6".
std::optional<std::string> SpreadWarning(const std::vector<double>& samples);

}  // namespace sysopt
