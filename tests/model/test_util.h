#pragma once
// Shared helpers for the model tests: layouts and random encoded rows.

#include <Eigen/Core>
#include <algorithm>
#include <numeric>
#include <vector>

#include "sysopt/core/rng.h"
#include "sysopt/space/encoding.h"

namespace sysopt::testing {

// n_numeric numeric columns, then categoricals with `choices` choices each, then one
// permutation group per entry of perm_widths.
inline FeatureLayout MixedLayout(int n_numeric, int n_categorical, int choices,
                                 const std::vector<int>& perm_widths) {
  FeatureLayout layout;
  int at = 0;
  for (int i = 0; i < n_numeric; ++i) {
    layout.groups.push_back({"x" + std::to_string(i), FeatureKind::kNumeric, at++, 1, 0, 0});
  }
  for (int i = 0; i < n_categorical; ++i) {
    layout.groups.push_back(
        {"c" + std::to_string(i), FeatureKind::kCategorical, at++, 1, choices, 0});
  }
  for (size_t i = 0; i < perm_widths.size(); ++i) {
    layout.groups.push_back(
        {"p" + std::to_string(i), FeatureKind::kPermutation, at, perm_widths[i], 0, 0});
    at += perm_widths[i];
  }
  layout.width = at;
  return layout;
}

inline Eigen::MatrixXd RandomRows(const FeatureLayout& layout, int n, Rng& rng) {
  Eigen::MatrixXd X(n, layout.width);
  for (int r = 0; r < n; ++r) {
    for (const FeatureGroup& g : layout.groups) {
      switch (g.kind) {
        case FeatureKind::kNumeric:
          X(r, g.offset) = Uniform01(rng);
          break;
        case FeatureKind::kCategorical:
          X(r, g.offset) =
              static_cast<double>(UniformIndex(rng, static_cast<uint64_t>(g.n_choices)));
          break;
        case FeatureKind::kPermutation: {
          std::vector<int> p(static_cast<size_t>(g.width));
          std::iota(p.begin(), p.end(), 0);
          std::shuffle(p.begin(), p.end(), rng);
          for (int i = 0; i < g.width; ++i) X(r, g.offset + i) = p[static_cast<size_t>(i)];
          break;
        }
      }
    }
  }
  return X;
}

}  // namespace sysopt::testing
