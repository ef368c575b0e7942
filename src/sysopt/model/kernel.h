#pragma once
/// \file
/// \brief Covariance kernels over encoded configurations (see sysopt/space/encoding.h): one kernel
/// per feature kind, combined by product over groups times a signal variance. Every kernel keeps
/// its hyperparameters in log space (the mixing weight of the optional sum term in logit space)
/// and gives analytic gradients of its Gram matrix with respect to them.
///
/// Thread safety: a Kernel is immutable except through SetHyperparameters; concurrent const calls
/// are safe, a call to SetHyperparameters must not overlap any other call.
/// Call order: none; a kernel is usable right after construction with default hyperparameters
/// (the means of their priors).

#include <Eigen/Core>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/space/encoding.h"

namespace sysopt {

/// \brief Which kernel compares permutation groups.
enum class PermutationKernel {
  /// exp(-l * sum_i (pos_x(i) - pos_y(i))^2 / max), max = n (n^2 - 1) / 3.
  kSpearman,
  /// Mallows: exp(-l * discordant pairs / (n (n - 1) / 2)).
  kKendall,
  /// exp(-l * positions holding different elements / n).
  kHamming,
};

/// \brief How MakeKernel builds the kernel for a layout.
struct KernelOptions {
  /// Kernel used for every kPermutation group.
  PermutationKernel permutation = PermutationKernel::kSpearman;
  /// When true the combined kernel is s2 * ((1 - w) * prod_g k_g + w * mean_g k_g) with a learned
  /// weight w (CoCaBO-style), which keeps some correlation when one group differs completely.
  bool add_sum_term = false;
};

/// \brief Bounds and a weak Gaussian prior for one hyperparameter, all in its transformed (log or
/// logit) space.
struct HyperparameterSpec {
  std::string name;         ///< E.g. "numeric.x3.log_lengthscale", for messages and debugging.
  double lower = -10.0;     ///< Lower bound for the optimiser.
  double upper = 10.0;      ///< Upper bound for the optimiser.
  double prior_mean = 0.0;  ///< Mean of the Gaussian prior (so a log-normal prior on the scale).
  double prior_sd = 1.0;    ///< Standard deviation of that prior.
};

/// \brief A positive semi-definite, stationary covariance function over encoded rows.
class Kernel {
 public:
  virtual ~Kernel() = default;

  /// \brief A short description, e.g. "matern52_ard(5)".
  virtual std::string name() const = 0;

  /// \brief Number of hyperparameters.
  virtual int num_hyperparameters() const = 0;

  /// \brief The hyperparameters in their transformed (log / logit) space.
  virtual Eigen::VectorXd hyperparameters() const = 0;

  /// \brief Replaces the hyperparameters; `theta` must have num_hyperparameters() entries.
  virtual void SetHyperparameters(const Eigen::VectorXd& theta) = 0;

  /// \brief Bounds and priors, one per hyperparameter, in the same order.
  virtual std::vector<HyperparameterSpec> specs() const = 0;

  /// \brief K(i, j) = k(X1.row(i), X2.row(j)); K is resized to X1.rows() x X2.rows().
  virtual void Gram(const Eigen::MatrixXd& X1, const Eigen::MatrixXd& X2,
                    Eigen::MatrixXd* K) const = 0;

  /// \brief (*dK)[j] = d K(X, X) / d theta_j for every hyperparameter j.
  virtual void GramGradient(const Eigen::MatrixXd& X, std::vector<Eigen::MatrixXd>* dK) const = 0;

  /// \brief (*out)[j] = sum_ab W(a, b) dK(X, X)(a, b) / d theta_j for a symmetric W: what the
  /// gradient of the log marginal likelihood needs, in O(n^2) per hyperparameter without forming
  /// the matrices of GramGradient. The default goes through GramGradient.
  virtual void ContractGradient(const Eigen::MatrixXd& X, const Eigen::MatrixXd& W,
                                Eigen::VectorXd* out) const;

  /// \brief k(x, x), the same for every x since all kernels here are stationary.
  virtual double Diagonal() const = 0;

  /// \brief A deep copy.
  virtual std::unique_ptr<Kernel> Clone() const = 0;
};

/// \brief Matérn 5/2 with one length scale per column (ARD) over the given kNumeric columns;
/// k(x, x) = 1. Hyperparameters: log length scales.
std::unique_ptr<Kernel> MakeMaternArdKernel(std::vector<int> columns);

/// \brief Overlap (Hamming) kernel over categorical columns: exp(-sum_j w_j [x_j != y_j]);
/// k(x, x) = 1. Hyperparameters: log w_j.
std::unique_ptr<Kernel> MakeOverlapKernel(std::vector<int> columns);

/// \brief Exponential kernel exp(-l * d(x, y)) over one permutation group at columns
/// offset..offset+width-1, d a distance normalised to [0, 1] chosen by `kind`; k(x, x) = 1.
/// Hyperparameter: log l.
std::unique_ptr<Kernel> MakePermutationKernel(PermutationKernel kind, int offset, int width);

/// \brief Kernel over one sequence group (see FeatureKind::kSequence) whose position columns are
/// offset..offset+max_length-1 over an alphabet of n_symbols items:
/// exp(-w_items * d_items - w_order * d_order), where d_items is the L1 distance between the
/// item counts over max_length (how differently often each item occurs) and d_order the L1
/// distance between the bigram counts, with start and end markers, over max_length + 1 (which
/// items follow which: a q-gram lower bound of the edit distance). k(x, x) = 1; positive definite
/// for any weights. Hyperparameters: log w_items, log w_order.
std::unique_ptr<Kernel> MakeSequenceKernel(int offset, int max_length, int n_symbols);

/// \brief s2 * prod_g k_g, or with `add_sum_term` s2 * ((1 - w) prod_g k_g + w mean_g k_g).
/// Hyperparameters: log s2, then logit w (only with the sum term), then each factor's in order.
std::unique_ptr<Kernel> MakeProductKernel(std::vector<std::unique_ptr<Kernel>> factors,
                                          bool add_sum_term);

/// \brief The kernel for a whole layout: Matérn ARD over all kNumeric columns, overlap over all
/// kCategorical columns, one permutation kernel per kPermutation group and one sequence kernel
/// per kSequence group, combined by MakeProductKernel. Fails when the layout is empty or
/// inconsistent (naming the group).
Expected<std::unique_ptr<Kernel>> MakeKernel(const FeatureLayout& layout,
                                             const KernelOptions& options);

/// \brief Normalised permutation distance in [0, 1] between two permutations of 0..n-1 given as
/// the element at each position. Exposed for tests and diagnostics.
double PermutationDistance(PermutationKernel kind, const int* x, const int* y, int n);

/// \brief The (d_items, d_order) distances of MakeSequenceKernel between two sequences of item
/// indices (at most max_length long, items in 0..n_symbols-1). Exposed for tests and diagnostics.
std::pair<double, double> SequenceDistances(const std::vector<int>& x, const std::vector<int>& y,
                                            int max_length, int n_symbols);

}  // namespace sysopt
