#include "sysopt/model/gaussian_process.h"

#include <LBFGSB.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

namespace sysopt {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;
// Relative diagonal jitter tried first, and the largest one tried before giving up.
constexpr double kMinJitter = 1e-10;
constexpr double kMaxJitter = 1e-4;
// Rows of query points predicted per block, so that the n x block work matrices stay small.
constexpr Eigen::Index kPredictBlock = 1024;

double GaussianLogPrior(const Eigen::VectorXd& theta, const std::vector<HyperparameterSpec>& specs,
                        Eigen::VectorXd* gradient) {
  double lp = 0.0;
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    const HyperparameterSpec& s = specs[static_cast<size_t>(i)];
    const double z = (theta[i] - s.prior_mean) / s.prior_sd;
    lp += -0.5 * z * z - std::log(s.prior_sd) - 0.5 * kLog2Pi;
    if (gradient) (*gradient)[i] -= z / s.prior_sd;
  }
  return lp;
}

// Log marginal likelihood of standardised data; `theta` is the kernel's hyperparameters followed
// by the log noise variance. `kernel` is scratch: its hyperparameters are overwritten.
double EvaluateLml(Kernel& kernel, const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                   const Eigen::VectorXd& known_noise, const Eigen::VectorXd& theta,
                   Eigen::VectorXd* gradient) {
  const Eigen::Index p = kernel.num_hyperparameters();
  const Eigen::Index n = X.rows();
  kernel.SetHyperparameters(theta.head(p));
  const double noise = std::exp(theta[p]);
  Eigen::MatrixXd K;
  kernel.Gram(X, X, &K);
  K.diagonal().array() += noise + known_noise.array() + kMinJitter * kernel.Diagonal();
  Eigen::LLT<Eigen::MatrixXd> llt(K);
  if (llt.info() != Eigen::Success) return -std::numeric_limits<double>::infinity();
  const Eigen::VectorXd alpha = llt.solve(y);
  const double log_det_half = llt.matrixLLT().diagonal().array().log().sum();
  const double lml = -0.5 * y.dot(alpha) - log_det_half - 0.5 * static_cast<double>(n) * kLog2Pi;
  if (gradient) {
    gradient->resize(p + 1);
    // d lml / d theta_j = 1/2 tr((alpha alpha^T - K^-1) dK/dtheta_j).
    Eigen::MatrixXd W = llt.solve(Eigen::MatrixXd::Identity(n, n));
    W = alpha * alpha.transpose() - W;
    Eigen::VectorXd contracted;
    kernel.ContractGradient(X, W, &contracted);
    gradient->head(p) = 0.5 * contracted;
    (*gradient)[p] = 0.5 * noise * W.trace();
  }
  return lml;
}

// Negative log posterior over the free hyperparameters, divided by n so that the optimiser's
// tolerances do not depend on the data size; remembers the best point it has seen, because
// L-BFGS-B may stop with an exception after having made progress.
class HyperObjective {
 public:
  HyperObjective(Kernel& kernel, const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                 const Eigen::VectorXd& known_noise, const std::vector<HyperparameterSpec>& specs,
                 bool learn_noise, double fixed_log_noise)
      : kernel_(kernel),
        X_(X),
        y_(y),
        known_noise_(known_noise),
        specs_(specs),
        learn_noise_(learn_noise),
        fixed_log_noise_(fixed_log_noise) {}

  double operator()(const Eigen::VectorXd& x, Eigen::VectorXd& grad) {
    Eigen::VectorXd theta = Full(x);
    Eigen::VectorXd g;
    double value = EvaluateLml(kernel_, X_, y_, known_noise_, theta, &g);
    if (!std::isfinite(value)) {
      // Steer the line search back without poisoning it with infinities.
      grad.setZero(x.size());
      return 1e10;
    }
    value += GaussianLogPrior(theta, specs_, &g);
    const double scale = 1.0 / static_cast<double>(X_.rows());
    const double f = -value * scale;
    grad = -g.head(x.size()) * scale;
    if (f < best_f_) {
      best_f_ = f;
      best_theta_ = theta;
    }
    return f;
  }

  Eigen::VectorXd Full(const Eigen::VectorXd& x) const {
    if (learn_noise_) return x;
    Eigen::VectorXd theta(x.size() + 1);
    theta << x, fixed_log_noise_;
    return theta;
  }

  double best_f() const { return best_f_; }
  const Eigen::VectorXd& best_theta() const { return best_theta_; }

 private:
  Kernel& kernel_;
  const Eigen::MatrixXd& X_;
  const Eigen::VectorXd& y_;
  const Eigen::VectorXd& known_noise_;
  const std::vector<HyperparameterSpec>& specs_;
  bool learn_noise_;
  double fixed_log_noise_;
  double best_f_ = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_theta_;
};

Eigen::MatrixXd Rows(const Eigen::MatrixXd& X, const std::vector<int>& rows) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(rows.size()), X.cols());
  for (size_t i = 0; i < rows.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = X.row(rows[i]);
  return out;
}

Eigen::VectorXd Entries(const Eigen::VectorXd& v, const std::vector<int>& rows) {
  Eigen::VectorXd out(static_cast<Eigen::Index>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) out[static_cast<Eigen::Index>(i)] = v[rows[i]];
  return out;
}

}  // namespace

Expected<std::unique_ptr<GaussianProcess>> GaussianProcess::Create(const FeatureLayout& layout,
                                                                   const GpOptions& options,
                                                                   uint64_t seed) {
  auto kernel = MakeKernel(layout, options.kernel);
  if (!kernel.ok()) return kernel.error();
  if (!(options.min_noise_variance > 0.0) ||
      !(options.max_noise_variance >= options.min_noise_variance)) {
    return InvalidInput("gp options: noise bounds [{}, {}] must be positive and ordered",
                        options.min_noise_variance, options.max_noise_variance);
  }
  return std::make_unique<GaussianProcess>(std::move(*kernel), layout, options, seed);
}

GaussianProcess::GaussianProcess(std::unique_ptr<Kernel> kernel, const FeatureLayout& layout,
                                 const GpOptions& options, uint64_t seed)
    : kernel_(std::move(kernel)),
      layout_(layout),
      options_(options),
      seed_(seed),
      noise_variance_(std::clamp(options.noise_variance, options.min_noise_variance,
                                 options.max_noise_variance)) {}

GaussianProcess::GaussianProcess(const GaussianProcess& other)
    : kernel_(other.kernel_->Clone()),
      layout_(other.layout_),
      options_(other.options_),
      seed_(other.seed_),
      fit_count_(other.fit_count_),
      has_optimum_(other.has_optimum_),
      noise_variance_(other.noise_variance_),
      y_mean_(other.y_mean_),
      y_scale_(other.y_scale_),
      scaling_set_(other.scaling_set_),
      jitter_(other.jitter_),
      n_(other.n_),
      X_(other.X_),
      y_std_(other.y_std_),
      known_noise_(other.known_noise_),
      alpha_(other.alpha_) {
  // Copy only the used block of the factor: fantasies are cheap because of this.
  linv_.setZero(std::max<Eigen::Index>(n_ + 16, 16), std::max<Eigen::Index>(n_ + 16, 16));
  linv_.topLeftCorner(n_, n_) = other.linv_.topLeftCorner(n_, n_);
}

std::unique_ptr<Surrogate> GaussianProcess::Clone() const {
  return std::make_unique<GaussianProcess>(*this);
}

double GaussianProcess::TransformObjective(double y) const {
  return options_.log_transform ? std::log(y) : y;
}

Eigen::VectorXd GaussianProcess::hyperparameters() const {
  Eigen::VectorXd theta(kernel_->num_hyperparameters() + 1);
  theta << kernel_->hyperparameters(), std::log(noise_variance_);
  return theta;
}

void GaussianProcess::SetHyperparameters(const Eigen::VectorXd& theta) {
  const Eigen::Index p = kernel_->num_hyperparameters();
  assert(theta.size() == p + 1);
  kernel_->SetHyperparameters(theta.head(p));
  noise_variance_ = std::exp(theta[p]);
}

namespace {

std::vector<HyperparameterSpec> NoiseAppendedSpecs(const Kernel& kernel, const GpOptions& o) {
  std::vector<HyperparameterSpec> specs = kernel.specs();
  const double lo = std::log(o.min_noise_variance);
  const double hi = std::log(o.max_noise_variance);
  specs.push_back({"log_noise_variance", lo, hi,
                   std::clamp(std::log(std::max(o.noise_variance, 1e-300)), lo, hi), 2.0});
  return specs;
}

}  // namespace

double GaussianProcess::LogMarginalLikelihood(const Eigen::VectorXd& theta,
                                              Eigen::VectorXd* gradient, bool include_prior) const {
  std::unique_ptr<Kernel> scratch = kernel_->Clone();
  double lml = EvaluateLml(*scratch, X_, y_std_, known_noise_, theta, gradient);
  if (include_prior && std::isfinite(lml)) {
    Eigen::VectorXd g = Eigen::VectorXd::Zero(theta.size());
    lml += GaussianLogPrior(theta, NoiseAppendedSpecs(*kernel_, options_), &g);
    if (gradient) *gradient += g;
  }
  return lml;
}

Expected<void> GaussianProcess::Fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                    const FitOptions& options) {
  SYSOPT_RETURN_IF_ERROR(ValidateEncodedRows(layout_, X, &y));
  const Eigen::Index n_all = X.rows();
  if (n_all == 0) return InvalidInput("gp fit: no observations");
  if (options.noise_variance.size() != 0 && options.noise_variance.size() != n_all) {
    return InvalidInput("gp fit: noise_variance has {} entries for {} rows",
                        options.noise_variance.size(), n_all);
  }
  for (Eigen::Index i = 0; i < options.noise_variance.size(); ++i) {
    if (!(options.noise_variance[i] >= 0.0) || !std::isfinite(options.noise_variance[i])) {
      return InvalidInput("gp fit: noise_variance[{}] = {} is not a finite non-negative number", i,
                          options.noise_variance[i]);
    }
  }
  Eigen::VectorXd ym = y;
  if (options_.log_transform) {
    for (Eigen::Index i = 0; i < n_all; ++i) {
      if (!(y[i] > 0.0)) {
        return InvalidInput("gp fit: y[{}] = {} must be > 0 under the log transform", i, y[i]);
      }
      ym[i] = std::log(y[i]);
    }
  }

  std::vector<int> keep(static_cast<size_t>(n_all));
  std::iota(keep.begin(), keep.end(), 0);
  if (options_.max_points > 0 && n_all > options_.max_points) {
    // The best rows carry the information about where the optimum is; recent rows about where
    // the search is now.
    std::vector<int> by_value = keep;
    std::stable_sort(by_value.begin(), by_value.end(), [&](int a, int b) { return ym[a] < ym[b]; });
    std::vector<char> taken(static_cast<size_t>(n_all), 0);
    const int n_best = options_.max_points / 2;
    for (int i = 0; i < n_best; ++i)
      taken[static_cast<size_t>(by_value[static_cast<size_t>(i)])] = 1;
    int remaining = options_.max_points - n_best;
    for (Eigen::Index i = n_all - 1; i >= 0 && remaining > 0; --i) {
      if (!taken[static_cast<size_t>(i)]) {
        taken[static_cast<size_t>(i)] = 1;
        --remaining;
      }
    }
    keep.clear();
    for (Eigen::Index i = 0; i < n_all; ++i) {
      if (taken[static_cast<size_t>(i)]) keep.push_back(static_cast<int>(i));
    }
  }
  Eigen::VectorXd yk = Entries(ym, keep);

  if (!(options.keep_output_scaling && scaling_set_)) {
    y_mean_ = yk.mean();
    const double var =
        yk.size() > 1 ? (yk.array() - y_mean_).square().sum() / static_cast<double>(yk.size() - 1)
                      : 0.0;
    y_scale_ = var > 1e-24 ? std::sqrt(var) : 1.0;
    scaling_set_ = true;
  }

  X_ = Rows(X, keep);
  n_ = static_cast<int>(keep.size());
  y_std_ = (yk.array() - y_mean_) / y_scale_;
  known_noise_ = Eigen::VectorXd::Zero(n_);
  if (options.noise_variance.size() != 0) {
    for (int i = 0; i < n_; ++i) {
      double v = options.noise_variance[keep[static_cast<size_t>(i)]];
      // Delta method: Var(log y) ~ Var(y) / y^2.
      if (options_.log_transform)
        v /= y[keep[static_cast<size_t>(i)]] * y[keep[static_cast<size_t>(i)]];
      known_noise_[i] = v / (y_scale_ * y_scale_);
    }
  }

  if (options.optimize_hyperparameters && n_ >= 2) OptimizeHyperparameters();
  ++fit_count_;
  return Refactor();
}

void GaussianProcess::OptimizeHyperparameters() {
  Rng rng(DeriveSeed(seed_, static_cast<uint64_t>(fit_count_)));
  const Eigen::MatrixXd* Xh = &X_;
  const Eigen::VectorXd* yh = &y_std_;
  const Eigen::VectorXd* nh = &known_noise_;
  Eigen::MatrixXd Xs;
  Eigen::VectorXd ys, ns;
  if (options_.max_hyperparameter_points > 0 && n_ > options_.max_hyperparameter_points) {
    std::vector<int> idx(static_cast<size_t>(n_));
    std::iota(idx.begin(), idx.end(), 0);
    std::shuffle(idx.begin(), idx.end(), rng);
    idx.resize(static_cast<size_t>(options_.max_hyperparameter_points));
    std::sort(idx.begin(), idx.end());
    Xs = Rows(X_, idx);
    ys = Entries(y_std_, idx);
    ns = Entries(known_noise_, idx);
    Xh = &Xs;
    yh = &ys;
    nh = &ns;
  }

  const std::vector<HyperparameterSpec> specs = NoiseAppendedSpecs(*kernel_, options_);
  const Eigen::Index p_full = static_cast<Eigen::Index>(specs.size());
  const Eigen::Index p_free = options_.learn_noise ? p_full : p_full - 1;
  Eigen::VectorXd lb(p_free), ub(p_free);
  for (Eigen::Index i = 0; i < p_free; ++i) {
    lb[i] = specs[static_cast<size_t>(i)].lower;
    ub[i] = specs[static_cast<size_t>(i)].upper;
  }

  std::unique_ptr<Kernel> scratch = kernel_->Clone();
  HyperObjective objective(*scratch, *Xh, *yh, *nh, specs, options_.learn_noise,
                           std::log(noise_variance_));

  std::vector<Eigen::VectorXd> starts;
  // The previous optimum (or, before the first fit, the prior means) is usually close to the new
  // one; random starts drawn from the priors guard against its basin being a poor local optimum.
  starts.push_back(hyperparameters().head(p_free).cwiseMax(lb).cwiseMin(ub));
  std::normal_distribution<double> normal(0.0, 1.0);
  // Once the history is long, the previous optimum moves little between fits: random restarts
  // then run only at every fourth fit, which keeps the chance to leave a poor basin at a quarter
  // of the cost.
  const int restarts =
      !has_optimum_ || n_ <= 64 || fit_count_ % 4 == 0 ? options_.num_restarts : 0;
  for (int r = 0; r < restarts; ++r) {
    Eigen::VectorXd x(p_free);
    for (Eigen::Index i = 0; i < p_free; ++i) {
      const HyperparameterSpec& s = specs[static_cast<size_t>(i)];
      x[i] = std::clamp(s.prior_mean + s.prior_sd * normal(rng), s.lower, s.upper);
    }
    starts.push_back(x);
  }

  LBFGSpp::LBFGSBParam<double> param;
  param.max_iterations = options_.max_iterations;
  param.epsilon = 1e-5;
  param.epsilon_rel = 1e-5;
  param.past = 1;
  param.delta = 1e-7;
  param.max_linesearch = 30;
  for (Eigen::VectorXd& x : starts) {
    LBFGSpp::LBFGSBSolver<double> solver(param);
    double fx = 0.0;
    try {
      solver.minimize(objective, x, fx, lb, ub);
    } catch (const std::exception&) {
      // Line-search failures near the bounds are routine; the objective kept the best point.
    }
  }
  if (std::isfinite(objective.best_f())) {
    SetHyperparameters(objective.best_theta());
    has_optimum_ = true;
  }
}

Expected<void> GaussianProcess::Refactor() {
  Eigen::MatrixXd K;
  kernel_->Gram(X_, X_, &K);
  K.diagonal().array() += noise_variance_ + known_noise_.array();
  const double s2 = kernel_->Diagonal();
  for (double rel = kMinJitter; rel <= kMaxJitter; rel *= 100.0) {
    Eigen::MatrixXd Kj = K;
    Kj.diagonal().array() += rel * s2;
    Eigen::LLT<Eigen::MatrixXd> llt(Kj);
    if (llt.info() != Eigen::Success) continue;
    jitter_ = rel * s2;
    const Eigen::Index cap = n_ + std::max<Eigen::Index>(32, n_ / 4);
    linv_.setZero(cap, cap);
    Eigen::MatrixXd inv = Eigen::MatrixXd::Identity(n_, n_);
    llt.matrixL().solveInPlace(inv);
    linv_.topLeftCorner(n_, n_) = inv;
    UpdateAlpha();
    return Ok();
  }
  // Leave an empty, consistent model (the prior) rather than a half-updated one.
  const Eigen::Index rows = X_.rows();
  n_ = 0;
  X_.resize(0, X_.cols());
  y_std_.resize(0);
  known_noise_.resize(0);
  alpha_.resize(0);
  return RuntimeError(
      "gp fit: covariance matrix of {} points is not positive definite even with "
      "jitter {}",
      rows, kMaxJitter * s2);
}

void GaussianProcess::UpdateAlpha() {
  auto L = linv_.topLeftCorner(n_, n_).triangularView<Eigen::Lower>();
  Eigen::VectorXd t = L * y_std_;
  alpha_ = L.transpose() * t;
}

void GaussianProcess::AppendStandardised(const Eigen::MatrixXd& X, const Eigen::VectorXd& y_std,
                                         const Eigen::VectorXd& noise_std) {
  const Eigen::Index b = X.rows();
  if (b == 0) return;
  const Eigen::Index n0 = n_;
  if (linv_.rows() < n0 + b) {
    const Eigen::Index cap = std::max<Eigen::Index>(2 * (n0 + b), 64);
    Eigen::MatrixXd grown = Eigen::MatrixXd::Zero(cap, cap);
    grown.topLeftCorner(n0, n0) = linv_.topLeftCorner(n0, n0);
    linv_.swap(grown);
  }
  X_.conservativeResize(n0 + b, X.cols());
  X_.bottomRows(b) = X;
  y_std_.conservativeResize(n0 + b);
  y_std_.tail(b) = y_std;
  known_noise_.conservativeResize(n0 + b);
  known_noise_.tail(b) = noise_std;
  Eigen::MatrixXd cross;
  kernel_->Gram(X_, X, &cross);
  const double s2 = kernel_->Diagonal();
  for (Eigen::Index r = 0; r < b; ++r) {
    const Eigen::Index m = n0 + r;
    // Appending a row to L gives the new row of L^-1 from l = L^-1 k and d = sqrt(kss - l.l):
    // [-l^T L^-1 / d, 1 / d]; both products are O(m^2).
    auto L = linv_.topLeftCorner(m, m).triangularView<Eigen::Lower>();
    Eigen::VectorXd l = L * cross.col(r).head(m);
    const double kss = s2 + noise_variance_ + known_noise_[m] + jitter_;
    const double d2 = std::max(kss - l.squaredNorm(), kMinJitter * kss);
    const double d = std::sqrt(d2);
    Eigen::VectorXd row = L.transpose() * l;
    linv_.row(m).head(m) = -row.transpose() / d;
    linv_(m, m) = 1.0 / d;
  }
  n_ = static_cast<int>(n0 + b);
  UpdateAlpha();
}

Expected<void> GaussianProcess::AddObservations(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                                const Eigen::VectorXd& noise_variance) {
  if (!scaling_set_) return Fit(X, y, FitOptions{noise_variance, true, false});
  SYSOPT_RETURN_IF_ERROR(ValidateEncodedRows(layout_, X, &y));
  if (noise_variance.size() != 0 && noise_variance.size() != X.rows()) {
    return InvalidInput("gp update: noise_variance has {} entries for {} rows",
                        noise_variance.size(), X.rows());
  }
  Eigen::VectorXd ys(X.rows()), ns = Eigen::VectorXd::Zero(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    if (options_.log_transform && !(y[i] > 0.0)) {
      return InvalidInput("gp update: y[{}] = {} must be > 0 under the log transform", i, y[i]);
    }
    ys[i] = (TransformObjective(y[i]) - y_mean_) / y_scale_;
    if (noise_variance.size() != 0) {
      double v = noise_variance[i];
      if (!(v >= 0.0) || !std::isfinite(v)) {
        return InvalidInput(
            "gp update: noise_variance[{}] = {} is not a finite non-negative number", i, v);
      }
      if (options_.log_transform) v /= y[i] * y[i];
      ns[i] = v / (y_scale_ * y_scale_);
    }
  }
  AppendStandardised(X, ys, ns);
  return Ok();
}

void GaussianProcess::RemoveLastObservations(int count) {
  assert(count >= 0 && count <= n_);
  n_ -= count;
  X_.conservativeResize(n_, X_.cols());
  y_std_.conservativeResize(n_);
  known_noise_.conservativeResize(n_);
  // The leading block of L^-1 is the inverse factor of the leading block of K; only the
  // removed rows need clearing so that later appends start from zeros.
  linv_.bottomRows(linv_.rows() - n_).setZero();
  UpdateAlpha();
}

std::unique_ptr<GaussianProcess> GaussianProcess::WithFantasies(const Eigen::MatrixXd& Xf) const {
  auto copy = std::make_unique<GaussianProcess>(*this);
  if (n_ == 0 || Xf.rows() == 0) return copy;
  Eigen::VectorXd mean;
  Predict(Xf, &mean, nullptr);
  copy->AppendStandardised(Xf, (mean.array() - y_mean_) / y_scale_,
                           Eigen::VectorXd::Zero(Xf.rows()));
  return copy;
}

void GaussianProcess::Predict(const Eigen::MatrixXd& Xq, Eigen::VectorXd* mean,
                              Eigen::VectorXd* var) const {
  const Eigen::Index m = Xq.rows();
  const double s2 = kernel_->Diagonal();
  if (mean) mean->resize(m);
  if (var) var->resize(m);
  if (n_ == 0) {
    if (mean) mean->setConstant(y_mean_);
    if (var) var->setConstant(y_scale_ * y_scale_ * s2);
    return;
  }
  auto L = linv_.topLeftCorner(n_, n_).triangularView<Eigen::Lower>();
  Eigen::MatrixXd Ks, V;
  for (Eigen::Index start = 0; start < m; start += kPredictBlock) {
    const Eigen::Index rows = std::min(kPredictBlock, m - start);
    if (rows == m) {
      kernel_->Gram(Xq, X_, &Ks);
    } else {
      kernel_->Gram(Xq.middleRows(start, rows), X_, &Ks);
    }
    if (mean) mean->segment(start, rows) = (y_mean_ + y_scale_ * (Ks * alpha_).array()).matrix();
    if (var) {
      V.noalias() = L * Ks.transpose();
      // A floor keeps log-EI and friends finite at training points.
      var->segment(start, rows) =
          (y_scale_ * y_scale_ *
           (s2 - V.colwise().squaredNorm().transpose().array()).max(1e-12 * s2))
              .matrix();
    }
  }
}

void GaussianProcess::PredictOriginalScale(const Eigen::MatrixXd& Xq, Eigen::VectorXd* mean,
                                           Eigen::VectorXd* var) const {
  Eigen::VectorXd mu, s2;
  Predict(Xq, &mu, &s2);
  if (!options_.log_transform) {
    if (mean) *mean = mu;
    if (var) *var = s2;
    return;
  }
  if (mean) *mean = (mu.array() + 0.5 * s2.array()).exp().matrix();
  if (var) *var = ((s2.array().exp() - 1.0) * (2.0 * mu.array() + s2.array()).exp()).matrix();
}

Expected<std::unique_ptr<Surrogate>> MakeGaussianProcess(const FeatureLayout& layout,
                                                         const GpOptions& options, uint64_t seed) {
  auto gp = GaussianProcess::Create(layout, options, seed);
  if (!gp.ok()) return gp.error();
  return std::unique_ptr<Surrogate>(std::move(*gp));
}

}  // namespace sysopt
