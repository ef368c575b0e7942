#include "sysopt/model/random_forest.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>
#include <vector>

#include "sysopt/core/rng.h"

namespace sysopt {

namespace {

struct Node {
  int column = -1;         // -1 for a leaf.
  double threshold = 0.0;  // Ordered columns: value <= threshold goes left.
  int category_set = -1;   // Categorical columns: index of the set of choices going left.
  int left = -1;
  int right = -1;
  double mean = 0.0;  // Leaf statistics of the targets.
  double variance = 0.0;
};

struct Tree {
  std::vector<Node> nodes;
  std::vector<std::vector<char>> category_sets;
};

struct ColumnInfo {
  bool categorical = false;
  int n_choices = 0;  // Categorical only; grown from the data when the layout does not say.
};

}  // namespace

// The trees shared by both forests; lives here so that the headers stay free of tree details.
class TreeEnsemble {
 public:
  TreeEnsemble(std::vector<ColumnInfo> columns, const ForestOptions& options)
      : columns_(std::move(columns)), options_(options) {}

  void Fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, uint64_t seed) {
    trees_.assign(static_cast<size_t>(options_.num_trees), Tree{});
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (!columns_[c].categorical) continue;
      for (Eigen::Index r = 0; r < X.rows(); ++r) {
        columns_[c].n_choices = std::max(columns_[c].n_choices,
                                         static_cast<int>(X(r, static_cast<Eigen::Index>(c))) + 1);
      }
    }
    for (int t = 0; t < options_.num_trees; ++t) {
      Rng rng(DeriveSeed(seed, static_cast<uint64_t>(t)));
      BuildTree(X, y, rng, &trees_[static_cast<size_t>(t)]);
    }
  }

  // Leaf of each tree for row r; returns (mean, variance) pairs through the callback.
  template <typename F>
  void ForEachLeaf(const Eigen::MatrixXd& X, Eigen::Index r, F&& f) const {
    for (const Tree& tree : trees_) {
      int at = 0;
      while (tree.nodes[static_cast<size_t>(at)].column >= 0) {
        const Node& node = tree.nodes[static_cast<size_t>(at)];
        const double v = X(r, node.column);
        bool left;
        if (node.category_set >= 0) {
          const auto& set = tree.category_sets[static_cast<size_t>(node.category_set)];
          const long k = std::lround(v);
          // A choice never seen at this node goes right.
          left = k >= 0 && k < static_cast<long>(set.size()) && set[static_cast<size_t>(k)];
        } else {
          left = v <= node.threshold;
        }
        at = left ? node.left : node.right;
      }
      const Node& leaf = tree.nodes[static_cast<size_t>(at)];
      f(leaf.mean, leaf.variance);
    }
  }

  bool empty() const { return trees_.empty(); }

  std::vector<TreeView> Views() const {
    std::vector<TreeView> views;
    views.reserve(trees_.size());
    for (const Tree& tree : trees_) {
      TreeView view;
      view.reserve(tree.nodes.size());
      for (const Node& node : tree.nodes) {
        TreeNodeView v;
        v.column = node.column;
        v.threshold = node.threshold;
        if (node.category_set >= 0) {
          v.left_choices = tree.category_sets[static_cast<size_t>(node.category_set)];
        }
        v.left = node.left;
        v.right = node.right;
        v.mean = node.mean;
        view.push_back(std::move(v));
      }
      views.push_back(std::move(view));
    }
    return views;
  }

 private:
  struct Split {
    double score = -1.0;
    int column = -1;
    double threshold = 0.0;
    std::vector<char> left_set;
  };

  void BuildTree(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, Rng& rng, Tree* tree) {
    const int rows = static_cast<int>(X.rows());
    // A bootstrap sample holds at most max_samples rows: each tree then costs the same however
    // long the history, and the ensemble still sees every row across its trees.
    const int n = options_.bootstrap && options_.max_samples > 0
                      ? std::min(rows, options_.max_samples)
                      : rows;
    std::vector<int> idx(static_cast<size_t>(n));
    if (options_.bootstrap) {
      for (int& i : idx) i = static_cast<int>(UniformIndex(rng, static_cast<uint64_t>(rows)));
    } else {
      std::iota(idx.begin(), idx.end(), 0);
    }
    struct Work {
      int node, begin, end, depth;
    };
    std::vector<Work> stack;
    tree->nodes.push_back(Node{});
    stack.push_back({0, 0, n, 0});
    std::vector<int> features(columns_.size());
    std::iota(features.begin(), features.end(), 0);
    const int d = static_cast<int>(columns_.size());
    const int n_try =
        std::clamp(static_cast<int>(std::ceil(options_.max_features * d - 1e-9)), 1, d);
    while (!stack.empty()) {
      const Work w = stack.back();
      stack.pop_back();
      double sum = 0.0, sum2 = 0.0;
      for (int i = w.begin; i < w.end; ++i) {
        const double v = y[idx[static_cast<size_t>(i)]];
        sum += v;
        sum2 += v * v;
      }
      const int count = w.end - w.begin;
      const double mean = sum / count;
      const double variance = std::max(0.0, sum2 / count - mean * mean);
      {
        Node& node = tree->nodes[static_cast<size_t>(w.node)];
        node.mean = mean;
        node.variance = variance;
      }
      if (count < options_.min_samples_split || count < 2 * options_.min_samples_leaf ||
          w.depth >= options_.max_depth || variance <= 1e-14 * (1.0 + mean * mean)) {
        continue;
      }
      // Partial Fisher-Yates: the first n_try entries become a random subset of columns.
      for (int k = 0; k < n_try; ++k) {
        const int j = k + static_cast<int>(UniformIndex(rng, static_cast<uint64_t>(d - k)));
        std::swap(features[static_cast<size_t>(k)], features[static_cast<size_t>(j)]);
      }
      Split best;
      best.score = sum * sum / count + 1e-12 * (1.0 + std::abs(sum2));
      for (int k = 0; k < n_try; ++k) {
        const int c = features[static_cast<size_t>(k)];
        if (columns_[static_cast<size_t>(c)].categorical) {
          TryCategorical(X, y, idx, w.begin, w.end, c, &best);
        } else {
          TryOrdered(X, y, idx, w.begin, w.end, c, rng, &best);
        }
      }
      if (best.column < 0) continue;
      const bool categorical = !best.left_set.empty();
      auto goes_left = [&](int i) {
        const double v = X(i, best.column);
        if (categorical)
          return static_cast<bool>(best.left_set[static_cast<size_t>(std::lround(v))]);
        return v <= best.threshold;
      };
      const int mid = static_cast<int>(
          std::partition(idx.begin() + w.begin, idx.begin() + w.end, goes_left) - idx.begin());
      if (mid == w.begin || mid == w.end) continue;
      const int left = static_cast<int>(tree->nodes.size());
      tree->nodes.push_back(Node{});
      tree->nodes.push_back(Node{});
      Node& node = tree->nodes[static_cast<size_t>(w.node)];
      node.column = best.column;
      node.threshold = best.threshold;
      node.left = left;
      node.right = left + 1;
      if (categorical) {
        node.category_set = static_cast<int>(tree->category_sets.size());
        tree->category_sets.push_back(std::move(best.left_set));
      }
      stack.push_back({left, w.begin, mid, w.depth + 1});
      stack.push_back({left + 1, mid, w.end, w.depth + 1});
    }
  }

  // Best threshold on an ordered column by the variance criterion, maximising
  // sum_L^2 / n_L + sum_R^2 / n_R (equivalent to minimising the children's squared error).
  void TryOrdered(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const std::vector<int>& idx,
                  int begin, int end, int c, Rng& rng, Split* best) {
    const int n = end - begin;
    scratch_.resize(static_cast<size_t>(n));
    double total = 0.0;
    for (int i = 0; i < n; ++i) {
      const int r = idx[static_cast<size_t>(begin + i)];
      scratch_[static_cast<size_t>(i)] = {X(r, c), y[r]};
      total += y[r];
    }
    std::sort(scratch_.begin(), scratch_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    if (scratch_.front().first == scratch_.back().first) return;
    const int min_leaf = std::max(1, options_.min_samples_leaf);
    double left_sum = 0.0;
    int best_i = -1;
    double best_score = best->score;
    for (int i = 0; i < n - 1; ++i) {
      left_sum += scratch_[static_cast<size_t>(i)].second;
      const int nl = i + 1;
      if (nl < min_leaf || n - nl < min_leaf) continue;
      if (scratch_[static_cast<size_t>(i)].first == scratch_[static_cast<size_t>(i + 1)].first) {
        continue;
      }
      const double right_sum = total - left_sum;
      const double score = left_sum * left_sum / nl + right_sum * right_sum / (n - nl);
      if (score > best_score) {
        best_score = score;
        best_i = i;
      }
    }
    if (best_i < 0) return;
    const double a = scratch_[static_cast<size_t>(best_i)].first;
    const double b = scratch_[static_cast<size_t>(best_i + 1)].first;
    double t = a + Uniform01(rng) * (b - a);
    if (!(t >= a && t < b)) t = a;
    best->score = best_score;
    best->column = c;
    best->threshold = t;
    best->left_set.clear();
  }

  // Categories sorted by mean response; the best prefix of that order is the optimal subset
  // split for squared error (Breiman et al., CART, 1984).
  void TryCategorical(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                      const std::vector<int>& idx, int begin, int end, int c, Split* best) {
    const int k = std::max(1, columns_[static_cast<size_t>(c)].n_choices);
    std::vector<double> sums(static_cast<size_t>(k), 0.0);
    std::vector<int> counts(static_cast<size_t>(k), 0);
    double total = 0.0;
    for (int i = begin; i < end; ++i) {
      const int r = idx[static_cast<size_t>(i)];
      const int v = std::clamp(static_cast<int>(std::lround(X(r, c))), 0, k - 1);
      sums[static_cast<size_t>(v)] += y[r];
      ++counts[static_cast<size_t>(v)];
      total += y[r];
    }
    std::vector<int> present;
    for (int v = 0; v < k; ++v) {
      if (counts[static_cast<size_t>(v)] > 0) present.push_back(v);
    }
    if (present.size() < 2) return;
    std::sort(present.begin(), present.end(), [&](int a, int b) {
      return sums[static_cast<size_t>(a)] / counts[static_cast<size_t>(a)] <
             sums[static_cast<size_t>(b)] / counts[static_cast<size_t>(b)];
    });
    const int n = end - begin;
    const int min_leaf = std::max(1, options_.min_samples_leaf);
    double left_sum = 0.0;
    int nl = 0;
    int best_prefix = -1;
    double best_score = best->score;
    for (size_t p = 0; p + 1 < present.size(); ++p) {
      left_sum += sums[static_cast<size_t>(present[p])];
      nl += counts[static_cast<size_t>(present[p])];
      if (nl < min_leaf || n - nl < min_leaf) continue;
      const double right_sum = total - left_sum;
      const double score = left_sum * left_sum / nl + right_sum * right_sum / (n - nl);
      if (score > best_score) {
        best_score = score;
        best_prefix = static_cast<int>(p);
      }
    }
    if (best_prefix < 0) return;
    best->score = best_score;
    best->column = c;
    best->left_set.assign(static_cast<size_t>(k), 0);
    for (int p = 0; p <= best_prefix; ++p) best->left_set[static_cast<size_t>(present[p])] = 1;
  }

  std::vector<ColumnInfo> columns_;
  ForestOptions options_;
  std::vector<Tree> trees_;
  std::vector<std::pair<double, double>> scratch_;
};

namespace {

Expected<void> CheckOptions(const FeatureLayout& layout, const ForestOptions& o) {
  if (layout.width <= 0 || layout.groups.empty()) {
    return InvalidInput("feature layout: no columns to build a forest on");
  }
  if (o.num_trees < 1 || o.min_samples_leaf < 1 || o.min_samples_split < 2 || o.max_depth < 1 ||
      !(o.max_features > 0.0 && o.max_features <= 1.0) || o.max_samples < 0) {
    return InvalidInput(
        "forest options: num_trees={}, min_samples_leaf={}, min_samples_split={}, max_depth={}, "
        "max_features={}, max_samples={} out of range",
        o.num_trees, o.min_samples_leaf, o.min_samples_split, o.max_depth, o.max_features,
        o.max_samples);
  }
  return Ok();
}

std::vector<ColumnInfo> Columns(const FeatureLayout& layout) {
  std::vector<ColumnInfo> columns(static_cast<size_t>(std::max(layout.width, 0)));
  for (const FeatureGroup& g : layout.groups) {
    if (g.kind == FeatureKind::kCategorical && g.offset >= 0 && g.offset < layout.width) {
      columns[static_cast<size_t>(g.offset)] = {true, g.n_choices};
    }
    // A sequence's positions hold unordered item ids (and the end token n_choices): split them
    // by subsets of items; its count columns are ordered.
    if (g.kind == FeatureKind::kSequence) {
      for (int i = 0; i < g.max_length; ++i) {
        const int c = g.offset + i;
        if (c >= 0 && c < layout.width) columns[static_cast<size_t>(c)] = {true, g.n_choices + 1};
      }
    }
  }
  return columns;
}

}  // namespace

ForestOptions FeasibilityForestDefaults() {
  ForestOptions o;
  o.num_trees = 16;
  o.min_samples_split = 2;
  o.min_samples_leaf = 1;
  o.max_features = 0.5;
  return o;
}

// ---- RandomForest ----

Expected<std::unique_ptr<RandomForest>> RandomForest::Create(const FeatureLayout& layout,
                                                             const ForestOptions& options,
                                                             uint64_t seed) {
  SYSOPT_RETURN_IF_ERROR(CheckOptions(layout, options));
  return std::make_unique<RandomForest>(layout, options, seed);
}

RandomForest::RandomForest(const FeatureLayout& layout, const ForestOptions& options, uint64_t seed)
    : layout_(layout), options_(options), seed_(seed) {}

RandomForest::RandomForest(const RandomForest& other)
    : layout_(other.layout_),
      options_(other.options_),
      seed_(other.seed_),
      fit_count_(other.fit_count_),
      X_(other.X_),
      y_(other.y_),
      trees_(other.trees_ ? std::make_unique<TreeEnsemble>(*other.trees_) : nullptr) {}

RandomForest::~RandomForest() = default;

std::unique_ptr<Surrogate> RandomForest::Clone() const {
  return std::make_unique<RandomForest>(*this);
}

double RandomForest::TransformObjective(double y) const {
  return options_.log_transform ? std::log(y) : y;
}

Expected<void> RandomForest::Fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                 const FitOptions& /*options*/) {
  SYSOPT_RETURN_IF_ERROR(ValidateEncodedRows(layout_, X, &y));
  if (X.rows() == 0) return InvalidInput("forest fit: no observations");
  Eigen::VectorXd ym(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (options_.log_transform && !(y[i] > 0.0)) {
      return InvalidInput("forest fit: y[{}] = {} must be > 0 under the log transform", i, y[i]);
    }
    ym[i] = TransformObjective(y[i]);
  }
  X_ = X;
  y_ = ym;
  return Train();
}

Expected<void> RandomForest::AddObservations(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                             const Eigen::VectorXd& /*noise_variance*/) {
  SYSOPT_RETURN_IF_ERROR(ValidateEncodedRows(layout_, X, &y));
  const Eigen::Index n0 = X_.rows();
  Eigen::VectorXd ym(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (options_.log_transform && !(y[i] > 0.0)) {
      return InvalidInput("forest update: y[{}] = {} must be > 0 under the log transform", i, y[i]);
    }
    ym[i] = TransformObjective(y[i]);
  }
  X_.conservativeResize(n0 + X.rows(), layout_.width);
  X_.bottomRows(X.rows()) = X;
  y_.conservativeResize(n0 + y.size());
  y_.tail(y.size()) = ym;
  if (X_.rows() == 0) return Ok();
  return Train();
}

Expected<void> RandomForest::Train() {
  auto trees = std::make_unique<TreeEnsemble>(Columns(layout_), options_);
  trees->Fit(X_, y_, DeriveSeed(seed_, static_cast<uint64_t>(fit_count_++)));
  trees_ = std::move(trees);
  return Ok();
}

std::vector<TreeView> RandomForest::Trees() const {
  return trees_ ? trees_->Views() : std::vector<TreeView>{};
}

void RandomForest::Predict(const Eigen::MatrixXd& Xq, Eigen::VectorXd* mean,
                           Eigen::VectorXd* var) const {
  const Eigen::Index m = Xq.rows();
  if (mean) mean->setZero(m);
  if (var) var->setZero(m);
  if (!trees_ || trees_->empty()) {
    if (var) var->setOnes(m);
    return;
  }
  for (Eigen::Index r = 0; r < m; ++r) {
    double s = 0.0, s2 = 0.0;
    int t = 0;
    trees_->ForEachLeaf(Xq, r, [&](double leaf_mean, double leaf_var) {
      s += leaf_mean;
      s2 += leaf_var + leaf_mean * leaf_mean;
      ++t;
    });
    const double mu = s / t;
    if (mean) (*mean)[r] = mu;
    // Law of total variance over the mixture of the trees' leaf distributions.
    if (var) (*var)[r] = std::max(0.0, s2 / t - mu * mu);
  }
}

Expected<std::unique_ptr<Surrogate>> MakeRandomForest(const FeatureLayout& layout,
                                                      const ForestOptions& options, uint64_t seed) {
  auto forest = RandomForest::Create(layout, options, seed);
  if (!forest.ok()) return forest.error();
  return std::unique_ptr<Surrogate>(std::move(*forest));
}

// ---- FeasibilityForest ----

Expected<std::unique_ptr<FeasibilityForest>> FeasibilityForest::Create(const FeatureLayout& layout,
                                                                       const ForestOptions& options,
                                                                       uint64_t seed) {
  SYSOPT_RETURN_IF_ERROR(CheckOptions(layout, options));
  return std::make_unique<FeasibilityForest>(layout, options, seed);
}

FeasibilityForest::FeasibilityForest(const FeatureLayout& layout, const ForestOptions& options,
                                     uint64_t seed)
    : layout_(layout), options_(options), seed_(seed) {}

FeasibilityForest::FeasibilityForest(const FeasibilityForest& other)
    : layout_(other.layout_),
      options_(other.options_),
      seed_(other.seed_),
      fit_count_(other.fit_count_),
      trees_(other.trees_ ? std::make_unique<TreeEnsemble>(*other.trees_) : nullptr) {}

FeasibilityForest::~FeasibilityForest() = default;

Expected<void> FeasibilityForest::Fit(const Eigen::MatrixXd& X, const std::vector<bool>& feasible) {
  SYSOPT_RETURN_IF_ERROR(ValidateEncodedRows(layout_, X, nullptr));
  if (static_cast<Eigen::Index>(feasible.size()) != X.rows()) {
    return InvalidInput("feasibility fit: {} labels for {} rows", feasible.size(), X.rows());
  }
  if (X.rows() == 0) return InvalidInput("feasibility fit: no observations");
  Eigen::VectorXd y(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) y[i] = feasible[static_cast<size_t>(i)] ? 1.0 : 0.0;
  auto trees = std::make_unique<TreeEnsemble>(Columns(layout_), options_);
  trees->Fit(X, y, DeriveSeed(seed_, static_cast<uint64_t>(fit_count_++)));
  trees_ = std::move(trees);
  return Ok();
}

void FeasibilityForest::PredictProbability(const Eigen::MatrixXd& Xq,
                                           Eigen::VectorXd* probability) const {
  probability->setOnes(Xq.rows());
  if (!trees_ || trees_->empty()) return;
  for (Eigen::Index r = 0; r < Xq.rows(); ++r) {
    double s = 0.0;
    int t = 0;
    trees_->ForEachLeaf(Xq, r, [&](double leaf_mean, double) {
      s += leaf_mean;
      ++t;
    });
    (*probability)[r] = std::clamp(s / t, 0.0, 1.0);
  }
}

}  // namespace sysopt
