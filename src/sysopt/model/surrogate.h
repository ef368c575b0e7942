#pragma once
/// \file
/// \brief Surrogate: a regression model of the objective over encoded configurations that the
/// Bayesian optimisation sampler fits to finished trials and queries for candidates.
///
/// Thread safety: Fit (and any other non-const member) must not run concurrently with anything
/// else on the same object; const members (Predict, name, Clone) may run concurrently.
/// Call order: Fit before Predict. Predict on an unfitted model returns the prior (mean 0,
/// variance of the prior scale) rather than failing.
///
/// Conventions: the engine minimises, so wherever a model picks "best" observations it means
/// the lowest y. Predictions are in the model scale: y itself, or log(y) when the model was
/// configured with a log transform (see each model's options); TransformObjective maps an
/// observed y into that scale, e.g. to compare the incumbent with predictions.

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>

#include "sysopt/core/expected.h"
#include "sysopt/space/encoding.h"

namespace sysopt {

struct GpOptions;
struct ForestOptions;

/// \brief Per-fit inputs besides the data.
struct FitOptions {
  /// Known noise variance of each y (e.g. the variance of a mean over repeats), in the scale of
  /// y as passed to Fit; empty when unknown. Models that cannot use it ignore it.
  Eigen::VectorXd noise_variance;
  /// False keeps the current hyperparameters (GP) and only refactorises; the forest ignores it.
  bool optimize_hyperparameters = true;
  /// True keeps the output transform (mean and scale) of the previous fit instead of
  /// re-estimating it; a fixed-hyperparameter refit is then exactly comparable with incremental
  /// updates. Ignored on the first fit and by the forest.
  bool keep_output_scaling = false;
};

/// \brief The surrogate interface; see the file comment for thread safety and call order.
class Surrogate {
 public:
  virtual ~Surrogate() = default;

  /// \brief Fits the model to rows X (encoded as the layout says) and objective values y.
  /// Fails on mismatched sizes, non-finite values, rows that do not fit the layout, or y <= 0
  /// under a log transform, leaving the model as it was. A numerical failure after the input
  /// was accepted (a covariance that stays indefinite) leaves the model empty (prior).
  virtual Expected<void> Fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                             const FitOptions& options) = 0;

  /// \brief Adds observations without refitting hyperparameters or the output transform: the GP
  /// extends its Cholesky factor (O(n^2) per row), the forest refits its trees on all data.
  /// `noise_variance` is empty or has one known noise variance per new row (scale of y).
  virtual Expected<void> AddObservations(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                         const Eigen::VectorXd& noise_variance) = 0;

  /// \brief Number of observations the model currently conditions on.
  virtual int num_observations() const = 0;

  /// \brief Predictive mean and variance (of the latent function, without observation noise) in
  /// the model scale for each row of Xq. Either output may be null.
  virtual void Predict(const Eigen::MatrixXd& Xq, Eigen::VectorXd* mean,
                       Eigen::VectorXd* var) const = 0;

  /// \brief Maps an observed objective value into the model scale (log(y) or y).
  virtual double TransformObjective(double y) const = 0;

  /// \brief A short, stable name: "gp" or "random_forest".
  virtual std::string name() const = 0;

  /// \brief A deep copy, e.g. to add fantasy observations without touching the original.
  virtual std::unique_ptr<Surrogate> Clone() const = 0;
};

/// \brief Checks that X has layout.width columns, finite entries, categorical indices in
/// 0..n_choices-1, each permutation group holding a permutation of 0..width-1 and each sequence
/// group holding items then end tokens in its positions and counts in [0, 1], and that y
/// (when non-null) is finite and has X.rows() entries. The message names the row and group.
Expected<void> ValidateEncodedRows(const FeatureLayout& layout, const Eigen::MatrixXd& X,
                                   const Eigen::VectorXd* y);

/// \brief An exact Gaussian process with the mixed kernel of `options.kernel`; see
/// gaussian_process.h. Fails when the layout is empty or inconsistent.
Expected<std::unique_ptr<Surrogate>> MakeGaussianProcess(const FeatureLayout& layout,
                                                         const GpOptions& options, uint64_t seed);

/// \brief A SMAC-style random forest regressor; see random_forest.h.
Expected<std::unique_ptr<Surrogate>> MakeRandomForest(const FeatureLayout& layout,
                                                      const ForestOptions& options, uint64_t seed);

}  // namespace sysopt
