#include "sysopt/model/random_forest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_util.h"

namespace sysopt {
namespace {

using testing::MixedLayout;
using testing::RandomRows;

TEST(RandomForestTest, FitsAStepFunction) {
  const FeatureLayout layout = MixedLayout(2, 0, 0, {});
  Rng rng(1);
  const Eigen::MatrixXd X = RandomRows(layout, 300, rng);
  Eigen::VectorXd y = (X.col(0).array() > 0.5).cast<double>();
  auto forest = *RandomForest::Create(layout, ForestOptions{}, 7);
  ASSERT_TRUE(forest->Fit(X, y, FitOptions{}).ok());
  Eigen::MatrixXd q(4, 2);
  q << 0.2, 0.5,  //
      0.4, 0.9,   //
      0.6, 0.1,   //
      0.8, 0.5;
  Eigen::VectorXd mean, var;
  forest->Predict(q, &mean, &var);
  EXPECT_LT(mean[0], 0.05);
  EXPECT_LT(mean[1], 0.1);
  EXPECT_GT(mean[2], 0.9);
  EXPECT_GT(mean[3], 0.95);
}

// Fully grown trees on distinct x values have one leaf per distinct bootstrap row: at most
// max_samples leaves with the cap, and far more (about 63% of 2,000) without it.
TEST(RandomForestTest, MaxSamplesCapsEachTreesBootstrapSample) {
  const FeatureLayout layout = MixedLayout(1, 0, 0, {});
  Eigen::MatrixXd X(2000, 1);
  Eigen::VectorXd y(2000);
  for (int i = 0; i < 2000; ++i) {
    X(i, 0) = i / 2000.0;
    y(i) = std::sin(37.0 * i);
  }
  auto leaves = [&](int max_samples) {
    ForestOptions options;
    options.num_trees = 4;
    options.min_samples_leaf = 1;
    options.min_samples_split = 2;
    options.max_depth = 64;
    options.max_samples = max_samples;
    auto forest = *RandomForest::Create(layout, options, 3);
    EXPECT_TRUE(forest->Fit(X, y, FitOptions{}).ok());
    int most = 0, fewest = 1 << 30;
    for (const TreeView& tree : forest->Trees()) {
      int count = 0;
      for (const TreeNodeView& node : tree) count += node.column < 0;
      most = std::max(most, count);
      fewest = std::min(fewest, count);
    }
    return std::pair<int, int>(fewest, most);
  };
  const auto [capped_fewest, capped_most] = leaves(64);
  EXPECT_LE(capped_most, 64);
  EXPECT_GE(capped_fewest, 40);  // 64 draws from 2,000 rows: about 63 distinct
  EXPECT_GT(leaves(0).first, 1100);
  ForestOptions bad;
  bad.max_samples = -1;
  EXPECT_FALSE(RandomForest::Create(layout, bad, 3).ok());
}

TEST(RandomForestTest, UncertaintyIsWiderAwayFromData) {
  const FeatureLayout layout = MixedLayout(1, 0, 0, {});
  Eigen::MatrixXd X(40, 1);
  Eigen::VectorXd y(40);
  for (int i = 0; i < 40; ++i) {
    // Data on [0, 0.3] and [0.7, 1], nothing in between.
    X(i, 0) = i < 20 ? 0.3 * i / 19.0 : 0.7 + 0.3 * (i - 20) / 19.0;
    y[i] = X(i, 0);
  }
  auto forest = *RandomForest::Create(layout, ForestOptions{}, 3);
  ASSERT_TRUE(forest->Fit(X, y, FitOptions{}).ok());
  Eigen::MatrixXd q(3, 1);
  q << 0.15, 0.5, 0.85;
  Eigen::VectorXd mean, var;
  forest->Predict(q, &mean, &var);
  EXPECT_GT(var[1], 5.0 * var[0]);
  EXPECT_GT(var[1], 5.0 * var[2]);
  EXPECT_NEAR(mean[0], 0.15, 0.05);
}

TEST(RandomForestTest, SplitsCategoriesBySubset) {
  const FeatureLayout layout = MixedLayout(1, 1, 4, {});
  Rng rng(4);
  const Eigen::MatrixXd X = RandomRows(layout, 200, rng);
  const double level[] = {0.0, 5.0, 0.0, 5.0};
  Eigen::VectorXd y(200);
  for (int i = 0; i < 200; ++i) y[i] = level[static_cast<int>(X(i, 1))];
  ForestOptions options;
  options.max_features = 1.0;
  auto forest = *RandomForest::Create(layout, options, 5);
  ASSERT_TRUE(forest->Fit(X, y, FitOptions{}).ok());
  Eigen::MatrixXd q(4, 2);
  q << 0.5, 0, 0.5, 1, 0.5, 2, 0.5, 3;
  Eigen::VectorXd mean;
  forest->Predict(q, &mean, nullptr);
  for (int c = 0; c < 4; ++c) EXPECT_NEAR(mean[c], level[c], 0.25) << "choice " << c;
}

TEST(RandomForestTest, HandlesPermutationsAndIsReproducible) {
  const FeatureLayout layout = MixedLayout(2, 1, 3, {4});
  Rng rng(8);
  const Eigen::MatrixXd X = RandomRows(layout, 100, rng);
  Eigen::VectorXd y = X.col(0) + X.col(3);  // Element at the first position matters.
  auto a = *MakeRandomForest(layout, ForestOptions{}, 11);
  auto b = *MakeRandomForest(layout, ForestOptions{}, 11);
  EXPECT_EQ(a->name(), "random_forest");
  ASSERT_TRUE(a->Fit(X, y, FitOptions{}).ok());
  ASSERT_TRUE(b->Fit(X, y, FitOptions{}).ok());
  const Eigen::MatrixXd Q = RandomRows(layout, 20, rng);
  Eigen::VectorXd ma, va, mb, vb;
  a->Predict(Q, &ma, &va);
  b->Predict(Q, &mb, &vb);
  EXPECT_EQ(ma, mb);
  EXPECT_EQ(va, vb);
  EXPECT_TRUE(ma.allFinite() && (va.array() >= 0).all());
  ASSERT_TRUE(a->AddObservations(Q, Q.col(0), Eigen::VectorXd()).ok());
  EXPECT_EQ(a->num_observations(), 120);
}

TEST(RandomForestTest, LearnsItemCountsAndFirstItemsOfSequences) {
  const FeatureLayout layout = testing::SequenceLayout(0, 8, 5);
  const FeatureGroup& g = layout.groups[0];
  auto objective = [&](const Eigen::MatrixXd& X, Eigen::Index r) {
    const std::vector<int> items = testing::DecodeSequence(g, X, r);
    double f = 0;
    for (int item : items) f += item == 2 ? 2.0 : 0.0;
    if (!items.empty() && items[0] == 4) f += 3.0;
    return f;
  };
  Rng rng(12);
  const Eigen::MatrixXd X = RandomRows(layout, 400, rng);
  Eigen::VectorXd y(X.rows());
  for (Eigen::Index r = 0; r < X.rows(); ++r) y[r] = objective(X, r);
  auto forest = *RandomForest::Create(layout, ForestOptions{}, 4);
  ASSERT_TRUE(forest->Fit(X, y, FitOptions{}).ok());
  const Eigen::MatrixXd Q = RandomRows(layout, 200, rng);
  Eigen::VectorXd truth(Q.rows()), mean, var;
  for (Eigen::Index r = 0; r < Q.rows(); ++r) truth[r] = objective(Q, r);
  forest->Predict(Q, &mean, &var);
  const double spread = std::sqrt((truth.array() - truth.mean()).square().mean());
  const double rmse = std::sqrt((mean - truth).array().square().mean());
  EXPECT_LT(rmse, 0.4 * spread) << "rmse " << rmse << " spread " << spread;
  EXPECT_TRUE((var.array() >= 0).all());
  // Rows whose end token sits in a position column are valid input; an item past the alphabet is
  // not, and the error names the group.
  Eigen::MatrixXd bad = Q.topRows(2);
  bad(1, 0) = 7;
  auto r = forest->Fit(bad, Eigen::Vector2d(1, 2), FitOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("'s'"), std::string::npos) << r.error().message();
}

TEST(RandomForestTest, RejectsBadInput) {
  EXPECT_FALSE(RandomForest::Create(FeatureLayout{}, ForestOptions{}, 1).ok());
  ForestOptions bad;
  bad.num_trees = 0;
  EXPECT_FALSE(RandomForest::Create(MixedLayout(1, 0, 0, {}), bad, 1).ok());
  auto forest = *RandomForest::Create(MixedLayout(1, 1, 2, {}), ForestOptions{}, 1);
  Eigen::MatrixXd X(2, 2);
  X << 0.1, 0, 0.2, 7;  // Choice 7 of 2.
  auto r = forest->Fit(X, Eigen::Vector2d(1, 2), FitOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("c0"), std::string::npos);
}

TEST(FeasibilityForestTest, LearnsAHiddenInfeasibleRegion) {
  const FeatureLayout layout = MixedLayout(3, 0, 0, {});
  Rng rng(2);
  const Eigen::MatrixXd X = RandomRows(layout, 600, rng);
  const Eigen::MatrixXd H = RandomRows(layout, 500, rng);
  auto label = [](const Eigen::MatrixXd& M, Eigen::Index r) { return M(r, 0) + M(r, 1) <= 1.0; };
  std::vector<bool> feasible(600);
  for (int i = 0; i < 600; ++i) feasible[static_cast<size_t>(i)] = label(X, i);
  auto forest = *FeasibilityForest::Create(layout, FeasibilityForestDefaults(), 9);
  Eigen::VectorXd p;
  forest->PredictProbability(H, &p);
  EXPECT_TRUE((p.array() == 1.0).all());  // Before any data everything is deemed feasible.
  ASSERT_TRUE(forest->Fit(X, feasible).ok());
  forest->PredictProbability(H, &p);
  int correct = 0;
  for (int i = 0; i < 500; ++i) correct += ((p[i] > 0.5) == label(H, i));
  EXPECT_GT(correct / 500.0, 0.9);
  EXPECT_TRUE((p.array() >= 0.0 && p.array() <= 1.0).all());
}

}  // namespace
}  // namespace sysopt
