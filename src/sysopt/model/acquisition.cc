#include "sysopt/model/acquisition.h"

#include <cmath>
#include <limits>

namespace sysopt {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kHalfLog2Pi = 0.91893853320467274178;
constexpr double kHalfLogPiOver2 = 0.22579135264472743236;
constexpr double kInvSqrtPi = 0.56418958354775628695;

// log(1 - exp(x)) for x < 0 (Mächler, 2012: pick the form that does not cancel).
double Log1mExp(double x) {
  return x > -0.6931471805599453 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
}

}  // namespace

double NormalPdf(double z) { return kInvSqrt2Pi * std::exp(-0.5 * z * z); }

double NormalCdf(double z) { return 0.5 * std::erfc(-z * kInvSqrt2); }

double Erfcx(double x) {
  if (x < 10.0) return std::exp(x * x) * std::erfc(x);
  // Asymptotic series 1 / (x sqrt(pi)) * sum_k (-1)^k (2k-1)!! / (2x^2)^k; at x >= 10 the terms
  // fall below 1e-17 long before they would start to grow.
  const double inv2x2 = 1.0 / (2.0 * x * x);
  double term = 1.0, sum = 1.0;
  for (int k = 1; k < 40; ++k) {
    term *= -(2.0 * k - 1.0) * inv2x2;
    sum += term;
    if (std::abs(term) < 1e-17) break;
  }
  return sum * kInvSqrtPi / x;
}

double NormalLogCdf(double z) {
  if (z > 0.0) return std::log1p(-0.5 * std::erfc(z * kInvSqrt2));
  if (z > -5.0) return std::log(NormalCdf(z));
  // Phi(z) = erfcx(-z / sqrt 2) exp(-z^2 / 2) / 2, with the exponential kept in log space.
  return std::log(0.5 * Erfcx(-z * kInvSqrt2)) - 0.5 * z * z;
}

double LogH(double z) {
  if (z > -1.0) return std::log(NormalPdf(z) + z * NormalCdf(z));
  // h(z) = phi(z) (1 - |z| erfcx(-z / sqrt 2) sqrt(pi / 2)) for z < 0 (Ament et al., 2023, eq. 9);
  // the direct form cancels catastrophically and then underflows.
  const double log_phi = -0.5 * z * z - kHalfLog2Pi;
  if (z > -1.0 / std::sqrt(std::numeric_limits<double>::epsilon())) {
    return log_phi + Log1mExp(std::log(Erfcx(-z * kInvSqrt2) * std::abs(z)) + kHalfLogPiOver2);
  }
  // Leading term of the asymptotic expansion, h(z) ~ phi(z) / z^2.
  return log_phi - 2.0 * std::log(std::abs(z));
}

double ExpectedImprovement(double mean, double stddev, double best, double xi) {
  const double improvement = best - mean - xi;
  if (!(stddev > 0.0)) return std::max(improvement, 0.0);
  const double z = improvement / stddev;
  return stddev * (z * NormalCdf(z) + NormalPdf(z));
}

double LogExpectedImprovement(double mean, double stddev, double best, double xi) {
  const double improvement = best - mean - xi;
  if (!(stddev > 0.0)) {
    return improvement > 0.0 ? std::log(improvement) : -std::numeric_limits<double>::infinity();
  }
  return std::log(stddev) + LogH(improvement / stddev);
}

double ProbabilityOfImprovement(double mean, double stddev, double best, double xi) {
  const double improvement = best - mean - xi;
  if (!(stddev > 0.0)) return improvement > 0.0 ? 1.0 : 0.0;
  return NormalCdf(improvement / stddev);
}

double LogProbabilityOfImprovement(double mean, double stddev, double best, double xi) {
  const double improvement = best - mean - xi;
  if (!(stddev > 0.0)) return improvement > 0.0 ? 0.0 : -std::numeric_limits<double>::infinity();
  return NormalLogCdf(improvement / stddev);
}

double LowerConfidenceBound(double mean, double stddev, double beta) {
  return mean - beta * stddev;
}

double LogFeasibilityWeight(double p_feasible, double min_probability) {
  return std::log(std::max(p_feasible, min_probability));
}

double PiBoLogWeight(double log_prior, int n, double beta) {
  if (n <= 0 || beta == 0.0) return 0.0;
  return beta / static_cast<double>(n) * log_prior;
}

namespace {

class LogImprovementAcquisition final : public Acquisition {
 public:
  LogImprovementAcquisition(const AcquisitionOptions& options, bool expected)
      : options_(options), expected_(expected) {}

  std::string name() const override { return expected_ ? "log_ei" : "log_pi"; }

  void Score(const AcquisitionInput& in, Eigen::VectorXd* score) const override {
    const Eigen::Index m = in.mean->size();
    score->resize(m);
    for (Eigen::Index i = 0; i < m; ++i) {
      const double sd = std::sqrt(std::max((*in.variance)[i], 0.0));
      double s = expected_ ? LogExpectedImprovement((*in.mean)[i], sd, in.best, options_.xi)
                           : LogProbabilityOfImprovement((*in.mean)[i], sd, in.best, options_.xi);
      if (in.p_feasible) s += LogFeasibilityWeight((*in.p_feasible)[i], options_.min_feasibility);
      if (in.log_prior && options_.pibo_beta != 0.0) {
        s += PiBoLogWeight((*in.log_prior)[i], in.num_observations, options_.pibo_beta);
      }
      (*score)[i] = s;
    }
  }

 private:
  AcquisitionOptions options_;
  bool expected_;
};

class LcbAcquisition final : public Acquisition {
 public:
  explicit LcbAcquisition(const AcquisitionOptions& options) : options_(options) {}
  std::string name() const override { return "lcb"; }
  void Score(const AcquisitionInput& in, Eigen::VectorXd* score) const override {
    *score =
        -(in.mean->array() - options_.lcb_beta * in.variance->array().max(0.0).sqrt()).matrix();
  }

 private:
  AcquisitionOptions options_;
};

}  // namespace

std::unique_ptr<Acquisition> MakeAcquisition(const AcquisitionOptions& options) {
  switch (options.kind) {
    case AcquisitionKind::kLogExpectedImprovement:
      return std::make_unique<LogImprovementAcquisition>(options, true);
    case AcquisitionKind::kLogProbabilityOfImprovement:
      return std::make_unique<LogImprovementAcquisition>(options, false);
    case AcquisitionKind::kLowerConfidenceBound:
      return std::make_unique<LcbAcquisition>(options);
  }
  return std::make_unique<LogImprovementAcquisition>(options, true);
}

}  // namespace sysopt
