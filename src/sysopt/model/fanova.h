#pragma once
/// \file
/// \brief Functional ANOVA of a fitted random forest (Hutter, Hoos and Leyton-Brown, "An
/// Efficient Approach for Assessing Hyperparameter Importance", ICML 2014): how much of the
/// variance of the forest's prediction over the whole space each parameter explains alone.
///
/// Each tree is a piecewise-constant function whose pieces are its leaves' boxes. Under the
/// uniform measure over the encoded space (a product of one measure per column), the marginal
/// of a tree over a set of columns U, f_U(x_U) = E[f | x_U], is a sum over leaves of
/// 1[x_U in box_U] * vol(box outside U) * mean, so its second moment is a double sum over pairs
/// of leaves of the measures of their boxes' intersections on U: exact, with no grid. The
/// importance of U in a tree is Var(f_U) / Var(f), averaged over the trees (trees with a
/// constant prediction are left out). For a single column this is its main effect; for the
/// columns of one parameter (a permutation's positions, a conditional parameter with its
/// activity column) it is the parameter's main effect, interactions among its own columns
/// included. What the main effects leave of 1 is explained by interactions between parameters.
///
/// Thread safety: free functions over values; safe to call concurrently.

#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/model/random_forest.h"
#include "sysopt/space/encoding.h"

namespace sysopt {

/// \brief The measure one encoded column is integrated under.
struct ColumnDomain {
  enum class Kind {
    kContinuous,  ///< Uniform on [lo, hi].
    kPoints,      ///< Equal weight on each of `points` (an ordered, discrete column).
    kChoices,     ///< Equal weight on each choice 0..n_choices-1 (an unordered column).
  };
  Kind kind = Kind::kContinuous;
  double lo = 0.0;
  double hi = 1.0;
  std::vector<double> points;
  int n_choices = 0;
};

/// \brief The domains that the layout implies: [0, 1] for a continuous numeric column, the
/// levels i / (n_levels - 1) for a discrete one, the choices of a categorical column, positions
/// 0..width-1 for a permutation's columns, the items plus the end token for a sequence's
/// positions and the counts k / max_length for its count columns.
std::vector<ColumnDomain> DomainsOf(const FeatureLayout& layout);

/// \brief The importance of one set of columns.
struct Importance {
  double mean = 0.0;  ///< Var(f_U) / Var(f), averaged over the trees, in [0, 1].
  double std = 0.0;   ///< Standard deviation of that fraction over the trees.
};

/// \brief The fANOVA importance of each group of columns (column indices into `domains`) in
/// `trees`. Fails when a group names a column outside the domains, a domain is empty, or a
/// tree splits on a column without a domain. When every tree is constant, every importance is
/// 0.
Expected<std::vector<Importance>> FanovaImportance(const std::vector<TreeView>& trees,
                                                   const std::vector<ColumnDomain>& domains,
                                                   const std::vector<std::vector<int>>& groups);

}  // namespace sysopt
