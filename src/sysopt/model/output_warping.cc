#include "sysopt/model/output_warping.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace sysopt {
namespace {

constexpr double kMinLambda = -2.0;
constexpr double kMaxLambda = 2.0;
// |lambda| below this is treated as 0 (the limit form), where (y^l - 1) / l cancels.
constexpr double kTinyLambda = 1e-8;

// (exp(l * t) - 1) / l without cancellation for small l * t; t at l = 0.
double PowerMinusOneOver(double t, double lambda) {
  if (std::abs(lambda) < kTinyLambda) return t;
  return std::expm1(lambda * t) / lambda;
}

// The variance of the transformed sample (maximum-likelihood form, divided by n).
double Variance(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  return var / static_cast<double>(v.size());
}

// Maximises a function of lambda on [kMinLambda, kMaxLambda]: a coarse grid guards against the
// rare second mode, golden-section search refines the best cell.
double MaximiseOverLambda(const std::function<double(double)>& f) {
  constexpr int kGrid = 16;
  double best_x = 0.0, best_f = -std::numeric_limits<double>::infinity();
  for (int i = 0; i <= kGrid; ++i) {
    const double x = kMinLambda + (kMaxLambda - kMinLambda) * i / kGrid;
    const double v = f(x);
    if (v > best_f) {
      best_f = v;
      best_x = x;
    }
  }
  const double cell = (kMaxLambda - kMinLambda) / kGrid;
  double a = std::max(kMinLambda, best_x - cell), b = std::min(kMaxLambda, best_x + cell);
  const double ratio = (std::sqrt(5.0) - 1.0) / 2.0;
  double c = b - ratio * (b - a), d = a + ratio * (b - a);
  double fc = f(c), fd = f(d);
  for (int it = 0; it < 40; ++it) {
    if (fc > fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = f(d);
    }
  }
  const double x = 0.5 * (a + b);
  return f(x) >= best_f ? x : best_x;
}

}  // namespace

double BoxCox(double y, double lambda) { return PowerMinusOneOver(std::log(y), lambda); }

double YeoJohnson(double x, double lambda) {
  if (x >= 0) return PowerMinusOneOver(std::log1p(x), lambda);
  return -PowerMinusOneOver(std::log1p(-x), 2.0 - lambda);
}

double BoxCoxLogLikelihood(const std::vector<double>& y, double lambda) {
  std::vector<double> t(y.size());
  double log_sum = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    t[i] = BoxCox(y[i], lambda);
    log_sum += std::log(y[i]);
  }
  const double var = Variance(t);
  if (!(var > 0) || !std::isfinite(var)) return -std::numeric_limits<double>::infinity();
  const double n = static_cast<double>(y.size());
  return -0.5 * n * std::log(var) + (lambda - 1.0) * log_sum;
}

double YeoJohnsonLogLikelihood(const std::vector<double>& x, double lambda) {
  std::vector<double> t(x.size());
  double jacobian = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    t[i] = YeoJohnson(x[i], lambda);
    jacobian += std::copysign(std::log1p(std::abs(x[i])), x[i]);
  }
  const double var = Variance(t);
  if (!(var > 0) || !std::isfinite(var)) return -std::numeric_limits<double>::infinity();
  const double n = static_cast<double>(x.size());
  return -0.5 * n * std::log(var) + (lambda - 1.0) * jacobian;
}

OutputWarping OutputWarping::Fit(const std::vector<double>& y) {
  std::vector<double> sorted = y;
  std::sort(sorted.begin(), sorted.end());
  const auto distinct = std::unique(sorted.begin(), sorted.end()) - sorted.begin();
  if (distinct < 3) return OutputWarping();
  if (sorted.front() > 0) {
    // Box-Cox is scale-equivariant in lambda: no normalisation needed.
    const double lambda = MaximiseOverLambda([&](double l) { return BoxCoxLogLikelihood(y, l); });
    return OutputWarping(WarpingFamily::kBoxCox, lambda, 0.0, 1.0);
  }
  // Yeo-Johnson is not: it bends around 0 on the data's own scale, so the values are centred on
  // their median and divided by their standard deviation first.
  std::vector<double> middle(y);
  std::nth_element(middle.begin(), middle.begin() + middle.size() / 2, middle.end());
  const double shift = middle[middle.size() / 2];
  const double scale = std::sqrt(Variance(y));
  if (!(scale > 0) || !std::isfinite(scale)) return OutputWarping();
  std::vector<double> x(y.size());
  for (size_t i = 0; i < y.size(); ++i) x[i] = (y[i] - shift) / scale;
  const double lambda = MaximiseOverLambda([&](double l) { return YeoJohnsonLogLikelihood(x, l); });
  return OutputWarping(WarpingFamily::kYeoJohnson, lambda, shift, scale);
}

bool OutputWarping::Accepts(double y) const {
  if (!std::isfinite(y)) return false;
  return family_ != WarpingFamily::kBoxCox || y > 0;
}

double OutputWarping::Apply(double y) const {
  switch (family_) {
    case WarpingFamily::kIdentity:
      return y;
    case WarpingFamily::kBoxCox:
      return BoxCox(y, lambda_);
    case WarpingFamily::kYeoJohnson:
      return YeoJohnson(Argument(y), lambda_);
  }
  return y;
}

double OutputWarping::Derivative(double y) const {
  switch (family_) {
    case WarpingFamily::kIdentity:
      return 1.0;
    case WarpingFamily::kBoxCox:
      return std::exp((lambda_ - 1.0) * std::log(y));
    case WarpingFamily::kYeoJohnson: {
      const double x = Argument(y);
      const double d = x >= 0 ? std::exp((lambda_ - 1.0) * std::log1p(x))
                              : std::exp((1.0 - lambda_) * std::log1p(-x));
      return d / scale_;
    }
  }
  return 1.0;
}

std::string OutputWarping::Describe() const {
  switch (family_) {
    case WarpingFamily::kIdentity:
      return "identity";
    case WarpingFamily::kBoxCox:
      return fmt::format("box-cox({:.17g})", lambda_);
    case WarpingFamily::kYeoJohnson:
      return fmt::format("yeo-johnson({:.17g},{:.17g},{:.17g})", lambda_, shift_, scale_);
  }
  return "identity";
}

}  // namespace sysopt
