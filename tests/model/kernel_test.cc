#include "sysopt/model/kernel.h"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <vector>

#include "test_util.h"

namespace sysopt {
namespace {

using testing::MixedLayout;
using testing::RandomRows;

// Layout: x0, x1 numeric; c0, c1 categorical with 3 choices; one permutation of 5 at 4..8.
FeatureLayout Layout() { return MixedLayout(2, 2, 3, {5}); }

void PerturbHyperparameters(Kernel& k, Rng& rng) {
  Eigen::VectorXd theta = k.hyperparameters();
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta[i] += Uniform01(rng) - 0.5;
  k.SetHyperparameters(theta);
}

// Central finite differences of the Gram matrix against GramGradient, entry by entry.
void ExpectGradientMatchesFiniteDifferences(Kernel& k, const Eigen::MatrixXd& X) {
  std::vector<Eigen::MatrixXd> dK;
  k.GramGradient(X, &dK);
  ASSERT_EQ(static_cast<int>(dK.size()), k.num_hyperparameters());
  const Eigen::VectorXd theta = k.hyperparameters();
  const double h = 1e-5;
  for (int j = 0; j < k.num_hyperparameters(); ++j) {
    Eigen::VectorXd tp = theta, tm = theta;
    tp[j] += h;
    tm[j] -= h;
    Eigen::MatrixXd Kp, Km;
    k.SetHyperparameters(tp);
    k.Gram(X, X, &Kp);
    k.SetHyperparameters(tm);
    k.Gram(X, X, &Km);
    k.SetHyperparameters(theta);
    const Eigen::MatrixXd fd = (Kp - Km) / (2 * h);
    EXPECT_LT((fd - dK[static_cast<size_t>(j)]).cwiseAbs().maxCoeff(), 1e-7)
        << k.name() << " hyperparameter " << k.specs()[static_cast<size_t>(j)].name;
  }
}

void ExpectValidKernel(const Kernel& k, const Eigen::MatrixXd& X) {
  Eigen::MatrixXd K;
  k.Gram(X, X, &K);
  EXPECT_LT((K - K.transpose()).cwiseAbs().maxCoeff(), 1e-12) << k.name();
  EXPECT_LT((K.diagonal().array() - k.Diagonal()).abs().maxCoeff(), 1e-12) << k.name();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(K);
  EXPECT_GT(eig.eigenvalues().minCoeff(), -1e-10 * K.rows()) << k.name();
}

std::vector<std::unique_ptr<Kernel>> AllKernels(const FeatureLayout& layout) {
  std::vector<std::unique_ptr<Kernel>> out;
  out.push_back(MakeMaternArdKernel({0, 1}));
  out.push_back(MakeOverlapKernel({2, 3}));
  for (auto kind :
       {PermutationKernel::kSpearman, PermutationKernel::kKendall, PermutationKernel::kHamming}) {
    out.push_back(MakePermutationKernel(kind, 4, 5));
    for (bool sum : {false, true}) out.push_back(*MakeKernel(layout, {kind, sum}));
  }
  return out;
}

TEST(KernelTest, GradientsMatchFiniteDifferencesForEveryKind) {
  const FeatureLayout layout = Layout();
  Rng rng(7);
  const Eigen::MatrixXd X = RandomRows(layout, 12, rng);
  for (auto& k : AllKernels(layout)) {
    PerturbHyperparameters(*k, rng);
    ExpectGradientMatchesFiniteDifferences(*k, X);
  }
}

TEST(KernelTest, KernelsAreSymmetricWithConstantDiagonalAndPsd) {
  const FeatureLayout layout = Layout();
  Rng rng(11);
  const Eigen::MatrixXd X = RandomRows(layout, 40, rng);
  for (auto& k : AllKernels(layout)) {
    PerturbHyperparameters(*k, rng);
    ExpectValidKernel(*k, X);
  }
}

TEST(KernelTest, ProductKernelDiagonalIsSignalVariance) {
  auto k = *MakeKernel(Layout(), {});
  Eigen::VectorXd theta = k->hyperparameters();
  theta[0] = std::log(2.5);
  k->SetHyperparameters(theta);
  Rng rng(3);
  const Eigen::MatrixXd X = RandomRows(Layout(), 5, rng);
  Eigen::MatrixXd K;
  k->Gram(X, X, &K);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(K(i, i), 2.5, 1e-12);
  EXPECT_NEAR(k->Diagonal(), 2.5, 1e-12);
}

TEST(KernelTest, MaternMatchesClosedForm) {
  auto k = MakeMaternArdKernel({0, 1});
  k->SetHyperparameters(Eigen::Vector2d(std::log(0.5), std::log(2.0)));
  Eigen::MatrixXd a(1, 2), b(1, 2);
  a << 0.1, 0.2;
  b << 0.4, 1.0;
  // r = sqrt((0.3 / 0.5)^2 + (0.8 / 2)^2) = sqrt(0.36 + 0.16) = sqrt(0.52).
  const double s = std::sqrt(5.0 * 0.52);
  Eigen::MatrixXd K;
  k->Gram(a, b, &K);
  EXPECT_NEAR(K(0, 0), (1 + s + s * s / 3) * std::exp(-s), 1e-14);
}

TEST(KernelTest, OverlapCountsMismatchesWithWeights) {
  auto k = MakeOverlapKernel({0, 1});
  k->SetHyperparameters(Eigen::Vector2d(std::log(0.3), std::log(2.0)));
  Eigen::MatrixXd X(3, 2);
  X << 0, 1,  //
      0, 2,   //
      1, 2;
  Eigen::MatrixXd K;
  k->Gram(X, X, &K);
  EXPECT_NEAR(K(0, 1), std::exp(-2.0), 1e-14);
  EXPECT_NEAR(K(1, 2), std::exp(-0.3), 1e-14);
  EXPECT_NEAR(K(0, 2), std::exp(-2.3), 1e-14);
}

TEST(KernelTest, PermutationDistances) {
  const std::vector<int> id = {0, 1, 2, 3, 4};
  const std::vector<int> rev = {4, 3, 2, 1, 0};
  const std::vector<int> swap = {1, 0, 2, 3, 4};
  const std::vector<int> shift = {1, 2, 3, 4, 0};
  using PK = PermutationKernel;
  for (auto kind : {PK::kSpearman, PK::kKendall, PK::kHamming}) {
    EXPECT_EQ(PermutationDistance(kind, id.data(), id.data(), 5), 0.0);
    EXPECT_EQ(PermutationDistance(kind, shift.data(), shift.data(), 5), 0.0);
  }
  // The reversed permutation is the farthest one for Spearman and Kendall.
  EXPECT_DOUBLE_EQ(PermutationDistance(PK::kKendall, id.data(), rev.data(), 5), 1.0);
  EXPECT_DOUBLE_EQ(PermutationDistance(PK::kSpearman, id.data(), rev.data(), 5), 1.0);
  // One adjacent swap: 1 of 10 pairs discordant; squared displacement 2 of 40; 2 of 5 positions.
  EXPECT_DOUBLE_EQ(PermutationDistance(PK::kKendall, id.data(), swap.data(), 5), 0.1);
  EXPECT_DOUBLE_EQ(PermutationDistance(PK::kSpearman, id.data(), swap.data(), 5), 0.05);
  EXPECT_DOUBLE_EQ(PermutationDistance(PK::kHamming, id.data(), swap.data(), 5), 0.4);
  // A cyclic shift moves every element: maximal Hamming distance.
  EXPECT_DOUBLE_EQ(PermutationDistance(PK::kHamming, id.data(), shift.data(), 5), 1.0);
  // Symmetry.
  EXPECT_DOUBLE_EQ(PermutationDistance(PK::kKendall, shift.data(), swap.data(), 5),
                   PermutationDistance(PK::kKendall, swap.data(), shift.data(), 5));
}

TEST(KernelTest, PermutationKernelValues) {
  for (auto kind :
       {PermutationKernel::kSpearman, PermutationKernel::kKendall, PermutationKernel::kHamming}) {
    auto k = MakePermutationKernel(kind, 1, 4);
    k->SetHyperparameters(Eigen::VectorXd::Constant(1, std::log(3.0)));
    Eigen::MatrixXd X(3, 5);
    X << 0.7, 0, 1, 2, 3,  //
        0.1, 0, 1, 2, 3,   //
        0.5, 3, 2, 1, 0;
    Eigen::MatrixXd K;
    k->Gram(X, X, &K);
    EXPECT_DOUBLE_EQ(K(0, 1), 1.0) << k->name();  // Column 0 is not part of the group.
    if (kind != PermutationKernel::kHamming) {
      EXPECT_NEAR(K(0, 2), std::exp(-3.0), 1e-14) << k->name();
    }
    EXPECT_LT(K(0, 2), K(0, 0));
  }
  // In the combined kernel identical permutations give the signal variance.
  FeatureLayout layout = MixedLayout(0, 0, 0, {4});
  auto k = *MakeKernel(layout, {PermutationKernel::kKendall, false});
  Eigen::VectorXd theta = k->hyperparameters();
  theta[0] = std::log(1.7);
  k->SetHyperparameters(theta);
  Eigen::MatrixXd X(2, 4);
  X << 2, 0, 3, 1,  //
      2, 0, 3, 1;
  Eigen::MatrixXd K;
  k->Gram(X, X, &K);
  EXPECT_NEAR(K(0, 1), 1.7, 1e-12);
}

TEST(KernelTest, MakeKernelRejectsBadLayouts) {
  EXPECT_FALSE(MakeKernel(FeatureLayout{}, {}).ok());
  FeatureLayout layout = MixedLayout(1, 0, 0, {3});
  layout.width = 3;  // The permutation needs columns 1..3.
  auto k = MakeKernel(layout, {});
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().message().find("p0"), std::string::npos);
}

TEST(KernelTest, HyperparameterCountsAndNames) {
  auto k = *MakeKernel(MixedLayout(5, 2, 3, {4}), {PermutationKernel::kSpearman, true});
  // log s2, logit w, 5 length scales, 2 category weights, 1 permutation weight.
  EXPECT_EQ(k->num_hyperparameters(), 10);
  EXPECT_EQ(k->specs()[0].name, "log_signal_variance");
  auto clone = k->Clone();
  EXPECT_EQ(clone->hyperparameters(), k->hyperparameters());
}

}  // namespace
}  // namespace sysopt
