#pragma once
/// \file
/// \brief Exact Gaussian process regression over encoded configurations with the mixed kernel of
/// kernel.h, a zero mean on standardised outputs, a learned homoscedastic noise plus optional
/// known per-point noise, hyperparameters fitted by maximising the log marginal likelihood plus
/// weak priors (L-BFGS-B, several seeded starts), and O(n^2) incremental updates.
///
/// Scales: "original" is y as passed by the caller; "model" is log(y) with
/// GpOptions::log_transform and y otherwise; "standardised" (internal) is (model - mean) / scale
/// with mean and scale estimated by Fit. Predict returns the model scale;
/// PredictOriginalScale returns log-normal moments in the original scale.
///
/// Thread safety and call order: as for Surrogate (surrogate.h). Fit, AddObservations,
/// RemoveLastObservations and SetHyperparameters mutate; everything const may run concurrently.

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>

#include "sysopt/core/expected.h"
#include "sysopt/core/rng.h"
#include "sysopt/model/kernel.h"
#include "sysopt/model/surrogate.h"
#include "sysopt/space/encoding.h"

namespace sysopt {

/// \brief Options of the Gaussian process.
struct GpOptions {
  KernelOptions kernel;          ///< Which kernel per feature kind, and the optional sum term.
  bool log_transform = false;    ///< Model log(y); every y must then be > 0.
  bool learn_noise = true;       ///< Learn the homoscedastic noise; otherwise keep noise_variance.
  double noise_variance = 1e-3;  ///< Initial (or fixed) noise variance, standardised units.
  double min_noise_variance = 1e-6;  ///< Lower bound of the learned noise, standardised units.
  double max_noise_variance = 1.0;   ///< Upper bound of the learned noise, standardised units.
  int num_restarts = 2;              ///< Random starts besides the warm start (previous optimum).
  int max_iterations = 50;           ///< L-BFGS-B iterations per start.
  /// Subset-of-data size for the hyperparameter search (random, seeded); 0 uses all points. The
  /// Cholesky factor always uses every point kept by max_points.
  int max_hyperparameter_points = 160;
  /// Cap on the points the model conditions on at Fit (0 = no cap): the best half (lowest y)
  /// and then the most recent rows. AddObservations does not apply the cap.
  int max_points = 0;
};

/// \brief Exact GP regression; see the file comment.
class GaussianProcess final : public Surrogate {
 public:
  /// \brief Builds the kernel for `layout` and the model; fails on an empty/inconsistent layout.
  static Expected<std::unique_ptr<GaussianProcess>> Create(const FeatureLayout& layout,
                                                           const GpOptions& options, uint64_t seed);

  /// \brief A model with the given kernel (hyperparameters as set on it).
  GaussianProcess(std::unique_ptr<Kernel> kernel, const FeatureLayout& layout,
                  const GpOptions& options, uint64_t seed);
  /// \brief A deep copy; copies only the used block of the factor.
  GaussianProcess(const GaussianProcess& other);
  GaussianProcess& operator=(const GaussianProcess&) = delete;

  Expected<void> Fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                     const FitOptions& options) override;
  Expected<void> AddObservations(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                 const Eigen::VectorXd& noise_variance) override;
  int num_observations() const override { return n_; }
  void Predict(const Eigen::MatrixXd& Xq, Eigen::VectorXd* mean,
               Eigen::VectorXd* var) const override;
  double TransformObjective(double y) const override;
  std::string name() const override { return "gp"; }
  std::unique_ptr<Surrogate> Clone() const override;

  /// \brief Mean and variance in the original scale: with a log transform the log-normal
  /// moments exp(mu + s2 / 2) and (exp(s2) - 1) exp(2 mu + s2); otherwise as Predict.
  void PredictOriginalScale(const Eigen::MatrixXd& Xq, Eigen::VectorXd* mean,
                            Eigen::VectorXd* var) const;

  /// \brief Drops the most recently added `count` observations in O(n^2) (the leading block of
  /// the factor stays valid), e.g. to undo fantasies. Requires count <= num_observations().
  void RemoveLastObservations(int count);

  /// \brief A copy conditioned additionally on rows Xf with y set to the predicted mean
  /// (kriging believer), for proposing a batch: the copy's predictive variance shrinks around
  /// the pending points while its mean is unchanged there.
  std::unique_ptr<GaussianProcess> WithFantasies(const Eigen::MatrixXd& Xf) const;

  /// \brief All hyperparameters: the kernel's (log / logit space) then the log noise variance
  /// (standardised units).
  Eigen::VectorXd hyperparameters() const;

  /// \brief Sets all hyperparameters (layout as hyperparameters()). Takes effect at the next Fit
  /// (use FitOptions::optimize_hyperparameters = false to keep them); predictions until then
  /// use the old factor.
  void SetHyperparameters(const Eigen::VectorXd& theta);

  /// \brief Log marginal likelihood of the current (standardised) training data at `theta`
  /// (layout as hyperparameters()), plus the log prior when `include_prior`; the gradient with
  /// respect to theta goes to `gradient` when non-null. Requires a previous Fit. Returns -inf
  /// where the covariance is numerically not positive definite.
  double LogMarginalLikelihood(const Eigen::VectorXd& theta, Eigen::VectorXd* gradient,
                               bool include_prior) const;

  /// \brief The kernel with its current hyperparameters.
  const Kernel& kernel() const { return *kernel_; }
  /// \brief Homoscedastic noise variance, standardised units.
  double noise_variance() const { return noise_variance_; }
  /// \brief Output transform: model = output_mean() + output_scale() * standardised.
  double output_mean() const { return y_mean_; }
  /// \brief See output_mean().
  double output_scale() const { return y_scale_; }

 private:
  // Recomputes the factor of all stored points from scratch with the current hyperparameters.
  Expected<void> Refactor();
  // Appends rows whose targets and known noise are already standardised.
  void AppendStandardised(const Eigen::MatrixXd& X, const Eigen::VectorXd& y_std,
                          const Eigen::VectorXd& noise_std);
  void UpdateAlpha();
  void OptimizeHyperparameters();

  std::unique_ptr<Kernel> kernel_;
  FeatureLayout layout_;
  GpOptions options_;
  uint64_t seed_;
  int fit_count_ = 0;
  bool has_optimum_ = false;

  double noise_variance_;
  double y_mean_ = 0.0;
  double y_scale_ = 1.0;
  bool scaling_set_ = false;
  double jitter_ = 0.0;  // Diagonal jitter used by the current factor.

  int n_ = 0;
  Eigen::MatrixXd X_;            // n_ rows.
  Eigen::VectorXd y_std_;        // n_ standardised targets.
  Eigen::VectorXd known_noise_;  // n_ known noise variances, standardised units (0 if unknown).
  Eigen::MatrixXd linv_;         // Capacity-sized; the leading n_ x n_ lower triangle is L^-1.
  Eigen::VectorXd alpha_;        // K^-1 y_std.
};

}  // namespace sysopt
