#include "sysopt/model/surrogate.h"

#include <cmath>
#include <vector>

namespace sysopt {

Expected<void> ValidateEncodedRows(const FeatureLayout& layout, const Eigen::MatrixXd& X,
                                   const Eigen::VectorXd* y) {
  if (X.cols() != layout.width) {
    return InvalidInput("encoded rows have {} columns but the layout has {}", X.cols(),
                        layout.width);
  }
  if (y && y->size() != X.rows()) {
    return InvalidInput("{} objective values for {} encoded rows", y->size(), X.rows());
  }
  std::vector<char> seen;
  for (Eigen::Index r = 0; r < X.rows(); ++r) {
    if (y && !std::isfinite((*y)[r])) {
      return InvalidInput("objective value y[{}] = {} is not finite", r, (*y)[r]);
    }
    for (const FeatureGroup& g : layout.groups) {
      switch (g.kind) {
        case FeatureKind::kNumeric: {
          const double v = X(r, g.offset);
          if (!std::isfinite(v)) {
            return InvalidInput("row {}, parameter '{}': value {} is not finite", r, g.name, v);
          }
          break;
        }
        case FeatureKind::kCategorical: {
          const double v = X(r, g.offset);
          if (!(v >= 0.0) || v != std::floor(v) || (g.n_choices > 0 && v >= g.n_choices)) {
            return InvalidInput("row {}, parameter '{}': {} is not a choice index in 0..{}", r,
                                g.name, v, g.n_choices - 1);
          }
          break;
        }
        case FeatureKind::kPermutation: {
          seen.assign(static_cast<size_t>(g.width), 0);
          for (int i = 0; i < g.width; ++i) {
            const double v = X(r, g.offset + i);
            if (!(v >= 0.0) || v != std::floor(v) || v >= g.width || seen[static_cast<size_t>(v)]) {
              return InvalidInput(
                  "row {}, parameter '{}': position {} holds {}, not a permutation of 0..{}", r,
                  g.name, i, v, g.width - 1);
            }
            seen[static_cast<size_t>(v)] = 1;
          }
          break;
        }
        case FeatureKind::kSequence: {
          if (g.max_length < 1 || g.width != g.max_length + g.n_choices) {
            return InvalidInput(
                "parameter '{}': a sequence group of width {} needs max_length + items ({} + {})",
                g.name, g.width, g.max_length, g.n_choices);
          }
          bool ended = false;
          for (int i = 0; i < g.max_length; ++i) {
            const double v = X(r, g.offset + i);
            if (!(v >= 0.0) || v != std::floor(v) || v > g.n_choices ||
                (ended && v != g.n_choices)) {
              return InvalidInput(
                  "row {}, parameter '{}': position {} holds {}, not an item in 0..{} (or {} for "
                  "every position past the end)",
                  r, g.name, i, v, g.n_choices - 1, g.n_choices);
            }
            ended = v == g.n_choices;
          }
          for (int a = 0; a < g.n_choices; ++a) {
            const double v = X(r, g.offset + g.max_length + a);
            if (!(v >= 0.0 && v <= 1.0)) {
              return InvalidInput("row {}, parameter '{}': count column {} holds {}, not in [0, 1]",
                                  r, g.name, a, v);
            }
          }
          break;
        }
      }
    }
  }
  return Ok();
}

}  // namespace sysopt
