#include "sysopt/model/kernel.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

namespace sysopt {
namespace {

// Hyperparameter storage and the parts of the interface every kernel shares.
class LogSpaceKernel : public Kernel {
 public:
  int num_hyperparameters() const override { return static_cast<int>(theta_.size()); }
  Eigen::VectorXd hyperparameters() const override { return theta_; }
  void SetHyperparameters(const Eigen::VectorXd& theta) override {
    assert(theta.size() == theta_.size());
    theta_ = theta;
    OnHyperparametersChanged();
  }
  std::vector<HyperparameterSpec> specs() const override { return specs_; }

 protected:
  void InitFromSpecs() {
    theta_.resize(static_cast<Eigen::Index>(specs_.size()));
    for (size_t i = 0; i < specs_.size(); ++i)
      theta_[static_cast<Eigen::Index>(i)] = specs_[i].prior_mean;
    OnHyperparametersChanged();
  }
  virtual void OnHyperparametersChanged() {}

  Eigen::VectorXd theta_;
  std::vector<HyperparameterSpec> specs_;
};

// Rows of the selected columns, each column scaled by `scale`.
Eigen::MatrixXd SelectColumns(const Eigen::MatrixXd& X, const std::vector<int>& columns,
                              const Eigen::VectorXd& scale) {
  Eigen::MatrixXd out(X.rows(), static_cast<Eigen::Index>(columns.size()));
  for (size_t c = 0; c < columns.size(); ++c) {
    out.col(static_cast<Eigen::Index>(c)) = X.col(columns[c]) * scale[static_cast<Eigen::Index>(c)];
  }
  return out;
}

class MaternArdKernel final : public LogSpaceKernel {
 public:
  explicit MaternArdKernel(std::vector<int> columns) : columns_(std::move(columns)) {
    // Columns live in [0, 1]; a length scale around half the box (growing like sqrt(d), so that
    // typical distances stay comparable as dimensions are added) is a weak, sensible default.
    const double d = static_cast<double>(columns_.size());
    for (int c : columns_) {
      specs_.push_back({fmt::format("matern.col{}.log_lengthscale", c), std::log(0.01),
                        std::log(20.0), std::log(0.5 * std::sqrt(d)), 1.0});
    }
    InitFromSpecs();
  }

  std::string name() const override { return fmt::format("matern52_ard({})", columns_.size()); }
  double Diagonal() const override { return 1.0; }
  std::unique_ptr<Kernel> Clone() const override {
    return std::make_unique<MaternArdKernel>(*this);
  }

  void Gram(const Eigen::MatrixXd& X1, const Eigen::MatrixXd& X2,
            Eigen::MatrixXd* K) const override {
    // One output column at a time so that the work vector stays in L1 cache; Eigen vectorises
    // over the rows of X1.
    Eigen::MatrixXd A = SelectColumns(X1, columns_, inv_lengthscale_);
    Eigen::MatrixXd B = SelectColumns(X2, columns_, inv_lengthscale_);
    K->resize(X1.rows(), X2.rows());
    Eigen::ArrayXd r2(X1.rows()), s(X1.rows());
    for (Eigen::Index j = 0; j < B.rows(); ++j) {
      r2.setZero();
      for (Eigen::Index c = 0; c < A.cols(); ++c) r2 += (A.col(c).array() - B(j, c)).square();
      s = (5.0 * r2).sqrt();
      K->col(j) = ((1.0 + s + s.square() / 3.0) * (-s).exp()).matrix();
    }
  }

  void GramGradient(const Eigen::MatrixXd& X, std::vector<Eigen::MatrixXd>* dK) const override {
    const Eigen::Index n = X.rows();
    Eigen::MatrixXd A = SelectColumns(X, columns_, inv_lengthscale_);
    std::vector<Eigen::MatrixXd> d2(columns_.size(), Eigen::MatrixXd(n, n));
    Eigen::MatrixXd r2 = Eigen::MatrixXd::Zero(n, n);
    for (Eigen::Index c = 0; c < A.cols(); ++c) {
      for (Eigen::Index j = 0; j < n; ++j) {
        d2[c].col(j) = (A.col(c).array() - A(j, c)).square().matrix();
      }
      r2 += d2[c];
    }
    // dk/dlog l_c = 5/3 (1 + s) exp(-s) (x_c - y_c)^2 / l_c^2 with s = sqrt(5) r; this form has
    // no 1/r and so is exact at r = 0.
    Eigen::ArrayXXd s = (5.0 * r2.array()).sqrt();
    Eigen::ArrayXXd common = (5.0 / 3.0) * (1.0 + s) * (-s).exp();
    dK->resize(columns_.size());
    for (size_t c = 0; c < columns_.size(); ++c) (*dK)[c] = (common * d2[c].array()).matrix();
  }

 private:
  void OnHyperparametersChanged() override { inv_lengthscale_ = (-theta_.array()).exp().matrix(); }

  std::vector<int> columns_;
  Eigen::VectorXd inv_lengthscale_;
};

class OverlapKernel final : public LogSpaceKernel {
 public:
  explicit OverlapKernel(std::vector<int> columns) : columns_(std::move(columns)) {
    for (int c : columns_) {
      specs_.push_back(
          {fmt::format("overlap.col{}.log_weight", c), std::log(1e-3), std::log(20.0), 0.0, 1.5});
    }
    InitFromSpecs();
  }

  std::string name() const override { return fmt::format("overlap({})", columns_.size()); }
  double Diagonal() const override { return 1.0; }
  std::unique_ptr<Kernel> Clone() const override { return std::make_unique<OverlapKernel>(*this); }

  void Gram(const Eigen::MatrixXd& X1, const Eigen::MatrixXd& X2,
            Eigen::MatrixXd* K) const override {
    K->resize(X1.rows(), X2.rows());
    Eigen::ArrayXd e(X1.rows());
    const Eigen::ArrayXd w = theta_.array().exp();
    for (Eigen::Index j = 0; j < X2.rows(); ++j) {
      e.setZero();
      for (size_t c = 0; c < columns_.size(); ++c) {
        const int col = columns_[c];
        e += w[static_cast<Eigen::Index>(c)] * (X1.col(col).array() != X2(j, col)).cast<double>();
      }
      K->col(j) = (-e).exp().matrix();
    }
  }

  void GramGradient(const Eigen::MatrixXd& X, std::vector<Eigen::MatrixXd>* dK) const override {
    Eigen::MatrixXd K;
    Gram(X, X, &K);
    dK->resize(columns_.size());
    for (size_t c = 0; c < columns_.size(); ++c) {
      const double w = std::exp(theta_[static_cast<Eigen::Index>(c)]);
      const int col = columns_[c];
      Eigen::MatrixXd& g = (*dK)[c];
      g.resize(X.rows(), X.rows());
      for (Eigen::Index j = 0; j < X.rows(); ++j) {
        g.col(j) =
            (-w * (X.col(col).array() != X(j, col)).cast<double>() * K.col(j).array()).matrix();
      }
    }
  }

 private:
  std::vector<int> columns_;
};

// Element at each position, rounded from the encoding; out-of-range values are clamped so that a
// malformed row degrades the model instead of reading out of bounds.
std::vector<int> ToIntRows(const Eigen::MatrixXd& X, int offset, int width) {
  std::vector<int> out(static_cast<size_t>(X.rows()) * width);
  for (Eigen::Index r = 0; r < X.rows(); ++r) {
    for (int i = 0; i < width; ++i) {
      long v = std::lround(X(r, offset + i));
      out[r * width + i] = static_cast<int>(std::clamp<long>(v, 0, width - 1));
    }
  }
  return out;
}

// Inverse permutations: position of each element.
std::vector<int> Positions(const std::vector<int>& elements, Eigen::Index rows, int width) {
  std::vector<int> pos(elements.size());
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (int i = 0; i < width; ++i) pos[r * width + elements[r * width + i]] = i;
  }
  return pos;
}

class PermutationExpKernel final : public LogSpaceKernel {
 public:
  PermutationExpKernel(PermutationKernel kind, int offset, int width)
      : kind_(kind),
        offset_(offset),
        width_(width),
        spearman_scale_(width > 1 ? 3.0 / (width * (width * width - 1.0)) : 0.0),
        kendall_scale_(width > 1 ? 2.0 / (width * (width - 1.0)) : 0.0) {
    specs_.push_back({fmt::format("{}.col{}.log_weight", KindName(), offset), std::log(1e-2),
                      std::log(50.0), 0.0, 1.5});
    InitFromSpecs();
  }

  std::string name() const override { return fmt::format("{}({})", KindName(), width_); }
  double Diagonal() const override { return 1.0; }
  std::unique_ptr<Kernel> Clone() const override {
    return std::make_unique<PermutationExpKernel>(*this);
  }

  void Gram(const Eigen::MatrixXd& X1, const Eigen::MatrixXd& X2,
            Eigen::MatrixXd* K) const override {
    Eigen::MatrixXd D;
    Distances(X1, X2, &D);
    *K = (-std::exp(theta_[0]) * D.array()).exp().matrix();
  }

  void GramGradient(const Eigen::MatrixXd& X, std::vector<Eigen::MatrixXd>* dK) const override {
    Eigen::MatrixXd D;
    Distances(X, X, &D);
    const double l = std::exp(theta_[0]);
    dK->resize(1);
    (*dK)[0] = (-l * D.array() * (-l * D.array()).exp()).matrix();
  }

 private:
  const char* KindName() const {
    switch (kind_) {
      case PermutationKernel::kSpearman:
        return "spearman";
      case PermutationKernel::kKendall:
        return "kendall";
      case PermutationKernel::kHamming:
        return "perm_hamming";
    }
    return "?";
  }

  void Distances(const Eigen::MatrixXd& X1, const Eigen::MatrixXd& X2, Eigen::MatrixXd* D) const {
    const int w = width_;
    std::vector<int> a = ToIntRows(X1, offset_, w);
    std::vector<int> b = ToIntRows(X2, offset_, w);
    D->resize(X1.rows(), X2.rows());
    // Spearman and Kendall compare positions of elements, so work on inverse permutations.
    if (kind_ != PermutationKernel::kHamming) {
      a = Positions(a, X1.rows(), w);
      b = Positions(b, X2.rows(), w);
    }
    switch (kind_) {
      case PermutationKernel::kSpearman:
        FillDistances<PermutationKernel::kSpearman>(a, b, D);
        break;
      case PermutationKernel::kKendall:
        FillDistances<PermutationKernel::kKendall>(a, b, D);
        break;
      case PermutationKernel::kHamming:
        FillDistances<PermutationKernel::kHamming>(a, b, D);
        break;
    }
  }

  // The kind is a template argument so that the per-pair loop has no branch on it.
  template <PermutationKernel kKind>
  void FillDistances(const std::vector<int>& a, const std::vector<int>& b,
                     Eigen::MatrixXd* D) const {
    const int w = width_;
    for (Eigen::Index j = 0; j < D->cols(); ++j) {
      const int* y = &b[static_cast<size_t>(j * w)];
      for (Eigen::Index i = 0; i < D->rows(); ++i) {
        (*D)(i, j) = Distance<kKind>(&a[static_cast<size_t>(i * w)], y);
      }
    }
  }

  template <PermutationKernel kKind>
  double Distance(const int* px, const int* py) const {
    const int n = width_;
    if (n < 2) return 0.0;
    long s = 0;
    if constexpr (kKind == PermutationKernel::kSpearman) {
      for (int i = 0; i < n; ++i) s += static_cast<long>(px[i] - py[i]) * (px[i] - py[i]);
      return static_cast<double>(s) * spearman_scale_;
    } else if constexpr (kKind == PermutationKernel::kKendall) {
      for (int u = 0; u < n; ++u) {
        for (int v = u + 1; v < n; ++v) s += ((px[u] - px[v]) * (py[u] - py[v]) < 0);
      }
      return static_cast<double>(s) * kendall_scale_;
    } else {
      for (int i = 0; i < n; ++i) s += (px[i] != py[i]);
      return static_cast<double>(s) / n;
    }
  }

  double NormalisedDistanceFromPositions(const int* px, const int* py) const {
    switch (kind_) {
      case PermutationKernel::kSpearman:
        return Distance<PermutationKernel::kSpearman>(px, py);
      case PermutationKernel::kKendall:
        return Distance<PermutationKernel::kKendall>(px, py);
      case PermutationKernel::kHamming:
        return Distance<PermutationKernel::kHamming>(px, py);
    }
    return 0.0;
  }

  friend double sysopt::PermutationDistance(PermutationKernel, const int*, const int*, int);

  PermutationKernel kind_;
  int offset_;
  int width_;
  double spearman_scale_;  // 1 / max squared displacement, n (n^2 - 1) / 3.
  double kendall_scale_;   // 1 / max discordant pairs, n (n - 1) / 2.
};

class ProductKernel final : public LogSpaceKernel {
 public:
  ProductKernel(std::vector<std::unique_ptr<Kernel>> factors, bool add_sum_term)
      : factors_(std::move(factors)), add_sum_term_(add_sum_term) {
    // Outputs are standardised by the model, so a signal variance near 1 is expected.
    specs_.push_back({"log_signal_variance", std::log(1e-2), std::log(1e2), 0.0, 1.5});
    if (add_sum_term_) specs_.push_back({"logit_sum_weight", -6.0, 6.0, -1.0, 1.5});
    for (const auto& f : factors_) {
      for (auto& s : f->specs()) specs_.push_back(std::move(s));
    }
    theta_.resize(static_cast<Eigen::Index>(specs_.size()));
    theta_[0] = specs_[0].prior_mean;
    if (add_sum_term_) theta_[1] = specs_[1].prior_mean;
    Eigen::Index at = own_count();
    for (const auto& f : factors_) {
      theta_.segment(at, f->num_hyperparameters()) = f->hyperparameters();
      at += f->num_hyperparameters();
    }
  }

  ProductKernel(const ProductKernel& other)
      : LogSpaceKernel(other), add_sum_term_(other.add_sum_term_) {
    for (const auto& f : other.factors_) factors_.push_back(f->Clone());
  }

  std::string name() const override {
    std::string s = add_sum_term_ ? "product_plus_sum(" : "product(";
    for (size_t g = 0; g < factors_.size(); ++g) s += (g ? ", " : "") + factors_[g]->name();
    return s + ")";
  }
  double Diagonal() const override { return std::exp(theta_[0]); }
  std::unique_ptr<Kernel> Clone() const override { return std::make_unique<ProductKernel>(*this); }

  void Gram(const Eigen::MatrixXd& X1, const Eigen::MatrixXd& X2,
            Eigen::MatrixXd* K) const override {
    const double s2 = std::exp(theta_[0]);
    if (factors_.empty()) {
      K->setConstant(X1.rows(), X2.rows(), s2);
      return;
    }
    Eigen::MatrixXd kg;
    factors_[0]->Gram(X1, X2, K);
    Eigen::MatrixXd sum;
    if (add_sum_term_) sum = *K;
    for (size_t g = 1; g < factors_.size(); ++g) {
      factors_[g]->Gram(X1, X2, &kg);
      K->array() *= kg.array();
      if (add_sum_term_) sum += kg;
    }
    if (add_sum_term_) {
      const double w = SumWeight();
      *K = s2 * ((1.0 - w) * *K + (w / static_cast<double>(factors_.size())) * sum);
    } else {
      *K *= s2;
    }
  }

  void GramGradient(const Eigen::MatrixXd& X, std::vector<Eigen::MatrixXd>* dK) const override {
    const Eigen::Index n = X.rows();
    const double s2 = std::exp(theta_[0]);
    const size_t G = factors_.size();
    std::vector<Eigen::MatrixXd> kg(G);
    for (size_t g = 0; g < G; ++g) factors_[g]->Gram(X, X, &kg[g]);
    Eigen::MatrixXd prod = Eigen::MatrixXd::Ones(n, n);
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(n, n);
    for (const auto& k : kg) {
      prod.array() *= k.array();
      sum += k;
    }
    const double w = add_sum_term_ ? SumWeight() : 0.0;
    const double inv_g = G ? 1.0 / static_cast<double>(G) : 0.0;
    dK->clear();
    dK->reserve(static_cast<size_t>(num_hyperparameters()));
    // d/dlog s2 is the kernel itself.
    dK->push_back(s2 * ((1.0 - w) * prod + w * inv_g * sum));
    if (add_sum_term_) dK->push_back(s2 * w * (1.0 - w) * (inv_g * sum - prod));
    std::vector<Eigen::MatrixXd> dfactor;
    for (size_t g = 0; g < G; ++g) {
      // Product of the other factors, recomputed rather than divided out because a factor may
      // underflow to zero.
      Eigen::MatrixXd others = Eigen::MatrixXd::Ones(n, n);
      for (size_t h = 0; h < G; ++h) {
        if (h != g) others.array() *= kg[h].array();
      }
      Eigen::ArrayXXd chain = s2 * ((1.0 - w) * others.array() + w * inv_g);
      factors_[g]->GramGradient(X, &dfactor);
      for (auto& d : dfactor) dK->push_back((chain * d.array()).matrix());
    }
  }

 private:
  Eigen::Index own_count() const { return add_sum_term_ ? 2 : 1; }
  double SumWeight() const { return 1.0 / (1.0 + std::exp(-theta_[1])); }

  void OnHyperparametersChanged() override {
    Eigen::Index at = own_count();
    for (auto& f : factors_) {
      f->SetHyperparameters(theta_.segment(at, f->num_hyperparameters()));
      at += f->num_hyperparameters();
    }
  }

  std::vector<std::unique_ptr<Kernel>> factors_;
  bool add_sum_term_;
};

}  // namespace

double PermutationDistance(PermutationKernel kind, const int* x, const int* y, int n) {
  PermutationExpKernel k(kind, 0, n);
  if (kind == PermutationKernel::kHamming) return k.NormalisedDistanceFromPositions(x, y);
  std::vector<int> px(n), py(n);
  for (int i = 0; i < n; ++i) {
    px[x[i]] = i;
    py[y[i]] = i;
  }
  return k.NormalisedDistanceFromPositions(px.data(), py.data());
}

std::unique_ptr<Kernel> MakeMaternArdKernel(std::vector<int> columns) {
  return std::make_unique<MaternArdKernel>(std::move(columns));
}

std::unique_ptr<Kernel> MakeOverlapKernel(std::vector<int> columns) {
  return std::make_unique<OverlapKernel>(std::move(columns));
}

std::unique_ptr<Kernel> MakePermutationKernel(PermutationKernel kind, int offset, int width) {
  return std::make_unique<PermutationExpKernel>(kind, offset, width);
}

std::unique_ptr<Kernel> MakeProductKernel(std::vector<std::unique_ptr<Kernel>> factors,
                                          bool add_sum_term) {
  return std::make_unique<ProductKernel>(std::move(factors), add_sum_term);
}

Expected<std::unique_ptr<Kernel>> MakeKernel(const FeatureLayout& layout,
                                             const KernelOptions& options) {
  if (layout.groups.empty()) return InvalidInput("feature layout: no groups to build a kernel on");
  std::vector<int> numeric, categorical;
  std::vector<std::unique_ptr<Kernel>> factors;
  std::vector<std::unique_ptr<Kernel>> permutations;
  for (const FeatureGroup& g : layout.groups) {
    const int width = g.kind == FeatureKind::kPermutation ? g.width : 1;
    if (g.offset < 0 || width < 1 || g.offset + width > layout.width) {
      return InvalidInput("feature layout: group '{}' has columns {}..{} outside 0..{}", g.name,
                          g.offset, g.offset + width - 1, layout.width - 1);
    }
    switch (g.kind) {
      case FeatureKind::kNumeric:
        numeric.push_back(g.offset);
        break;
      case FeatureKind::kCategorical:
        categorical.push_back(g.offset);
        break;
      case FeatureKind::kPermutation:
        permutations.push_back(MakePermutationKernel(options.permutation, g.offset, g.width));
        break;
    }
  }
  if (!numeric.empty()) factors.push_back(MakeMaternArdKernel(std::move(numeric)));
  if (!categorical.empty()) factors.push_back(MakeOverlapKernel(std::move(categorical)));
  for (auto& p : permutations) factors.push_back(std::move(p));
  return MakeProductKernel(std::move(factors), options.add_sum_term);
}

}  // namespace sysopt
