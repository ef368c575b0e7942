#include "sysopt/model/fanova.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace sysopt {

namespace {

// Above this many levels a discrete numeric column is integrated as the interval it spans: the
// difference is negligible and the masks stay small.
constexpr int kMaxPoints = 256;

// A leaf's extent on one column: an interval for a continuous column, else a mask over the
// points or choices.
struct ColumnBox {
  double lo = 0.0;
  double hi = 0.0;
  std::vector<char> mask;
};

struct Leaf {
  std::vector<ColumnBox> box;
  std::vector<double> measure;  // Per column: the fraction of the column's domain in the box.
  double volume = 1.0;
  double mean = 0.0;
};

size_t DomainSize(const ColumnDomain& d) {
  return d.kind == ColumnDomain::Kind::kPoints ? d.points.size() : static_cast<size_t>(d.n_choices);
}

ColumnBox FullBox(const ColumnDomain& d) {
  ColumnBox b;
  if (d.kind == ColumnDomain::Kind::kContinuous) {
    b.lo = d.lo;
    b.hi = d.hi;
  } else {
    b.mask.assign(DomainSize(d), 1);
  }
  return b;
}

double Measure(const ColumnDomain& d, const ColumnBox& b) {
  if (d.kind == ColumnDomain::Kind::kContinuous) {
    return std::max(0.0, b.hi - b.lo) / (d.hi - d.lo);
  }
  const auto count = std::count(b.mask.begin(), b.mask.end(), 1);
  return static_cast<double>(count) / static_cast<double>(b.mask.size());
}

double IntersectionMeasure(const ColumnDomain& d, const ColumnBox& a, const ColumnBox& b) {
  if (d.kind == ColumnDomain::Kind::kContinuous) {
    return std::max(0.0, std::min(a.hi, b.hi) - std::max(a.lo, b.lo)) / (d.hi - d.lo);
  }
  size_t count = 0;
  for (size_t k = 0; k < a.mask.size(); ++k) count += (a.mask[k] & b.mask[k]) != 0;
  return static_cast<double>(count) / static_cast<double>(a.mask.size());
}

// Restricts `box` to the side of `node`'s split that `left` says.
void Restrict(const ColumnDomain& d, const TreeNodeView& node, bool left, ColumnBox* box) {
  if (d.kind == ColumnDomain::Kind::kContinuous) {
    if (left) {
      box->hi = std::min(box->hi, node.threshold);
    } else {
      box->lo = std::max(box->lo, node.threshold);
    }
    return;
  }
  for (size_t k = 0; k < box->mask.size(); ++k) {
    bool goes_left;
    if (!node.left_choices.empty()) {
      // As the forest routes a choice: one past the set's end goes right.
      goes_left = k < node.left_choices.size() && node.left_choices[k] != 0;
    } else {
      const double value =
          d.kind == ColumnDomain::Kind::kPoints ? d.points[k] : static_cast<double>(k);
      goes_left = value <= node.threshold;
    }
    if (goes_left != left) box->mask[k] = 0;
  }
}

Expected<std::vector<Leaf>> Leaves(const TreeView& tree, const std::vector<ColumnDomain>& domains) {
  std::vector<Leaf> leaves;
  if (tree.empty()) return leaves;
  struct Work {
    int node;
    std::vector<ColumnBox> box;
  };
  std::vector<ColumnBox> full;
  full.reserve(domains.size());
  for (const ColumnDomain& d : domains) full.push_back(FullBox(d));
  std::vector<Work> stack;
  stack.push_back({0, std::move(full)});
  while (!stack.empty()) {
    Work w = std::move(stack.back());
    stack.pop_back();
    if (w.node < 0 || static_cast<size_t>(w.node) >= tree.size()) {
      return InvalidInput("fanova: tree node index {} out of range ({} nodes)", w.node,
                          tree.size());
    }
    const TreeNodeView& node = tree[static_cast<size_t>(w.node)];
    if (node.column < 0) {
      Leaf leaf;
      leaf.mean = node.mean;
      for (size_t c = 0; c < domains.size(); ++c) {
        leaf.measure.push_back(Measure(domains[c], w.box[c]));
        leaf.volume *= leaf.measure.back();
      }
      leaf.box = std::move(w.box);
      if (leaf.volume > 0.0) leaves.push_back(std::move(leaf));
      continue;
    }
    const auto c = static_cast<size_t>(node.column);
    if (c >= domains.size()) {
      return InvalidInput("fanova: a tree splits on column {} but only {} columns have a domain",
                          node.column, domains.size());
    }
    if (!node.left_choices.empty() && domains[c].kind == ColumnDomain::Kind::kContinuous) {
      return InvalidInput("fanova: column {} is continuous but a tree splits it by choices",
                          node.column);
    }
    Work left{node.left, w.box};
    Restrict(domains[c], node, true, &left.box[c]);
    Restrict(domains[c], node, false, &w.box[c]);
    stack.push_back(std::move(left));
    stack.push_back({node.right, std::move(w.box)});
  }
  return leaves;
}

}  // namespace

std::vector<ColumnDomain> DomainsOf(const FeatureLayout& layout) {
  std::vector<ColumnDomain> domains(static_cast<size_t>(std::max(layout.width, 0)));
  auto at = [&](int c) -> ColumnDomain* {
    return c >= 0 && c < layout.width ? &domains[static_cast<size_t>(c)] : nullptr;
  };
  auto points = [](int n, double scale) {
    ColumnDomain d;
    d.kind = ColumnDomain::Kind::kPoints;
    for (int i = 0; i < n; ++i) d.points.push_back(i * scale);
    return d;
  };
  auto choices = [](int n) {
    ColumnDomain d;
    d.kind = ColumnDomain::Kind::kChoices;
    d.n_choices = std::max(n, 1);
    return d;
  };
  for (const FeatureGroup& g : layout.groups) {
    switch (g.kind) {
      case FeatureKind::kNumeric:
        if (ColumnDomain* d = at(g.offset); d && g.n_levels >= 2 && g.n_levels <= kMaxPoints) {
          *d = points(g.n_levels, 1.0 / (g.n_levels - 1));
        }
        break;
      case FeatureKind::kCategorical:
        if (ColumnDomain* d = at(g.offset)) *d = choices(g.n_choices);
        break;
      case FeatureKind::kPermutation:
        for (int i = 0; i < g.width; ++i) {
          if (ColumnDomain* d = at(g.offset + i)) *d = points(g.width, 1.0);
        }
        break;
      case FeatureKind::kSequence:
        for (int i = 0; i < g.max_length; ++i) {
          if (ColumnDomain* d = at(g.offset + i)) *d = choices(g.n_choices + 1);
        }
        for (int a = 0; a < g.n_choices; ++a) {
          if (ColumnDomain* d = at(g.offset + g.max_length + a)) {
            *d = points(g.max_length + 1, 1.0 / std::max(g.max_length, 1));
          }
        }
        break;
    }
  }
  return domains;
}

Expected<std::vector<Importance>> FanovaImportance(const std::vector<TreeView>& trees,
                                                   const std::vector<ColumnDomain>& domains,
                                                   const std::vector<std::vector<int>>& groups) {
  for (size_t c = 0; c < domains.size(); ++c) {
    const ColumnDomain& d = domains[c];
    const bool empty = d.kind == ColumnDomain::Kind::kContinuous ? !(d.hi > d.lo)
                                                                 : DomainSize(d) == 0;
    if (empty) return InvalidInput("fanova: the domain of column {} is empty", c);
  }
  std::vector<std::vector<char>> in_group(groups.size(), std::vector<char>(domains.size(), 0));
  std::vector<std::vector<size_t>> members(groups.size());  // Each group's columns, once each.
  for (size_t u = 0; u < groups.size(); ++u) {
    for (int c : groups[u]) {
      if (c < 0 || static_cast<size_t>(c) >= domains.size()) {
        return InvalidInput("fanova: group {} names column {}, outside the {} columns", u, c,
                            domains.size());
      }
      if (!in_group[u][static_cast<size_t>(c)]) members[u].push_back(static_cast<size_t>(c));
      in_group[u][static_cast<size_t>(c)] = 1;
    }
  }
  std::vector<double> sum(groups.size(), 0.0), sum2(groups.size(), 0.0);
  int used = 0;
  for (const TreeView& tree : trees) {
    auto leaves = Leaves(tree, domains);
    if (!leaves.ok()) return leaves.error();
    double mu = 0.0;
    for (const Leaf& l : *leaves) mu += l.volume * l.mean;
    double total = 0.0;
    for (const Leaf& l : *leaves) total += l.volume * (l.mean - mu) * (l.mean - mu);
    if (!(total > 1e-14 * (1.0 + mu * mu))) continue;  // A constant tree explains nothing.
    ++used;
    const size_t n = leaves->size();
    std::vector<double> weighted(n);
    for (size_t u = 0; u < groups.size(); ++u) {
      // f_U(x_U) - mu = sum over leaves containing x_U of (volume outside U) * (mean - mu),
      // since those volumes sum to 1 for every x_U: the leaves partition the space.
      for (size_t l = 0; l < n; ++l) {
        const Leaf& leaf = (*leaves)[l];
        double outside = 1.0;
        for (size_t c = 0; c < domains.size(); ++c) {
          if (!in_group[u][c]) outside *= leaf.measure[c];
        }
        weighted[l] = outside * (leaf.mean - mu);
      }
      double variance = 0.0;
      for (size_t a = 0; a < n; ++a) {
        if (weighted[a] == 0.0) continue;
        for (size_t b = a; b < n; ++b) {
          if (weighted[b] == 0.0) continue;
          double overlap = 1.0;
          for (size_t k : members[u]) {
            overlap *= IntersectionMeasure(domains[k], (*leaves)[a].box[k], (*leaves)[b].box[k]);
            if (overlap == 0.0) break;
          }
          variance += (a == b ? 1.0 : 2.0) * weighted[a] * weighted[b] * overlap;
        }
      }
      const double fraction = std::clamp(variance / total, 0.0, 1.0);
      sum[u] += fraction;
      sum2[u] += fraction * fraction;
    }
  }
  std::vector<Importance> result(groups.size());
  if (used == 0) return result;
  for (size_t u = 0; u < groups.size(); ++u) {
    result[u].mean = sum[u] / used;
    result[u].std = std::sqrt(std::max(0.0, sum2[u] / used - result[u].mean * result[u].mean));
  }
  return result;
}

}  // namespace sysopt
