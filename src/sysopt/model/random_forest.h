#pragma once
/// \file
/// \brief Random forests over encoded configurations, SMAC-style: bootstrap samples, a random
/// subset of columns tried at each split, a minimum number of samples per leaf; numeric,
/// permutation and sequence item count columns split by threshold (permutation columns are read
/// as positions), categorical columns and sequence position columns (item ids) by a subset of
/// choices (categories ordered by mean response, Breiman's optimal regression split). Thresholds
/// are drawn uniformly between the two neighbouring values, so trees disagree in gaps between
/// observations and the spread reflects distance from data.
///
/// RandomForest is the regression surrogate; FeasibilityForest estimates the probability that a
/// configuration is feasible from 0/1 labels (the same trees on 0/1 targets: the variance
/// criterion on 0/1 labels is the Gini criterion, and leaf means are class frequencies).
///
/// Thread safety and call order: as for Surrogate (surrogate.h): Fit before predictions; const
/// members may run concurrently; Fit must not overlap anything else.

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/model/surrogate.h"
#include "sysopt/space/encoding.h"

namespace sysopt {

/// \brief Options of both forests (SMAC's defaults for regression).
struct ForestOptions {
  int num_trees = 10;               ///< Trees in the forest.
  int min_samples_split = 3;        ///< A node with fewer samples becomes a leaf.
  int min_samples_leaf = 3;         ///< No split may leave fewer samples on either side.
  double max_features = 5.0 / 6.0;  ///< Fraction of columns tried at each split (at least one).
  int max_depth = 20;               ///< Depth limit of each tree.
  bool bootstrap = true;            ///< Sample with replacement per tree; otherwise use all rows.
  /// Rows drawn per bootstrap sample: min(rows, max_samples); 0 draws as many as there are rows.
  int max_samples = 0;
  bool log_transform = false;       ///< Regressor only: model log(y); y must then be > 0.
};

/// \brief Defaults for FeasibilityForest: fully grown trees on bootstrap samples.
ForestOptions FeasibilityForestDefaults();

/// \brief The trees shared by both forests; defined in random_forest.cc.
class TreeEnsemble;

/// \brief One node of a fitted tree, as analyses of the forest (fanova.h) read it.
struct TreeNodeView {
  int column = -1;         ///< Column split on; -1 for a leaf.
  double threshold = 0.0;  ///< Ordered columns: a value <= threshold goes left.
  /// Categorical columns: left_choices[k] != 0 sends choice k left; a choice past its end goes
  /// right. Empty for an ordered split.
  std::vector<char> left_choices;
  int left = -1;      ///< Index of the left child in the tree's node list.
  int right = -1;     ///< Index of the right child.
  double mean = 0.0;  ///< Mean target of the training rows in the node (the leaf's prediction).
};

/// \brief A fitted tree: node 0 is the root.
using TreeView = std::vector<TreeNodeView>;

/// \brief Random forest regressor; mean is the average of the trees' leaf means and variance the
/// law-of-total-variance combination of leaf variances and the spread of leaf means (as SMAC).
class RandomForest final : public Surrogate {
 public:
  /// \brief Fails on an empty or inconsistent layout or options out of range.
  static Expected<std::unique_ptr<RandomForest>> Create(const FeatureLayout& layout,
                                                        const ForestOptions& options,
                                                        uint64_t seed);

  /// \brief An unfitted forest; prefer Create, which checks the options.
  RandomForest(const FeatureLayout& layout, const ForestOptions& options, uint64_t seed);
  /// \brief A deep copy.
  RandomForest(const RandomForest& other);
  RandomForest& operator=(const RandomForest&) = delete;
  ~RandomForest() override;

  Expected<void> Fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                     const FitOptions& options) override;
  Expected<void> AddObservations(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                 const Eigen::VectorXd& noise_variance) override;
  int num_observations() const override { return static_cast<int>(y_.size()); }
  void Predict(const Eigen::MatrixXd& Xq, Eigen::VectorXd* mean,
               Eigen::VectorXd* var) const override;
  double TransformObjective(double y) const override;
  std::string name() const override { return "random_forest"; }
  std::unique_ptr<Surrogate> Clone() const override;

  /// \brief The fitted trees (empty before Fit), predictions in the model scale.
  std::vector<TreeView> Trees() const;

 private:
  Expected<void> Train();

  FeatureLayout layout_;
  ForestOptions options_;
  uint64_t seed_;
  int fit_count_ = 0;
  Eigen::MatrixXd X_;  // All training rows (kept for AddObservations).
  Eigen::VectorXd y_;  // Targets in the model scale.
  std::unique_ptr<TreeEnsemble> trees_;
};

/// \brief Probability that a configuration is feasible, learned from succeeded (true) and failed
/// (false) trials.
class FeasibilityForest {
 public:
  /// \brief Fails on an empty or inconsistent layout or options out of range.
  static Expected<std::unique_ptr<FeasibilityForest>> Create(const FeatureLayout& layout,
                                                             const ForestOptions& options,
                                                             uint64_t seed);

  /// \brief An unfitted classifier; prefer Create, which checks the options.
  FeasibilityForest(const FeatureLayout& layout, const ForestOptions& options, uint64_t seed);
  /// \brief A deep copy.
  FeasibilityForest(const FeasibilityForest& other);
  FeasibilityForest& operator=(const FeasibilityForest&) = delete;
  ~FeasibilityForest();

  /// \brief Trains on rows X with one label per row (true = feasible).
  Expected<void> Fit(const Eigen::MatrixXd& X, const std::vector<bool>& feasible);

  /// \brief P(feasible) per row of Xq, in [0, 1]; 1 everywhere before the first Fit, and the
  /// constant observed rate when all labels agree.
  void PredictProbability(const Eigen::MatrixXd& Xq, Eigen::VectorXd* probability) const;

 private:
  FeatureLayout layout_;
  ForestOptions options_;
  uint64_t seed_;
  int fit_count_ = 0;
  std::unique_ptr<TreeEnsemble> trees_;
};

}  // namespace sysopt
