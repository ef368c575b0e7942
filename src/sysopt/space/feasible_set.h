#pragma once
/// \brief The feasible set of a space (internal to space/). Parameters linked by constraints form
/// components; each constrained discrete component is enumerated exactly by a pruned depth-first
/// search when that fits a budget, so that sampling from it is exactly uniform however small the
/// feasible fraction; larger or continuous components fall back to rejection sampling.
///
/// A conditional parameter belongs to the component of the parameters its condition reads. The
/// search and the sampling visit parents before children; an inactive parameter takes the one
/// value Inactive, and a constraint that reads an inactive parameter does not apply. Rows are
/// drawn with weights that make each active parameter uniform given the others (see Space).
///
/// Interval reasoning on the constraints (Expression::MaySatisfy) first narrows every
/// parameter's range and then, during the search, prunes partial assignments and skips refuted
/// runs of integer values, so that the cost follows the number of solutions rather than the size
/// of the ranges (`p0 + p1 < 10` over 0..19,999,999 visits about a hundred nodes). It only uses a
/// constraint where every parameter it reads is known to be active: one that may read an inactive
/// parameter may hold vacuously. A constraint that holds over the whole domain links nothing.
///
/// Immutable after construction; all methods are const and thread-safe.

#include <cstdint>
#include <optional>
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

  /// \brief `conditions` holds each parameter's bound condition (nullopt when unconditional);
  /// the references are kept and must outlive the set.
  FeasibleSet(const std::vector<Parameter>& parameters, const std::vector<Expression>& constraints,
              const std::vector<std::optional<Expression>>& conditions, Budget budget);

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
    std::vector<int> params;       // global parameter indices, in search order (parents first)
    std::vector<int> constraints;  // indices of the constraints among these parameters
    bool conditional = false;      // some parameter of it has a condition
    Mode mode = Mode::kFree;
    std::vector<uint64_t> rows;      // kEnumerated: value indices (kInactiveIndex), per row
    std::vector<double> cumulative;  // kEnumerated: running sum of row weights; empty: all 1
    uint64_t count = 0;              // kEnumerated: rows; kFree discrete: cardinality
    long double estimate = 0;        // kRejection: estimated number of feasible assignments
    long double product = 0;         // product of the cardinalities (0 when continuous)
  };

  void Enumerate(Component& c, Budget budget) const;
  bool Active(int i, const Config& config) const;
  bool Holds(int k, const Config& config) const;
  bool Satisfied(const Component& c, const Config& config) const;
  // Draws the component's parameters parents first, Inactive where a condition does not hold;
  // with `keep_fixed`, active fixed values are kept.
  void Draw(const Component& c, Config& config, const std::vector<bool>& fixed, bool keep_fixed,
            Rng& rng) const;
  void WriteRow(const Component& c, uint64_t r, Config& config) const;
  Expected<void> FillComponent(const Component& c, Config& config, const std::vector<bool>& fixed,
                               Rng& rng) const;

  const std::vector<Parameter>& parameters_;
  const std::vector<Expression>& constraints_;
  const std::vector<std::optional<Expression>>& conditions_;
  std::vector<std::vector<int>> constraint_reads_;  // parameter indices each constraint reads
  std::vector<std::vector<int>> parents_;           // parameter indices each condition reads
  std::vector<Component> components_;
};

}  // namespace sysopt
