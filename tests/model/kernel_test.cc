#include "sysopt/model/kernel.h"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "test_util.h"

namespace sysopt {
namespace {

using testing::EncodeSequence;
using testing::MixedLayout;
using testing::RandomRows;
using testing::SequenceLayout;

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

// ContractGradient is the derivative of sum(W o K) in each hyperparameter: checked against central
// finite differences of that sum, for a random symmetric W, for every kind (the Matern, overlap
// and product kernels contract directly, the others through GramGradient).
TEST(KernelTest, ContractedGradientsMatchFiniteDifferencesForEveryKind) {
  const FeatureLayout layout = Layout();
  Rng rng(11);
  const Eigen::MatrixXd X = RandomRows(layout, 12, rng);
  Eigen::MatrixXd W(12, 12);
  for (Eigen::Index i = 0; i < 12; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) W(i, j) = W(j, i) = Uniform01(rng) - 0.5;
  }
  for (auto& k : AllKernels(layout)) {
    PerturbHyperparameters(*k, rng);
    Eigen::VectorXd contracted;
    k->ContractGradient(X, W, &contracted);
    ASSERT_EQ(contracted.size(), k->num_hyperparameters()) << k->name();
    const Eigen::VectorXd theta = k->hyperparameters();
    const double h = 1e-5;
    for (int j = 0; j < k->num_hyperparameters(); ++j) {
      Eigen::VectorXd tp = theta, tm = theta;
      tp[j] += h;
      tm[j] -= h;
      Eigen::MatrixXd Kp, Km;
      k->SetHyperparameters(tp);
      k->Gram(X, X, &Kp);
      k->SetHyperparameters(tm);
      k->Gram(X, X, &Km);
      k->SetHyperparameters(theta);
      const double fd = (W.cwiseProduct(Kp).sum() - W.cwiseProduct(Km).sum()) / (2 * h);
      EXPECT_NEAR(contracted[j], fd, 1e-6 * std::max(1.0, std::abs(fd)))
          << k->name() << " hyperparameter " << k->specs()[static_cast<size_t>(j)].name;
    }
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

// ---------------------------------------------------------------- sequences

// Layout: x0 numeric; a sequence of up to 6 items over 4 symbols at columns 1..10.
FeatureLayout SeqLayout() { return SequenceLayout(1, 6, 4); }

std::vector<std::unique_ptr<Kernel>> SequenceKernels(const FeatureLayout& layout) {
  std::vector<std::unique_ptr<Kernel>> out;
  out.push_back(MakeSequenceKernel(1, 6, 4));
  for (bool sum : {false, true})
    out.push_back(*MakeKernel(layout, {PermutationKernel::kSpearman, sum}));
  return out;
}

TEST(KernelTest, SequenceGradientsMatchFiniteDifferences) {
  const FeatureLayout layout = SeqLayout();
  Rng rng(19);
  const Eigen::MatrixXd X = RandomRows(layout, 14, rng);
  for (auto& k : SequenceKernels(layout)) {
    PerturbHyperparameters(*k, rng);
    ExpectGradientMatchesFiniteDifferences(*k, X);
  }
}

TEST(KernelTest, SequenceKernelIsSymmetricWithUnitDiagonalAndPsd) {
  const FeatureLayout layout = SeqLayout();
  Rng rng(23);
  const Eigen::MatrixXd X = RandomRows(layout, 60, rng);
  for (auto& k : SequenceKernels(layout)) {
    for (int t = 0; t < 3; ++t) {
      PerturbHyperparameters(*k, rng);
      ExpectValidKernel(*k, X);
    }
  }
  // Large weights as well: the kernel stays positive semi-definite whatever they are.
  auto k = MakeSequenceKernel(1, 6, 4);
  k->SetHyperparameters(Eigen::Vector2d(std::log(40.0), std::log(0.02)));
  ExpectValidKernel(*k, X);
  k->SetHyperparameters(Eigen::Vector2d(std::log(0.02), std::log(40.0)));
  ExpectValidKernel(*k, X);
}

TEST(KernelTest, SequenceDistancesByHand) {
  // Same items, two swapped: no item distance. Bigrams with start S and end E:
  // S0 01 12 2E against S0 02 21 1E share only S0, 6 differ, over max_length + 1 = 5.
  auto d = SequenceDistances({0, 1, 2}, {0, 2, 1}, 4, 3);
  EXPECT_DOUBLE_EQ(d.first, 0.0);
  EXPECT_DOUBLE_EQ(d.second, 6.0 / 5);
  // One insertion: one item more (1 / 4); bigram 01 replaced by 02 and 21 (3 / 5).
  d = SequenceDistances({0, 1}, {0, 2, 1}, 4, 3);
  EXPECT_DOUBLE_EQ(d.first, 1.0 / 4);
  EXPECT_DOUBLE_EQ(d.second, 3.0 / 5);
  // One replacement: two item counts change by one; 01 1E against 02 2E.
  d = SequenceDistances({0, 1}, {0, 2}, 4, 3);
  EXPECT_DOUBLE_EQ(d.first, 2.0 / 4);
  EXPECT_DOUBLE_EQ(d.second, 4.0 / 5);
  // The empty sequence: SE against S1 1E.
  d = SequenceDistances({}, {1}, 4, 3);
  EXPECT_DOUBLE_EQ(d.first, 1.0 / 4);
  EXPECT_DOUBLE_EQ(d.second, 3.0 / 5);
  EXPECT_EQ(SequenceDistances({}, {}, 4, 3), std::make_pair(0.0, 0.0));
  EXPECT_EQ(SequenceDistances({2, 2, 1}, {2, 2, 1}, 4, 3), std::make_pair(0.0, 0.0));
  // Repeated items count: 0 0 against 0 (one item, bigrams S0 00 0E against S0 0E).
  d = SequenceDistances({0, 0}, {0}, 4, 3);
  EXPECT_DOUBLE_EQ(d.first, 1.0 / 4);
  EXPECT_DOUBLE_EQ(d.second, 1.0 / 5);
  // Symmetric.
  EXPECT_EQ(SequenceDistances({3, 1, 0}, {1, 3}, 4, 4), SequenceDistances({1, 3}, {3, 1, 0}, 4, 4));
}

TEST(KernelTest, SequenceKernelValuesFromEncodedRows) {
  const FeatureLayout layout = SequenceLayout(1, 4, 3);
  const FeatureGroup& g = layout.groups[1];
  Eigen::MatrixXd X(3, layout.width);
  X(0, 0) = 0.9;
  X(1, 0) = 0.1;  // Column 0 is not part of the group.
  X(2, 0) = 0.5;
  EncodeSequence(g, {0, 1, 2}, X, 0);
  EncodeSequence(g, {0, 1, 2}, X, 1);
  EncodeSequence(g, {0, 2, 1}, X, 2);
  auto k = MakeSequenceKernel(g.offset, g.max_length, g.n_choices);
  EXPECT_EQ(k->num_hyperparameters(), 2);
  const double w_items = 0.7, w_order = 2.0;
  k->SetHyperparameters(Eigen::Vector2d(std::log(w_items), std::log(w_order)));
  Eigen::MatrixXd K;
  k->Gram(X, X, &K);
  EXPECT_DOUBLE_EQ(K(0, 1), 1.0);
  EXPECT_NEAR(K(0, 2), std::exp(-(w_items * 0.0 + w_order * 6.0 / 5)), 1e-14);
  // Against other rows (a different matrix) the same values.
  Eigen::MatrixXd Y = X.bottomRows(1), K2;
  k->Gram(X, Y, &K2);
  ASSERT_EQ(K2.rows(), 3);
  ASSERT_EQ(K2.cols(), 1);
  EXPECT_NEAR(K2(0, 0), K(0, 2), 1e-15);
  EXPECT_NEAR(K2(2, 0), 1.0, 1e-15);
}

TEST(KernelTest, SequenceKernelAgreesWithTheDistancesForSmallAndLargeAlphabets) {
  // Small alphabets count bigrams in a table, large ones (more than ~250 items) merge sorted
  // lists: both give the distances of SequenceDistances.
  for (int symbols : {5, 300}) {
    const FeatureLayout layout = SequenceLayout(0, 7, symbols);
    Rng rng(static_cast<uint64_t>(symbols));
    Eigen::MatrixXd X = RandomRows(layout, 12, rng);
    // Repeated items and shared pairs, so that overlaps are not all zero.
    testing::EncodeSequence(layout.groups[0], {1, 1, 2, 1, 1}, X, 0);
    testing::EncodeSequence(layout.groups[0], {1, 2, 1, 1}, X, 1);
    auto k = MakeSequenceKernel(0, 7, symbols);
    const double w_items = 0.8, w_order = 1.7;
    k->SetHyperparameters(Eigen::Vector2d(std::log(w_items), std::log(w_order)));
    Eigen::MatrixXd K, K_rows;
    k->Gram(X, X, &K);
    const Eigen::MatrixXd Y = X.topRows(5);
    k->Gram(X, Y, &K_rows);
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      for (Eigen::Index j = 0; j < X.rows(); ++j) {
        const auto [d_items, d_order] =
            SequenceDistances(testing::DecodeSequence(layout.groups[0], X, i),
                              testing::DecodeSequence(layout.groups[0], X, j), 7, symbols);
        const double want = std::exp(-(w_items * d_items + w_order * d_order));
        EXPECT_NEAR(K(i, j), want, 1e-14) << symbols << " " << i << " " << j;
        if (j < Y.rows()) {
          EXPECT_NEAR(K_rows(i, j), want, 1e-14) << symbols << " " << i << " " << j;
        }
      }
    }
  }
}

TEST(KernelTest, SingleEditsStayCloserThanUnrelatedSequences) {
  // The neighbourhood moves of local search change the distances by a few counts, so a sequence
  // correlates more with its edits than with a random other sequence.
  const int length = 40, symbols = 120;
  Rng rng(31);
  double near = 0, far = 0;
  for (int t = 0; t < 50; ++t) {
    std::vector<int> x(30), y(30);
    for (int& v : x) v = static_cast<int>(UniformIndex(rng, symbols));
    for (int& v : y) v = static_cast<int>(UniformIndex(rng, symbols));
    std::vector<int> edited = x;
    edited.insert(edited.begin() + 7, 5);
    std::swap(edited[2], edited[3]);
    const auto dn = SequenceDistances(x, edited, length, symbols);
    const auto df = SequenceDistances(x, y, length, symbols);
    near = std::max(near, dn.first + dn.second);
    far += (df.first + df.second) / 50;
  }
  EXPECT_LT(near, 0.3);
  EXPECT_GT(far, 2.0);
}

TEST(KernelTest, MakeKernelBuildsAndChecksSequenceGroups) {
  auto k = MakeKernel(SeqLayout(), {});
  ASSERT_TRUE(k.ok());
  // log s2, 1 length scale, 2 sequence weights.
  EXPECT_EQ((*k)->num_hyperparameters(), 4);
  EXPECT_NE((*k)->name().find("sequence(6x4)"), std::string::npos) << (*k)->name();
  FeatureLayout bad = SeqLayout();
  bad.groups[1].max_length = 5;  // width 10 no longer max_length + items
  auto r = MakeKernel(bad, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("'s'"), std::string::npos) << r.error().message();
  FeatureLayout narrow = SeqLayout();
  narrow.width = 8;
  EXPECT_FALSE(MakeKernel(narrow, {}).ok());
}

}  // namespace
}  // namespace sysopt
