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

// n_numeric numeric columns, then one sequence group of up to max_length items over n_symbols.
inline FeatureLayout SequenceLayout(int n_numeric, int max_length, int n_symbols) {
  FeatureLayout layout = MixedLayout(n_numeric, 0, 0, {});
  FeatureGroup g{"s", FeatureKind::kSequence, layout.width, max_length + n_symbols, n_symbols, 0};
  g.max_length = max_length;
  layout.groups.push_back(g);
  layout.width += g.width;
  return layout;
}

// Writes a sequence into row r of X as encoding.h describes kSequence: positions (end token
// n_choices past the end), then item counts over max_length.
inline void EncodeSequence(const FeatureGroup& g, const std::vector<int>& items, Eigen::MatrixXd& X,
                           Eigen::Index r) {
  for (int i = 0; i < g.width; ++i) X(r, g.offset + i) = 0.0;
  for (int i = 0; i < g.max_length; ++i) {
    X(r, g.offset + i) =
        i < static_cast<int>(items.size()) ? items[static_cast<size_t>(i)] : g.n_choices;
  }
  for (int item : items) X(r, g.offset + g.max_length + item) += 1.0 / g.max_length;
}

// The items a sequence group of row r holds.
inline std::vector<int> DecodeSequence(const FeatureGroup& g, const Eigen::MatrixXd& X,
                                       Eigen::Index r) {
  std::vector<int> items;
  for (int i = 0; i < g.max_length && X(r, g.offset + i) < g.n_choices; ++i) {
    items.push_back(static_cast<int>(X(r, g.offset + i)));
  }
  return items;
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
        case FeatureKind::kSequence: {
          std::vector<int> items(UniformIndex(rng, static_cast<uint64_t>(g.max_length) + 1));
          for (int& item : items) {
            item = static_cast<int>(UniformIndex(rng, static_cast<uint64_t>(g.n_choices)));
          }
          EncodeSequence(g, items, X, r);
          break;
        }
      }
    }
  }
  return X;
}

}  // namespace sysopt::testing
