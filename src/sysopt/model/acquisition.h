#pragma once
/// \file
/// \brief Acquisition functions for minimisation, computed from a surrogate's predictive mean and
/// variance (model scale). Expected and probability of improvement are computed in log space so
/// that they stay finite and ordered far from the incumbent (Ament et al., 2023, "Unexpected
/// Improvements to Expected Improvement for Bayesian Optimization"); this also makes
/// multiplication by a feasibility probability and by a piBO prior weight an addition.
///
/// Thread safety: all functions are pure; Acquisition objects are immutable after construction
/// and safe to share between threads.

#include <Eigen/Core>
#include <memory>
#include <string>

namespace sysopt {

/// \brief Standard normal density.
double NormalPdf(double z);
/// \brief Standard normal distribution function.
double NormalCdf(double z);
/// \brief log NormalCdf(z), accurate for very negative z.
double NormalLogCdf(double z);
/// \brief Scaled complementary error function exp(x^2) erfc(x), accurate for large x.
double Erfcx(double x);
/// \brief log h(z) with h(z) = phi(z) + z Phi(z), so that EI = sigma h((best - mu) / sigma);
/// finite for every finite z.
double LogH(double z);

/// \brief Expected improvement below `best` by the textbook formula; underflows to 0 for
/// z = (best - mean - xi) / stddev below about -38. stddev <= 0 gives max(best - mean - xi, 0).
double ExpectedImprovement(double mean, double stddev, double best, double xi = 0.0);
/// \brief log of ExpectedImprovement, computed stably; -inf only when stddev <= 0 and there is
/// no improvement.
double LogExpectedImprovement(double mean, double stddev, double best, double xi = 0.0);
/// \brief P(f < best - xi).
double ProbabilityOfImprovement(double mean, double stddev, double best, double xi = 0.0);
/// \brief log ProbabilityOfImprovement, computed stably.
double LogProbabilityOfImprovement(double mean, double stddev, double best, double xi = 0.0);
/// \brief mean - beta * stddev (smaller is more promising).
double LowerConfidenceBound(double mean, double stddev, double beta);

/// \brief log(p_feasible) floored at log(min_probability), to add to a log acquisition value
/// (EI times P(feasible) in log space). The floor keeps a region the classifier has not seen
/// fail from being ruled out entirely.
double LogFeasibilityWeight(double p_feasible, double min_probability = 1e-6);

/// \brief piBO weighting in log space: log(prior(x)^(beta / n)) = beta / n * log_prior, to add
/// to a log acquisition value; the prior's influence fades as n (observations) grows.
/// Returns 0 for n <= 0 or beta == 0.
double PiBoLogWeight(double log_prior, int n, double beta);

/// \brief Which acquisition function.
enum class AcquisitionKind {
  kLogExpectedImprovement,
  kLogProbabilityOfImprovement,
  kLowerConfidenceBound,
};

/// \brief Options of an acquisition function.
struct AcquisitionOptions {
  AcquisitionKind kind = AcquisitionKind::kLogExpectedImprovement;
  double xi = 0.0;                ///< Improvement margin for EI and PI (model scale).
  double lcb_beta = 2.0;          ///< Exploration weight of the lower confidence bound.
  double pibo_beta = 0.0;         ///< piBO strength; 0 disables the prior weighting.
  double min_feasibility = 1e-6;  ///< Floor for P(feasible) in LogFeasibilityWeight.
};

/// \brief Per-candidate inputs: predictive mean and variance (model scale) and, optionally,
/// P(feasible) and log prior density for each candidate (empty vectors when absent).
struct AcquisitionInput {
  const Eigen::VectorXd* mean = nullptr;
  const Eigen::VectorXd* variance = nullptr;
  double best = 0.0;                            ///< Incumbent (lowest observed value, model scale).
  const Eigen::VectorXd* p_feasible = nullptr;  ///< Optional.
  const Eigen::VectorXd* log_prior = nullptr;   ///< Optional; used when pibo_beta != 0.
  int num_observations = 0;                     ///< n for the piBO exponent.
};

/// \brief A score per candidate where larger is better: log EI or log PI plus log P(feasible)
/// and the piBO log weight when given, or -LCB. LCB is not a probability-like quantity, so it
/// ignores feasibility and prior (a caller wanting both should use log EI).
class Acquisition {
 public:
  virtual ~Acquisition() = default;
  /// \brief A short name such as "log_ei".
  virtual std::string name() const = 0;
  /// \brief Scores every candidate; `score` is resized to mean->size().
  virtual void Score(const AcquisitionInput& input, Eigen::VectorXd* score) const = 0;
};

/// \brief The acquisition function for `options`.
std::unique_ptr<Acquisition> MakeAcquisition(const AcquisitionOptions& options);

}  // namespace sysopt
