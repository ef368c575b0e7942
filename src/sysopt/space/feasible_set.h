#pragma once
/// \brief The feasible set of a space (internal to space/). Parameters linked by constraints form
/// components; each constrained discrete component is enumerated exactly by a pruned depth-first
/// search when that fits a budget, so that sampling from it is exactly uniform however small the
/// feasible fraction; larger or continuous components fall back to rejection sampling. Interval
/// reasoning on the constraints (Expression::MaySatisfy) first narrows every parameter's range
/// and then skips refuted runs of integer values during the search, so that the cost follows
/// the number of solutions rather than the size of the ranges.
///
/// Immutable after construction; all methods are const and thread-safe.

#include <cstdint>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/core/rng.h"
#include "sysopt/core/value.h"
#include "sysopt/space/expression.h"
#include "sysopt/space/parameter.h"

namespace sysopt {

struct FeasibleCount;

class FeasibleSet {
 public:
  /// \brief Limits of the exact enumeration of one component: search nodes visited and feasible
  /// rows stored. Beyond them the component is sampled by rejection and its count estimated.
  struct Budget {
    uint64_t max_visits = 20'000'000;
    uint64_t max_rows = 4'000'000;
  };

  FeasibleSet(const std::vector<Parameter>& parameters, const std::vector<Expression>& constraints,
              Budget budget);

  /// \brief Fills every position not marked in `fixed` so that the result is feasible, keeping
  /// the fixed values where a feasible completion exists (else resampling their component).
  Expected<void> Fill(Config& config, const std::vector<bool>& fixed, Rng& rng) const;

  /// \brief The number of feasible configurations.
  FeasibleCount Count() const;

  /// \brief The rank-th feasible configuration (requires an exact finite count).
  Config At(uint64_t rank) const;

 private:
  enum class Mode { kFree, kEnumerated, kRejection };
  struct Component {
    std::vector<int> params;       // global parameter indices, in search order
    std::vector<int> constraints;  // indices of the constraints among these parameters
    Mode mode = Mode::kFree;
    std::vector<uint64_t> rows;  // kEnumerated: value indices, params.size() per row
    uint64_t count = 0;          // kEnumerated: rows; kFree discrete: cardinality
    double fraction = 1;         // kRejection: estimated feasible fraction
    long double product = 0;     // product of the cardinalities (0 when continuous)
  };

  void Enumerate(Component& c, Budget budget) const;
  bool Satisfied(const Component& c, const Config& config) const;
  Expected<void> FillComponent(const Component& c, Config& config, const std::vector<bool>& fixed,
                               Rng& rng) const;

  const std::vector<Parameter>& parameters_;
  const std::vector<Expression>& constraints_;
  std::vector<Component> components_;
};

}  // namespace sysopt
