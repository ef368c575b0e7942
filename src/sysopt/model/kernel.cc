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

  void ContractGradient(const Eigen::MatrixXd& X, const Eigen::MatrixXd& W,
                        Eigen::VectorXd* out) const override {
    // With M = W o common (symmetric), sum_ab M_ab (a_c - b_c)^2 = 2 sum_a a_c^2 (M 1)_a -
    // 2 a_c^T M a_c: one matrix-vector product per length scale.
    const Eigen::Index n = X.rows();
    Eigen::MatrixXd A = SelectColumns(X, columns_, inv_lengthscale_);
    Eigen::MatrixXd M(n, n);
    Eigen::ArrayXd r2(n), s(n);
    for (Eigen::Index j = 0; j < n; ++j) {
      r2.setZero();
      for (Eigen::Index c = 0; c < A.cols(); ++c) r2 += (A.col(c).array() - A(j, c)).square();
      s = (5.0 * r2).sqrt();
      M.col(j) = ((5.0 / 3.0) * (1.0 + s) * (-s).exp() * W.col(j).array()).matrix();
    }
    const Eigen::VectorXd row_sums = M.rowwise().sum();
    out->resize(A.cols());
    for (Eigen::Index c = 0; c < A.cols(); ++c) {
      const Eigen::VectorXd a = A.col(c);
      (*out)[c] = 2.0 * a.array().square().matrix().dot(row_sums) - 2.0 * a.dot(M * a);
    }
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
    // exp(-sum_c w_c [a_c != b_c]) = prod_c (a_c == b_c ? 1 : exp(-w_c)): one exponential per
    // column instead of one per entry.
    K->resize(X1.rows(), X2.rows());
    const Eigen::ArrayXd mismatch = (-theta_.array().exp()).exp();
    for (Eigen::Index j = 0; j < X2.rows(); ++j) {
      auto k = K->col(j).array();
      k.setOnes();
      for (size_t c = 0; c < columns_.size(); ++c) {
        const int col = columns_[c];
        const double drop = 1.0 - mismatch[static_cast<Eigen::Index>(c)];
        k *= 1.0 - drop * (X1.col(col).array() != X2(j, col)).cast<double>();
      }
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

  void ContractGradient(const Eigen::MatrixXd& X, const Eigen::MatrixXd& W,
                        Eigen::VectorXd* out) const override {
    Eigen::MatrixXd K;
    Gram(X, X, &K);
    const Eigen::ArrayXXd M = W.array() * K.array();
    out->setZero(static_cast<Eigen::Index>(columns_.size()));
    for (size_t c = 0; c < columns_.size(); ++c) {
      const double w = std::exp(theta_[static_cast<Eigen::Index>(c)]);
      const int col = columns_[c];
      double sum = 0;
      for (Eigen::Index j = 0; j < X.rows(); ++j) {
        sum += ((X.col(col).array() != X(j, col)).cast<double>() * M.col(j)).sum();
      }
      (*out)[static_cast<Eigen::Index>(c)] = -w * sum;
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

// One sequence as sparse count vectors: (key, count) pairs sorted by key, for its items and for
// its bigrams (with start and end markers, so that the first and last items count as well).
struct SequenceProfile {
  std::vector<std::pair<int32_t, int32_t>> items;
  std::vector<std::pair<int32_t, int32_t>> bigrams;
  int32_t length = 0;  // Items; there are length + 1 bigrams.
};

void CountSorted(std::vector<int32_t>& keys, std::vector<std::pair<int32_t, int32_t>>* out) {
  std::sort(keys.begin(), keys.end());
  out->clear();
  for (int32_t k : keys) {
    if (!out->empty() && out->back().first == k) {
      ++out->back().second;
    } else {
      out->emplace_back(k, 1);
    }
  }
}

// sum_k min(a_k, b_k) of two sparse count vectors, by merging.
int32_t SparseOverlap(const std::vector<std::pair<int32_t, int32_t>>& a,
                      const std::vector<std::pair<int32_t, int32_t>>& b) {
  int32_t common = 0;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].first == b[j].first) {
      common += std::min(a[i++].second, b[j++].second);
    } else if (a[i].first < b[j].first) {
      ++i;
    } else {
      ++j;
    }
  }
  return common;
}

// Both distances are L1 distances between count vectors divided by constants, and exp(-w * L1)
// is a product of one-dimensional Laplace kernels over the coordinates, so every weighted sum of
// them gives a positive definite kernel. The bigram term is the q-gram distance (q = 2), a cheap
// lower bound of the edit distance: one insertion, deletion or replacement changes it by at most
// 3 or 4, an adjacent swap by at most 6, so that the neighbours of Parameter::Neighbors stay close.
class SequenceExpKernel final : public LogSpaceKernel {
 public:
  SequenceExpKernel(int offset, int max_length, int n_symbols)
      : offset_(offset), max_length_(max_length), n_symbols_(n_symbols) {
    specs_.push_back({fmt::format("sequence.col{}.log_item_weight", offset), std::log(1e-2),
                      std::log(50.0), 0.0, 1.5});
    specs_.push_back({fmt::format("sequence.col{}.log_order_weight", offset), std::log(1e-2),
                      std::log(50.0), 0.0, 1.5});
    InitFromSpecs();
  }

  std::string name() const override {
    return fmt::format("sequence({}x{})", max_length_, n_symbols_);
  }
  double Diagonal() const override { return 1.0; }
  std::unique_ptr<Kernel> Clone() const override {
    return std::make_unique<SequenceExpKernel>(*this);
  }

  void Gram(const Eigen::MatrixXd& X1, const Eigen::MatrixXd& X2,
            Eigen::MatrixXd* K) const override {
    Eigen::MatrixXd items, order;
    Distances(X1, X2, &items, &order);
    *K = (-(std::exp(theta_[0]) * items.array() + std::exp(theta_[1]) * order.array()))
             .exp()
             .matrix();
  }

  void GramGradient(const Eigen::MatrixXd& X, std::vector<Eigen::MatrixXd>* dK) const override {
    Eigen::MatrixXd items, order;
    Distances(X, X, &items, &order);
    const double w_items = std::exp(theta_[0]), w_order = std::exp(theta_[1]);
    const Eigen::ArrayXXd K = (-(w_items * items.array() + w_order * order.array())).exp();
    dK->resize(2);
    (*dK)[0] = (-w_items * items.array() * K).matrix();
    (*dK)[1] = (-w_order * order.array() * K).matrix();
  }

  // L1 distances from the overlaps: |a - b|_1 = |a|_1 + |b|_1 - 2 sum_k min(a_k, b_k).
  std::pair<double, double> FromOverlaps(const SequenceProfile& a, const SequenceProfile& b,
                                         int32_t common_items, int32_t common_bigrams) const {
    const int32_t items = a.length + b.length - 2 * common_items;
    const int32_t bigrams = (a.length + 1) + (b.length + 1) - 2 * common_bigrams;
    return {items / static_cast<double>(max_length_),
            bigrams / static_cast<double>(max_length_ + 1)};
  }

  std::pair<double, double> RowDistance(const SequenceProfile& a, const SequenceProfile& b) const {
    return FromOverlaps(a, b, SparseOverlap(a.items, b.items), SparseOverlap(a.bigrams, b.bigrams));
  }

  std::vector<SequenceProfile> Profiles(const Eigen::MatrixXd& X) const {
    std::vector<SequenceProfile> out(static_cast<size_t>(X.rows()));
    const int32_t start = n_symbols_, end = n_symbols_ + 1, base = n_symbols_ + 2;
    std::vector<int32_t> items, bigrams;
    for (Eigen::Index r = 0; r < X.rows(); ++r) {
      items.clear();
      bigrams.clear();
      int32_t previous = start;
      // The sequence ends at the first end token; values outside the alphabet end it too, so that
      // a malformed row degrades the model instead of reading out of bounds.
      for (int i = 0; i < max_length_; ++i) {
        const long v = std::lround(X(r, offset_ + i));
        if (v < 0 || v >= n_symbols_) break;
        items.push_back(static_cast<int32_t>(v));
        bigrams.push_back(previous * base + static_cast<int32_t>(v));
        previous = static_cast<int32_t>(v);
      }
      bigrams.push_back(previous * base + end);
      SequenceProfile& p = out[static_cast<size_t>(r)];
      p.length = static_cast<int32_t>(items.size());
      CountSorted(items, &p.items);
      CountSorted(bigrams, &p.bigrams);
    }
    return out;
  }

 private:
  // Bigram keys index a dense table of counts when it stays small (alphabets up to ~250 items);
  // larger alphabets merge the sorted lists instead.
  static constexpr int64_t kMaxTable = 1 << 16;

  void Distances(const Eigen::MatrixXd& X1, const Eigen::MatrixXd& X2, Eigen::MatrixXd* items,
                 Eigen::MatrixXd* order) const {
    const bool same = &X1 == &X2;
    const std::vector<SequenceProfile> a = Profiles(X1);
    std::vector<SequenceProfile> other;
    if (!same) other = Profiles(X2);
    const std::vector<SequenceProfile>& b = same ? a : other;
    items->resize(X1.rows(), X2.rows());
    order->resize(X1.rows(), X2.rows());
    const int64_t base = n_symbols_ + 2;
    const bool dense = base * base <= kMaxTable;
    // Counts of the current column's sequence, looked up by the rows' keys: branch-free overlaps,
    // where the merge of two sorted lists mispredicts at almost every step.
    std::vector<int32_t> item_count, bigram_count;
    if (dense) {
      item_count.assign(static_cast<size_t>(n_symbols_), 0);
      bigram_count.assign(static_cast<size_t>(base * base), 0);
    }
    for (Eigen::Index j = 0; j < X2.rows(); ++j) {
      const SequenceProfile& y = b[static_cast<size_t>(j)];
      if (dense) {
        for (const auto& [k, c] : y.items) item_count[static_cast<size_t>(k)] = c;
        for (const auto& [k, c] : y.bigrams) bigram_count[static_cast<size_t>(k)] = c;
      }
      // Against itself the matrices are symmetric: the lower triangle is a copy.
      for (Eigen::Index i = same ? j : 0; i < X1.rows(); ++i) {
        const SequenceProfile& x = a[static_cast<size_t>(i)];
        std::pair<double, double> d;
        if (dense) {
          int32_t common_items = 0, common_bigrams = 0;
          for (const auto& [k, c] : x.items) {
            common_items += std::min(c, item_count[static_cast<size_t>(k)]);
          }
          for (const auto& [k, c] : x.bigrams) {
            common_bigrams += std::min(c, bigram_count[static_cast<size_t>(k)]);
          }
          d = FromOverlaps(x, y, common_items, common_bigrams);
        } else {
          d = RowDistance(x, y);
        }
        (*items)(i, j) = d.first;
        (*order)(i, j) = d.second;
        if (same) {
          (*items)(j, i) = d.first;
          (*order)(j, i) = d.second;
        }
      }
      if (dense) {
        for (const auto& [k, c] : y.items) item_count[static_cast<size_t>(k)] = 0;
        for (const auto& [k, c] : y.bigrams) bigram_count[static_cast<size_t>(k)] = 0;
      }
    }
  }

  int offset_;
  int max_length_;
  int n_symbols_;
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

  void ContractGradient(const Eigen::MatrixXd& X, const Eigen::MatrixXd& W,
                        Eigen::VectorXd* out) const override {
    const Eigen::Index n = X.rows();
    const double s2 = std::exp(theta_[0]);
    const size_t G = factors_.size();
    std::vector<Eigen::MatrixXd> kg(G);
    for (size_t g = 0; g < G; ++g) factors_[g]->Gram(X, X, &kg[g]);
    Eigen::ArrayXXd prod = Eigen::ArrayXXd::Ones(n, n);
    Eigen::ArrayXXd sum = Eigen::ArrayXXd::Zero(n, n);
    for (const auto& k : kg) {
      prod *= k.array();
      sum += k.array();
    }
    const double w = add_sum_term_ ? SumWeight() : 0.0;
    const double inv_g = G ? 1.0 / static_cast<double>(G) : 0.0;
    out->resize(num_hyperparameters());
    Eigen::Index at = 0;
    (*out)[at++] = s2 * (W.array() * ((1.0 - w) * prod + w * inv_g * sum)).sum();
    if (add_sum_term_) (*out)[at++] = s2 * w * (1.0 - w) * (W.array() * (inv_g * sum - prod)).sum();
    Eigen::VectorXd part;
    for (size_t g = 0; g < G; ++g) {
      // The chain rule's factor folds into the weights the factor contracts with.
      Eigen::ArrayXXd others = Eigen::ArrayXXd::Ones(n, n);
      for (size_t h = 0; h < G; ++h) {
        if (h != g) others *= kg[h].array();
      }
      const Eigen::MatrixXd weights = (W.array() * s2 * ((1.0 - w) * others + w * inv_g)).matrix();
      factors_[g]->ContractGradient(X, weights, &part);
      out->segment(at, part.size()) = part;
      at += part.size();
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

void Kernel::ContractGradient(const Eigen::MatrixXd& X, const Eigen::MatrixXd& W,
                              Eigen::VectorXd* out) const {
  std::vector<Eigen::MatrixXd> dK;
  GramGradient(X, &dK);
  out->resize(static_cast<Eigen::Index>(dK.size()));
  for (size_t j = 0; j < dK.size(); ++j) {
    (*out)[static_cast<Eigen::Index>(j)] = W.cwiseProduct(dK[j]).sum();
  }
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

std::unique_ptr<Kernel> MakeSequenceKernel(int offset, int max_length, int n_symbols) {
  return std::make_unique<SequenceExpKernel>(offset, max_length, n_symbols);
}

std::pair<double, double> SequenceDistances(const std::vector<int>& x, const std::vector<int>& y,
                                            int max_length, int n_symbols) {
  SequenceExpKernel k(0, max_length, n_symbols);
  Eigen::MatrixXd rows = Eigen::MatrixXd::Constant(2, max_length, n_symbols);
  for (size_t i = 0; i < x.size() && i < static_cast<size_t>(max_length); ++i) rows(0, i) = x[i];
  for (size_t i = 0; i < y.size() && i < static_cast<size_t>(max_length); ++i) rows(1, i) = y[i];
  const auto profiles = k.Profiles(rows);
  return k.RowDistance(profiles[0], profiles[1]);
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
  // Permutation and sequence factors, in layout order.
  std::vector<std::unique_ptr<Kernel>> permutations;
  for (const FeatureGroup& g : layout.groups) {
    const bool wide = g.kind == FeatureKind::kPermutation || g.kind == FeatureKind::kSequence;
    const int width = wide ? g.width : 1;
    if (g.offset < 0 || width < 1 || g.offset + width > layout.width) {
      return InvalidInput("feature layout: group '{}' has columns {}..{} outside 0..{}", g.name,
                          g.offset, g.offset + width - 1, layout.width - 1);
    }
    if (g.kind == FeatureKind::kSequence &&
        (g.max_length < 1 || g.n_choices < 1 || g.width != g.max_length + g.n_choices)) {
      return InvalidInput(
          "feature layout: sequence group '{}' has width {}, max_length {} and {} items (the "
          "width must be max_length + items, both at least 1)",
          g.name, g.width, g.max_length, g.n_choices);
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
      case FeatureKind::kSequence:
        permutations.push_back(MakeSequenceKernel(g.offset, g.max_length, g.n_choices));
        break;
    }
  }
  if (!numeric.empty()) factors.push_back(MakeMaternArdKernel(std::move(numeric)));
  if (!categorical.empty()) factors.push_back(MakeOverlapKernel(std::move(categorical)));
  for (auto& p : permutations) factors.push_back(std::move(p));
  return MakeProductKernel(std::move(factors), options.add_sum_term);
}

}  // namespace sysopt
