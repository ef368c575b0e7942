#include "sysopt/model/output_warping.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace sysopt {
namespace {

std::vector<double> Draw(int n, uint64_t seed, double (*f)(double z)) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(f(normal(rng)));
  return out;
}

TEST(OutputWarping, BoxCoxFormulasByHand) {
  EXPECT_NEAR(BoxCox(4.0, 0.5), (2.0 - 1.0) / 0.5, 1e-12);
  EXPECT_NEAR(BoxCox(std::exp(1.5), 0.0), 1.5, 1e-12);
  EXPECT_NEAR(BoxCox(2.0, 1e-12), std::log(2.0), 1e-9);  // continuous at 0
  EXPECT_NEAR(BoxCox(3.0, -1.0), (1.0 / 3.0 - 1.0) / -1.0, 1e-12);
  EXPECT_NEAR(YeoJohnson(3.0, 0.5), (2.0 - 1.0) / 0.5, 1e-12);  // ((x+1)^l - 1) / l
  EXPECT_NEAR(YeoJohnson(-3.0, 0.5), -(std::pow(4.0, 1.5) - 1.0) / 1.5, 1e-12);
  EXPECT_NEAR(YeoJohnson(-3.0, 2.0), -std::log(4.0), 1e-12);
  EXPECT_NEAR(YeoJohnson(0.0, 0.7), 0.0, 1e-15);
}

TEST(OutputWarping, LogNormalDataGetsTheLogarithm) {
  // exp(N(0, 1)) is Gaussian after the log: the likelihood peaks at lambda = 0.
  const auto y = Draw(400, 1, [](double z) { return std::exp(0.8 * z + 2.0); });
  const OutputWarping w = OutputWarping::Fit(y);
  EXPECT_EQ(w.family(), WarpingFamily::kBoxCox);
  EXPECT_NEAR(w.lambda(), 0.0, 0.15);
}

TEST(OutputWarping, SquaredDistancesNearZeroAreNotLogged) {
  // A chi-square-like objective with its optimum at 0 (a sum of squares): the fitted exponent is
  // near the cube root of Wilson and Hilferty, far from the logarithm that would turn the best
  // points into outliers.
  const auto y = Draw(400, 2, [](double z) { return z * z + 1e-6; });
  const OutputWarping w = OutputWarping::Fit(y);
  EXPECT_EQ(w.family(), WarpingFamily::kBoxCox);
  EXPECT_GT(w.lambda(), 0.15);
  EXPECT_LT(w.lambda(), 0.5);
}

TEST(OutputWarping, GaussianDataStaysLinearAndNegativesUseYeoJohnson) {
  const auto y = Draw(400, 3, [](double z) { return 3.0 * z - 1.0; });
  const OutputWarping w = OutputWarping::Fit(y);
  EXPECT_EQ(w.family(), WarpingFamily::kYeoJohnson);
  EXPECT_NEAR(w.lambda(), 1.0, 0.25);  // Yeo-Johnson's identity is lambda = 1
  EXPECT_EQ(OutputWarping::Fit({2.0, 2.0, 5.0}).family(), WarpingFamily::kIdentity);
  EXPECT_EQ(OutputWarping::Fit({1.0, 2.0}).family(), WarpingFamily::kIdentity);
}

TEST(OutputWarping, MonotoneWithDerivativeMatchingFiniteDifferences) {
  const std::vector<std::vector<double>> samples = {
      Draw(200, 4, [](double z) { return std::exp(z); }),
      Draw(200, 5, [](double z) { return z * z * z - 2.0; }),
      Draw(200, 6, [](double z) { return -std::exp(z); })};
  for (const auto& y : samples) {
    const OutputWarping w = OutputWarping::Fit(y);
    std::vector<double> sorted = y;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 1; i < sorted.size(); ++i) {
      if (sorted[i] > sorted[i - 1]) EXPECT_LT(w.Apply(sorted[i - 1]), w.Apply(sorted[i]));
    }
    for (double v : {sorted[10], sorted[100], sorted[190]}) {
      const double h = 1e-6 * std::max(1.0, std::abs(v));
      const double fd = (w.Apply(v + h) - w.Apply(v - h)) / (2 * h);
      EXPECT_NEAR(w.Derivative(v), fd, 1e-5 * std::max(1.0, fd)) << w.Describe() << " at " << v;
    }
  }
  const OutputWarping box = OutputWarping::Fit({1.0, 2.0, 4.0, 8.0});
  EXPECT_TRUE(box.Accepts(0.5));
  EXPECT_FALSE(box.Accepts(0.0));
  EXPECT_FALSE(box.Accepts(-1.0));
}

}  // namespace
}  // namespace sysopt
