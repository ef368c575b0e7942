#pragma once
/// \brief The numeric encoding of configurations that models consume. A space encodes a
/// configuration as a row of doubles laid out in groups, one group per parameter, in parameter
/// order. Models see only this layout, never the parameters themselves.
///
/// A conditional parameter has a second group right after its own: one kNumeric column with two
/// levels (n_levels = 2) holding 1 when the parameter is active and 0 when it is not, so that a
/// model can tell "inactive" from any real value. An inactive parameter's own columns hold a fixed
/// value: kInactiveNumeric for a kNumeric column, the extra last choice for a kCategorical one
/// (whose n_choices counts it), the identity for a permutation, and the empty sequence (every
/// position the end token, every count 0) for a sequence. Two configurations in which the
/// parameter is inactive thus encode it identically.

#include <string>
#include <vector>

namespace sysopt {

/// \brief The encoded value of an inactive numeric parameter: the middle of the [0, 1] scale, so
/// that an inactive point is never far from an active one on that column alone (the indicator
/// column carries the difference).
inline constexpr double kInactiveNumeric = 0.5;

/// \brief How a group of encoded columns is to be compared by a model.
enum class FeatureKind {
  /// One column in [0, 1]: integer, real and ordinal parameters (already log-scaled where the
  /// parameter is log-scaled; an ordinal's index i of n becomes i / (n - 1)).
  kNumeric,
  /// One column holding the choice index 0..n_choices-1 as a double; unordered.
  kCategorical,
  /// `width` columns holding the permutation itself: column offset+i is the element placed at
  /// position i (0..width-1), as a double.
  kPermutation,
  /// A sequence over an alphabet of n_choices items, at most max_length long, in width =
  /// max_length + n_choices columns. Columns offset+i for i < max_length hold the item at
  /// position i (0..n_choices-1), or n_choices past the end of the sequence (an end token, so
  /// that the columns are also valid choice indices 0..n_choices). Columns offset+max_length+a
  /// hold the number of occurrences of item a divided by max_length (in [0, 1]). The positions
  /// carry the order (kernels derive their distances from them); the counts are redundant with
  /// them but let threshold-based models split on how often an item occurs.
  kSequence,
};

/// \brief One parameter's columns.
struct FeatureGroup {
  std::string name;    ///< The parameter's name, for messages.
  FeatureKind kind;    ///< How the columns are compared.
  int offset = 0;      ///< First column of the group.
  int width = 1;       ///< Number of columns (1 unless kPermutation or kSequence).
  int n_choices = 0;   ///< Number of choices (kCategorical); alphabet size (kSequence).
  int n_levels = 0;    ///< Number of distinct values for a discrete kNumeric (0 = continuous).
  int max_length = 0;  ///< kSequence only: the number of position columns.
};

/// \brief The whole row layout: groups in parameter order, covering columns 0..width-1.
struct FeatureLayout {
  std::vector<FeatureGroup> groups;
  int width = 0;
};

}  // namespace sysopt
