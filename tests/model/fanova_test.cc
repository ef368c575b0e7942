#include "sysopt/model/fanova.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_util.h"

namespace sysopt {
namespace {

using testing::MixedLayout;
using testing::RandomRows;

TreeNodeView Split(int column, double threshold, int left, int right) {
  TreeNodeView node;
  node.column = column;
  node.threshold = threshold;
  node.left = left;
  node.right = right;
  return node;
}

TreeNodeView Leaf(double mean) {
  TreeNodeView node;
  node.mean = mean;
  return node;
}

// On [0,1]^2: f = 0 where x0 <= 0.25; else 1 where x1 <= 0.5 and 3 above. By hand: E f = 1.5,
// E f^2 = 3.75, Var f = 1.5. f_0(x0) is 0 or 2 (mean of 1 and 3): Var = 0.75 * 4 - 2.25 = 0.75,
// a fraction 0.5. f_1(x1) is 0.75 or 2.25: Var = 0.5 * (0.5625 + 5.0625) - 2.25 = 0.5625, a
// fraction 0.375. The remaining 0.125 is the interaction.
TEST(FanovaTest, ExactOnAHandBuiltTree) {
  const TreeView tree = {Split(0, 0.25, 1, 2), Leaf(0.0), Split(1, 0.5, 3, 4), Leaf(1.0),
                         Leaf(3.0)};
  const auto domains = DomainsOf(MixedLayout(2, 0, 0, {}));
  auto importance = FanovaImportance({tree}, domains, {{0}, {1}, {0, 1}});
  ASSERT_TRUE(importance.ok()) << importance.error().message();
  EXPECT_NEAR((*importance)[0].mean, 0.5, 1e-12);
  EXPECT_NEAR((*importance)[1].mean, 0.375, 1e-12);
  EXPECT_NEAR((*importance)[2].mean, 1.0, 1e-12);  // Both columns: all of the variance.
  EXPECT_EQ((*importance)[0].std, 0.0);            // One tree: no spread.
}

// The same shape with x0 on three equally weighted levels {0, 0.5, 1} split at 0.3: leaves of
// weight 1/3 each with means 0, 1, 3. E f = 4/3, Var f = 14/9; f_0 is 0 or 2: Var = 8/9, a
// fraction 4/7; f_1 is 2/3 or 2: Var = 4/9, a fraction 2/7. Measured by interval length
// instead, x0's left side would weigh 0.3 and the fractions would differ.
TEST(FanovaTest, DiscreteLevelsWeighEquallyWhereverTheThresholdFalls) {
  FeatureLayout layout = MixedLayout(2, 0, 0, {});
  layout.groups[0].n_levels = 3;
  const TreeView tree = {Split(0, 0.3, 1, 2), Leaf(0.0), Split(1, 0.5, 3, 4), Leaf(1.0),
                         Leaf(3.0)};
  auto importance = FanovaImportance({tree}, DomainsOf(layout), {{0}, {1}});
  ASSERT_TRUE(importance.ok());
  EXPECT_NEAR((*importance)[0].mean, 4.0 / 7.0, 1e-12);
  EXPECT_NEAR((*importance)[1].mean, 2.0 / 7.0, 1e-12);
}

TEST(FanovaTest, CategoricalSplitsBySubsetAndUnlistedChoicesGoRight) {
  const FeatureLayout layout = MixedLayout(1, 1, 4, {});
  // Choices {0, 2} left (mean 0), {1, 3} right (mean 1); choice 3 is past the set's end. Half
  // the choices on each side: Var f = 0.25, all of it from the categorical column.
  TreeNodeView root = Split(1, 0.0, 1, 2);
  root.left_choices = {1, 0, 1};
  const TreeView tree = {root, Leaf(0.0), Leaf(1.0)};
  auto importance = FanovaImportance({tree}, DomainsOf(layout), {{0}, {1}});
  ASSERT_TRUE(importance.ok());
  EXPECT_NEAR((*importance)[0].mean, 0.0, 1e-12);
  EXPECT_NEAR((*importance)[1].mean, 1.0, 1e-12);
}

double Fit(const FeatureLayout& layout, const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
           std::vector<Importance>* out, const std::vector<std::vector<int>>& groups) {
  ForestOptions options;
  options.num_trees = 32;
  auto forest = *RandomForest::Create(layout, options, 17);
  EXPECT_TRUE(forest->Fit(X, y, FitOptions{}).ok());
  auto importance = FanovaImportance(forest->Trees(), DomainsOf(layout), groups);
  EXPECT_TRUE(importance.ok());
  *out = *importance;
  double total = 0;
  for (const auto& i : *out) total += i.mean;
  return total;
}

// f = 3 x0 + 0 x1: x0 explains everything.
TEST(FanovaTest, ForestOfALinearFunctionOfOneColumn) {
  const FeatureLayout layout = MixedLayout(2, 0, 0, {});
  Rng rng(3);
  const Eigen::MatrixXd X = RandomRows(layout, 300, rng);
  const Eigen::VectorXd y = 3.0 * X.col(0);
  std::vector<Importance> imp;
  Fit(layout, X, y, &imp, {{0}, {1}});
  EXPECT_GT(imp[0].mean, 0.97);
  EXPECT_LT(imp[1].mean, 0.01);
}

// f = x0 + 2 x1 with x uniform on [0,1]: Var = 1/12 + 4/12, fractions 0.2 and 0.8.
TEST(FanovaTest, ForestOfAnAdditiveFunctionSplitsTheVariance) {
  const FeatureLayout layout = MixedLayout(3, 0, 0, {});
  Rng rng(5);
  const Eigen::MatrixXd X = RandomRows(layout, 400, rng);
  const Eigen::VectorXd y = X.col(0) + 2.0 * X.col(1);
  std::vector<Importance> imp;
  Fit(layout, X, y, &imp, {{0}, {1}, {2}});
  EXPECT_NEAR(imp[0].mean, 0.2, 0.05);
  EXPECT_NEAR(imp[1].mean, 0.8, 0.05);
  EXPECT_LT(imp[2].mean, 0.02);
}

// f = x0 x1: Var f = 1/9 - 1/16 = 7/144; each main effect Var(x/2) = 1/48, a fraction 3/7; the
// remaining 1/7 is the interaction, which no single column holds.
TEST(FanovaTest, ForestOfAProductLeavesTheInteractionOut) {
  const FeatureLayout layout = MixedLayout(2, 0, 0, {});
  Rng rng(9);
  const Eigen::MatrixXd X = RandomRows(layout, 500, rng);
  const Eigen::VectorXd y = X.col(0).cwiseProduct(X.col(1));
  std::vector<Importance> imp;
  const double total = Fit(layout, X, y, &imp, {{0}, {1}});
  EXPECT_NEAR(imp[0].mean, 3.0 / 7.0, 0.07);
  EXPECT_NEAR(imp[1].mean, 3.0 / 7.0, 0.07);
  EXPECT_NEAR(total, 6.0 / 7.0, 0.07);
}

// A permutation's columns as one group: y is the element at the first position.
TEST(FanovaTest, GroupsOfColumnsActAsOneParameter) {
  const FeatureLayout layout = MixedLayout(1, 0, 0, {4});
  Rng rng(11);
  const Eigen::MatrixXd X = RandomRows(layout, 300, rng);
  const Eigen::VectorXd y = X.col(1);
  std::vector<Importance> imp;
  Fit(layout, X, y, &imp, {{0}, {1, 2, 3, 4}});
  EXPECT_LT(imp[0].mean, 0.02);
  EXPECT_GT(imp[1].mean, 0.95);
}

TEST(FanovaTest, ConstantTreesExplainNothingAndBadGroupsFail) {
  const auto domains = DomainsOf(MixedLayout(2, 0, 0, {}));
  auto flat = FanovaImportance({{Leaf(2.0)}}, domains, {{0}, {1}});
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ((*flat)[0].mean, 0.0);
  auto bad = FanovaImportance({{Leaf(2.0)}}, domains, {{5}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("column 5"), std::string::npos);
  auto outside = FanovaImportance({{Split(7, 0.5, 1, 2), Leaf(0), Leaf(1)}}, domains, {{0}});
  EXPECT_FALSE(outside.ok());
}

}  // namespace
}  // namespace sysopt
