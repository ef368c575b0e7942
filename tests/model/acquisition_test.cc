#include "sysopt/model/acquisition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace sysopt {
namespace {

TEST(AcquisitionTest, NormalFunctions) {
  EXPECT_NEAR(NormalCdf(0.0), 0.5, 1e-15);
  EXPECT_NEAR(NormalCdf(1.959963984540054), 0.975, 1e-12);
  EXPECT_NEAR(NormalPdf(0.0), 0.3989422804014327, 1e-15);
  for (double z : {-4.9, -2.0, 0.0, 3.0}) {
    EXPECT_NEAR(NormalLogCdf(z), std::log(NormalCdf(z)), 1e-12) << z;
  }
  // Mills-ratio asymptotics: Phi(z) ~ phi(z) / |z| (1 - 1/z^2 + 3/z^4).
  const double z = -40.0;
  const double reference = -0.5 * z * z - 0.5 * std::log(2 * M_PI) - std::log(-z) +
                           std::log(1 - 1 / (z * z) + 3 / std::pow(z, 4));
  EXPECT_NEAR(NormalLogCdf(z), reference, 1e-8);
  EXPECT_NEAR(Erfcx(3.0), std::exp(9.0) * std::erfc(3.0), 1e-14);
  const double x = 30.0;
  EXPECT_NEAR(Erfcx(x),
              1 / (x * std::sqrt(M_PI)) *
                  (1 - 1 / (2 * x * x) + 3 / (4 * std::pow(x, 4)) - 15 / (8 * std::pow(x, 6))),
              1e-12);
  EXPECT_NEAR(Erfcx(10.0 - 1e-12), Erfcx(10.0), 1e-14);
}

TEST(AcquisitionTest, LogEiEqualsLogOfDirectFormulaWhereAccurate) {
  for (double z = -5.0; z <= 5.0; z += 0.125) {
    const double sd = 0.7, best = 1.0;
    const double mean = best - z * sd;
    const double direct = ExpectedImprovement(mean, sd, best);
    EXPECT_NEAR(LogExpectedImprovement(mean, sd, best), std::log(direct), 1e-9) << z;
  }
  // Hand-checkable: z = 0 gives EI = sd * phi(0).
  EXPECT_NEAR(ExpectedImprovement(2.0, 0.5, 2.0), 0.5 * 0.3989422804014327, 1e-15);
}

TEST(AcquisitionTest, LogEiStaysFiniteAndMonotoneWhereDirectUnderflows) {
  EXPECT_EQ(ExpectedImprovement(40.0, 1.0, 0.0), 0.0);  // z = -40: the direct formula underflows.
  const double at40 = LogExpectedImprovement(40.0, 1.0, 0.0);
  EXPECT_TRUE(std::isfinite(at40));
  // h(z) ~ phi(z) / z^2 (1 - 3/z^2 + 15/z^4) for z -> -inf.
  const double z = -40.0;
  EXPECT_NEAR(at40,
              -0.5 * z * z - 0.5 * std::log(2 * M_PI) - 2 * std::log(-z) +
                  std::log(1 - 3 / (z * z) + 15 / std::pow(z, 4)),
              1e-6);
  double previous = -std::numeric_limits<double>::infinity();
  for (double zz = -1e4; zz <= 3.0; zz += (zz < -100 ? 97.3 : 0.01)) {
    const double v = LogH(zz);
    ASSERT_TRUE(std::isfinite(v)) << zz;
    ASSERT_GT(v, previous) << zz;
    previous = v;
  }
  // The branch points join continuously.
  EXPECT_NEAR(LogH(-1.0 - 1e-12), LogH(-1.0 + 1e-12), 1e-9);
  const double far = -1.0 / std::sqrt(std::numeric_limits<double>::epsilon());
  EXPECT_NEAR(LogH(far * (1 + 1e-12)) / LogH(far * (1 - 1e-12)), 1.0, 1e-9);
}

TEST(AcquisitionTest, ProbabilityOfImprovementAndLcb) {
  EXPECT_NEAR(ProbabilityOfImprovement(1.0, 2.0, 1.0), 0.5, 1e-15);
  EXPECT_NEAR(LogProbabilityOfImprovement(3.0, 1.0, 1.0), std::log(NormalCdf(-2.0)), 1e-12);
  EXPECT_TRUE(std::isfinite(LogProbabilityOfImprovement(100.0, 1.0, 0.0)));
  EXPECT_DOUBLE_EQ(LowerConfidenceBound(1.0, 0.5, 2.0), 0.0);
  EXPECT_EQ(ExpectedImprovement(0.5, 0.0, 1.0), 0.5);
  EXPECT_EQ(LogExpectedImprovement(1.5, 0.0, 1.0), -std::numeric_limits<double>::infinity());
}

TEST(AcquisitionTest, FeasibilityAndPriorWeighting) {
  EXPECT_DOUBLE_EQ(LogFeasibilityWeight(0.25), std::log(0.25));
  EXPECT_DOUBLE_EQ(LogFeasibilityWeight(0.0, 1e-3), std::log(1e-3));
  EXPECT_DOUBLE_EQ(PiBoLogWeight(-2.0, 10, 5.0), -1.0);
  EXPECT_EQ(PiBoLogWeight(-2.0, 0, 5.0), 0.0);

  Eigen::VectorXd mean(3), var(3), p(3), lp(3);
  mean << 0.0, 1.0, 2.0;
  var << 1.0, 0.25, 4.0;
  p << 1.0, 0.5, 0.1;
  lp << 0.0, -1.0, -3.0;
  AcquisitionOptions options;
  options.pibo_beta = 2.0;
  auto ei = MakeAcquisition(options);
  EXPECT_EQ(ei->name(), "log_ei");
  AcquisitionInput in;
  in.mean = &mean;
  in.variance = &var;
  in.best = 0.5;
  in.p_feasible = &p;
  in.log_prior = &lp;
  in.num_observations = 4;
  Eigen::VectorXd score;
  ei->Score(in, &score);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(
        score[i],
        std::log(ExpectedImprovement(mean[i], std::sqrt(var[i]), 0.5) * p[i]) + 2.0 / 4.0 * lp[i],
        1e-12);
  }
  options.kind = AcquisitionKind::kLowerConfidenceBound;
  MakeAcquisition(options)->Score(in, &score);
  EXPECT_DOUBLE_EQ(score[2], -(2.0 - 2.0 * 2.0));
  options.kind = AcquisitionKind::kLogProbabilityOfImprovement;
  MakeAcquisition(options)->Score(in, &score);
  EXPECT_NEAR(score[0], std::log(NormalCdf(0.5)) + 1.0 * 0.0 + 0.0, 1e-12);
}

}  // namespace
}  // namespace sysopt
