#include "sysopt/model/gaussian_process.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_util.h"

namespace sysopt {
namespace {

using testing::MixedLayout;
using testing::RandomRows;

FeatureLayout OneNumeric() { return MixedLayout(1, 0, 0, {}); }

// Fixed hyperparameters for a 1-D model: signal variance s2, length scale l, noise variance.
std::unique_ptr<GaussianProcess> FixedGp(double s2, double l, double noise) {
  GpOptions options;
  options.min_noise_variance = 1e-12;
  auto gp = *GaussianProcess::Create(OneNumeric(), options, 1);
  gp->SetHyperparameters(Eigen::Vector3d(std::log(s2), std::log(l), std::log(noise)));
  return gp;
}

FitOptions NoOptimisation() {
  FitOptions o;
  o.optimize_hyperparameters = false;
  return o;
}

TEST(GaussianProcessTest, PosteriorMatchesHandComputation) {
  // Observations y(0) = 1 and y(1) = 3; standardisation: mean 2, scale sqrt(2).
  // Kernel in standardised units: Matérn 5/2, s2 = 1, l = 0.5, noise 1e-6 (jitter 1e-10).
  auto gp = FixedGp(1.0, 0.5, 1e-6);
  Eigen::MatrixXd X(2, 1);
  X << 0.0, 1.0;
  ASSERT_TRUE(gp->Fit(X, Eigen::Vector2d(1.0, 3.0), NoOptimisation()).ok());
  // Query x = 0.25: r = 0.5 to the first point, 1.5 to the second; the points are r = 2 apart.
  auto matern = [](double r) {
    const double s = std::sqrt(5.0) * r;
    return (1 + s + s * s / 3) * std::exp(-s);
  };
  const double k1 = matern(0.5), k2 = matern(1.5), k12 = matern(2.0);
  const double d = 1.0 + 1e-6 + 1e-10;  // K diagonal.
  const double det = d * d - k12 * k12;
  // K^-1 = [d, -k12; -k12, d] / det; residuals (y - 2) = (-1, 1) in original units.
  const double w1 = (d * k1 - k12 * k2) / det, w2 = (d * k2 - k12 * k1) / det;
  const double expected_mean = 2.0 + (-1.0 * w1 + 1.0 * w2);
  const double expected_var = 2.0 * (1.0 - (k1 * w1 + k2 * w2));
  // Written out: k1 = 0.828649, k2 = 0.283163, k12 = 0.138660.
  EXPECT_NEAR(k1, 0.828649, 1e-6);
  EXPECT_NEAR(k2, 0.283163, 1e-6);
  EXPECT_NEAR(k12, 0.138660, 1e-6);
  Eigen::MatrixXd q(1, 1);
  q << 0.25;
  Eigen::VectorXd mean, var;
  gp->Predict(q, &mean, &var);
  EXPECT_NEAR(mean[0], expected_mean, 1e-9);
  EXPECT_NEAR(var[0], expected_var, 1e-9);
}

TEST(GaussianProcessTest, InterpolatesWithTinyNoiseAndVarianceShrinksNearData) {
  auto gp = FixedGp(1.0, 0.2, 1e-10);
  Eigen::MatrixXd X(8, 1);
  Eigen::VectorXd y(8);
  for (int i = 0; i < 8; ++i) {
    X(i, 0) = 0.5 * i / 7.0;
    y[i] = std::sin(6.0 * X(i, 0)) + 3.0;
  }
  ASSERT_TRUE(gp->Fit(X, y, NoOptimisation()).ok());
  Eigen::VectorXd mean, var;
  gp->Predict(X, &mean, &var);
  EXPECT_LT((mean - y).cwiseAbs().maxCoeff(), 1e-4);
  EXPECT_LT(var.maxCoeff(), 1e-6);
  Eigen::MatrixXd q(2, 1);
  q << 0.26, 0.95;
  gp->Predict(q, &mean, &var);
  EXPECT_LT(var[0], 1e-2 * var[1]);
}

TEST(GaussianProcessTest, LogMarginalLikelihoodGradientMatchesFiniteDifferences) {
  const FeatureLayout layout = MixedLayout(2, 1, 3, {4});
  Rng rng(5);
  const Eigen::MatrixXd X = RandomRows(layout, 25, rng);
  Eigen::VectorXd y(25);
  for (int i = 0; i < 25; ++i) y[i] = std::sin(4 * X(i, 0)) + X(i, 2) + 0.3 * X(i, 3);
  for (bool sum : {false, true}) {
    GpOptions options;
    options.kernel.add_sum_term = sum;
    auto gp = *GaussianProcess::Create(layout, options, 3);
    FitOptions fit = NoOptimisation();
    fit.noise_variance = Eigen::VectorXd::Constant(25, 0.01);
    ASSERT_TRUE(gp->Fit(X, y, fit).ok());
    Eigen::VectorXd theta = gp->hyperparameters();
    for (Eigen::Index i = 0; i < theta.size(); ++i) theta[i] += 0.6 * (Uniform01(rng) - 0.5);
    for (bool prior : {false, true}) {
      Eigen::VectorXd grad;
      gp->LogMarginalLikelihood(theta, &grad, prior);
      for (Eigen::Index j = 0; j < theta.size(); ++j) {
        Eigen::VectorXd tp = theta, tm = theta;
        tp[j] += 1e-5;
        tm[j] -= 1e-5;
        const double fd = (gp->LogMarginalLikelihood(tp, nullptr, prior) -
                           gp->LogMarginalLikelihood(tm, nullptr, prior)) /
                          2e-5;
        EXPECT_NEAR(grad[j], fd, 1e-5 * (1.0 + std::abs(fd))) << "hyperparameter " << j;
      }
    }
  }
}

TEST(GaussianProcessTest, FitsAnObjectiveOverSequences) {
  // How often the pair (1, 2) appears in order, plus how often item 3 appears: the GP with the
  // sequence kernel, hyperparameters fitted, predicts held-out sequences well.
  const FeatureLayout layout = testing::SequenceLayout(0, 8, 4);
  const FeatureGroup& g = layout.groups[0];
  auto objective = [&](const Eigen::MatrixXd& X, Eigen::Index r) {
    const std::vector<int> items = testing::DecodeSequence(g, X, r);
    double f = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      f += 0.5 * (items[i] == 3);
      if (i + 1 < items.size()) f += items[i] == 1 && items[i + 1] == 2;
    }
    return f;
  };
  Rng rng(6);
  const Eigen::MatrixXd X = RandomRows(layout, 80, rng);
  Eigen::VectorXd y(X.rows());
  for (Eigen::Index r = 0; r < X.rows(); ++r) y[r] = objective(X, r);
  auto gp = *GaussianProcess::Create(layout, GpOptions{}, 2);
  ASSERT_TRUE(gp->Fit(X, y, FitOptions{}).ok());
  const Eigen::MatrixXd Q = RandomRows(layout, 100, rng);
  Eigen::VectorXd truth(Q.rows()), mean, var;
  for (Eigen::Index r = 0; r < Q.rows(); ++r) truth[r] = objective(Q, r);
  gp->Predict(Q, &mean, &var);
  const Eigen::ArrayXd a = truth.array() - truth.mean(), b = mean.array() - mean.mean();
  const double correlation = (a * b).sum() / std::sqrt(a.square().sum() * b.square().sum());
  EXPECT_GT(correlation, 0.8);
  EXPECT_TRUE((var.array() >= 0).all());
  // The likelihood gradient through the sequence kernel matches finite differences (away from
  // the bounds, with a known noise, as for the other kernels).
  auto fixed = *GaussianProcess::Create(layout, GpOptions{}, 3);
  FitOptions fit = NoOptimisation();
  fit.noise_variance = Eigen::VectorXd::Constant(X.rows(), 0.01);
  ASSERT_TRUE(fixed->Fit(X, y, fit).ok());
  Eigen::VectorXd theta = fixed->hyperparameters();
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta[i] += 0.6 * (Uniform01(rng) - 0.5);
  for (bool prior : {false, true}) {
    Eigen::VectorXd grad;
    fixed->LogMarginalLikelihood(theta, &grad, prior);
    for (Eigen::Index j = 0; j < theta.size(); ++j) {
      Eigen::VectorXd tp = theta, tm = theta;
      tp[j] += 1e-5;
      tm[j] -= 1e-5;
      const double fd = (fixed->LogMarginalLikelihood(tp, nullptr, prior) -
                         fixed->LogMarginalLikelihood(tm, nullptr, prior)) /
                        2e-5;
      EXPECT_NEAR(grad[j], fd, 1e-5 * (1.0 + std::abs(fd))) << "hyperparameter " << j;
    }
  }
}

TEST(GaussianProcessTest, IncrementalUpdateEqualsFullRefactorisation) {
  const FeatureLayout layout = MixedLayout(3, 1, 3, {4});
  Rng rng(9);
  const Eigen::MatrixXd X = RandomRows(layout, 30, rng);
  Eigen::VectorXd y(30);
  for (int i = 0; i < 30; ++i) y[i] = X(i, 0) * X(i, 1) + std::cos(3 * X(i, 2)) + 0.2 * X(i, 3);
  GpOptions options;
  options.max_iterations = 15;
  auto gp = *GaussianProcess::Create(layout, options, 4);
  ASSERT_TRUE(gp->Fit(X.topRows(20), y.head(20), FitOptions{}).ok());
  GaussianProcess full(*gp);
  ASSERT_TRUE(gp->AddObservations(X.bottomRows(10), y.tail(10), Eigen::VectorXd()).ok());
  EXPECT_EQ(gp->num_observations(), 30);
  FitOptions refit = NoOptimisation();
  refit.keep_output_scaling = true;
  ASSERT_TRUE(full.Fit(X, y, refit).ok());

  const Eigen::MatrixXd Q = RandomRows(layout, 50, rng);
  Eigen::VectorXd m1, v1, m2, v2;
  gp->Predict(Q, &m1, &v1);
  full.Predict(Q, &m2, &v2);
  EXPECT_LT((m1 - m2).cwiseAbs().maxCoeff(), 1e-7);
  EXPECT_LT((v1 - v2).cwiseAbs().maxCoeff(), 1e-7);

  // Removing the appended rows restores the 20-point model.
  GaussianProcess twenty(full);
  ASSERT_TRUE(twenty.Fit(X.topRows(20), y.head(20), refit).ok());
  gp->RemoveLastObservations(10);
  gp->Predict(Q, &m1, &v1);
  twenty.Predict(Q, &m2, &v2);
  EXPECT_LT((m1 - m2).cwiseAbs().maxCoeff(), 1e-7);
  EXPECT_LT((v1 - v2).cwiseAbs().maxCoeff(), 1e-7);
}

TEST(GaussianProcessTest, FantasyKeepsMeanAndShrinksVariance) {
  const FeatureLayout layout = MixedLayout(2, 0, 0, {});
  Rng rng(12);
  const Eigen::MatrixXd X = RandomRows(layout, 15, rng);
  Eigen::VectorXd y = (X.col(0).array() * 3).sin() + X.col(1).array();
  auto gp = *GaussianProcess::Create(layout, GpOptions{}, 2);
  ASSERT_TRUE(gp->Fit(X, y, FitOptions{}).ok());
  Eigen::MatrixXd pending(1, 2);
  pending << 0.9, 0.1;
  Eigen::VectorXd m0, v0, m1, v1;
  gp->Predict(pending, &m0, &v0);
  auto fantasy = gp->WithFantasies(pending);
  fantasy->Predict(pending, &m1, &v1);
  EXPECT_NEAR(m1[0], m0[0], 1e-6);
  EXPECT_LT(v1[0], 0.1 * v0[0]);
  EXPECT_EQ(gp->num_observations(), 15);
  EXPECT_EQ(fantasy->num_observations(), 16);
}

double FittedLengthScale(double (*f)(double)) {
  auto gp = *GaussianProcess::Create(OneNumeric(), GpOptions{}, 21);
  Eigen::MatrixXd X(30, 1);
  Eigen::VectorXd y(30);
  for (int i = 0; i < 30; ++i) {
    X(i, 0) = (i + 0.5) / 30.0;
    y[i] = f(X(i, 0));
  }
  EXPECT_TRUE(gp->Fit(X, y, FitOptions{}).ok());
  return std::exp(gp->kernel().hyperparameters()[1]);
}

TEST(GaussianProcessTest, FitRecoversShortAndLongLengthScales) {
  const double wiggly = FittedLengthScale([](double x) { return std::sin(30.0 * x); });
  const double smooth = FittedLengthScale([](double x) { return 0.5 * x + 0.2 * x * x; });
  EXPECT_LT(wiggly, 0.2);
  EXPECT_GT(smooth, 0.6);
  EXPECT_GT(smooth, 5.0 * wiggly);
}

TEST(GaussianProcessTest, LogTransformPredictsInModelAndOriginalScale) {
  GpOptions options;
  options.log_transform = true;
  options.learn_noise = false;
  options.noise_variance = 1e-8;
  options.min_noise_variance = 1e-10;
  auto gp = *GaussianProcess::Create(OneNumeric(), options, 1);
  Eigen::MatrixXd X(10, 1);
  Eigen::VectorXd y(10);
  for (int i = 0; i < 10; ++i) {
    X(i, 0) = i / 9.0;
    y[i] = std::exp(4.0 * X(i, 0));
  }
  ASSERT_TRUE(gp->Fit(X, y, FitOptions{}).ok());
  Eigen::VectorXd mean, var;
  gp->Predict(X, &mean, &var);
  EXPECT_LT((mean - 4.0 * X.col(0)).cwiseAbs().maxCoeff(), 1e-3);
  EXPECT_NEAR(gp->TransformObjective(std::exp(1.0)), 1.0, 1e-12);
  gp->PredictOriginalScale(X, &mean, &var);
  EXPECT_LT(((mean - y).array() / y.array()).abs().maxCoeff(), 1e-3);

  y[3] = -1.0;
  auto bad = gp->Fit(X, y, FitOptions{});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("y[3]"), std::string::npos);
}

TEST(GaussianProcessTest, KnownNoiseWeighsObservations) {
  // Two observations at the same point: the precise one dominates the posterior mean.
  auto gp = FixedGp(1.0, 0.3, 1e-6);
  Eigen::MatrixXd X(3, 1);
  X << 0.5, 0.5, 0.0;
  FitOptions fit = NoOptimisation();
  fit.noise_variance = Eigen::Vector3d(1e-4, 100.0, 1e-4);
  ASSERT_TRUE(gp->Fit(X, Eigen::Vector3d(1.0, 5.0, 1.0), fit).ok());
  Eigen::MatrixXd q(1, 1);
  q << 0.5;
  Eigen::VectorXd mean;
  gp->Predict(q, &mean, nullptr);
  EXPECT_NEAR(mean[0], 1.0, 0.05);
}

TEST(GaussianProcessTest, CapsFitSetAndRejectsBadInput) {
  GpOptions options;
  options.max_points = 20;
  options.max_iterations = 10;
  auto gp = *GaussianProcess::Create(OneNumeric(), options, 1);
  Rng rng(1);
  Eigen::MatrixXd X = RandomRows(OneNumeric(), 50, rng);
  Eigen::VectorXd y = X.col(0);
  ASSERT_TRUE(gp->Fit(X, y, FitOptions{}).ok());
  EXPECT_EQ(gp->num_observations(), 20);
  EXPECT_FALSE(gp->Fit(Eigen::MatrixXd::Zero(3, 2), Eigen::VectorXd::Zero(3), FitOptions{}).ok());
  Eigen::VectorXd nan_y = y;
  nan_y[4] = std::nan("");
  EXPECT_FALSE(gp->Fit(X, nan_y, FitOptions{}).ok());
  EXPECT_EQ(gp->num_observations(), 20);
}

TEST(GaussianProcessTest, FactoryGivesSurrogate) {
  auto s = MakeGaussianProcess(MixedLayout(2, 1, 2, {3}), GpOptions{}, 1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->name(), "gp");
  Rng rng(2);
  const Eigen::MatrixXd X = RandomRows(MixedLayout(2, 1, 2, {3}), 12, rng);
  ASSERT_TRUE((*s)->Fit(X, X.col(0), FitOptions{}).ok());
  Eigen::VectorXd mean, var;
  (*s)->Predict(X, &mean, &var);
  EXPECT_EQ(mean.size(), 12);
  EXPECT_TRUE((var.array() > 0).all());
  EXPECT_FALSE(MakeGaussianProcess(FeatureLayout{}, GpOptions{}, 1).ok());
}

}  // namespace
}  // namespace sysopt
