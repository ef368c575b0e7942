#pragma once
/// \brief One tunable parameter: its domain, uniform sampling, neighbourhood for local search,
/// numeric encoding for models, and its JSON description.
///
/// All operations are const and thread-safe.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/core/rng.h"
#include "sysopt/core/value.h"

namespace sysopt {

/// \brief The kinds of parameter a space can hold.
enum class ParamKind { kInteger, kReal, kOrdinal, kCategorical, kPermutation, kSequence };

/// \brief "integer", "real", "ordinal", "categorical", "permutation" or "sequence".
std::string_view ParamKindName(ParamKind kind);

/// \brief A parameter. Only the fields of its kind are meaningful.
struct Parameter {
  std::string name;
  ParamKind kind = ParamKind::kInteger;
  double low = 0;             ///< kInteger, kReal: inclusive lower bound.
  double high = 0;            ///< kInteger, kReal: inclusive upper bound.
  int64_t step = 1;           ///< kInteger: values are low, low+step, ... <= high.
  bool log = false;           ///< kInteger, kReal: sample and encode on a log scale.
  std::vector<Value> values;  ///< kOrdinal (in order), kCategorical: the choices; kSequence: the
                              ///< alphabet (distinct strings), which items index.
  int size = 0;               ///< kPermutation: elements 0..size-1; kSequence: maximum length.
  int min_length = 0;         ///< kSequence: minimum length, 0 <= min_length <= size.
  std::optional<Value> default_value;  ///< The user's default, if given.
  /// The condition under which the parameter is active (the spec's "active_if"), an expression
  /// over other parameters in the constraint language; empty: always active. An inactive
  /// parameter holds Inactive in a configuration. The space checks and binds it.
  std::string active_if;
  /// The user's belief about where good values lie (piBO-style prior), if given: for numeric
  /// parameters a Gaussian on the encoded [0, 1] scale centred on `prior_mean` (a value of the
  /// parameter) with standard deviation `prior_width`; for ordinal and categorical parameters a
  /// weight per choice. Permutations and sequences take no prior.
  std::optional<Value> prior_mean;
  double prior_width = 0.15;
  std::vector<double> prior_weights;

  /// \brief True when the parameter has a prior.
  bool HasPrior() const { return prior_mean.has_value() || !prior_weights.empty(); }

  /// \brief log prior density of `value` up to a constant (0 without a prior).
  double LogPrior(const Value& value) const;

  /// \brief A value drawn from the prior (uniform without one).
  Value SampleFromPrior(Rng& rng) const;

  /// \brief True when the parameter has a condition (is active only when it holds).
  bool IsConditional() const { return !active_if.empty(); }

  /// \brief True for every kind but kReal.
  bool IsDiscrete() const { return kind != ParamKind::kReal; }

  /// \brief Number of distinct values (saturating at UINT64_MAX; 0 for kReal).
  uint64_t Cardinality() const;

  /// \brief The k-th value, 0 <= k < Cardinality() (permutations in lexicographic order;
  /// sequences by length, then lexicographically by item index).
  Value ValueAt(uint64_t k) const;

  /// \brief The rank of a discrete value (inverse of ValueAt); nullopt when not in the domain,
  /// or for permutations and sequences too many to rank in 64 bits.
  std::optional<uint64_t> IndexOf(const Value& value) const;

  /// \brief A uniformly random value of the domain (log-uniform where `log`). A sequence gets a
  /// length uniform in [min_length, size], then independent uniform items.
  Value Sample(Rng& rng) const;

  /// \brief Maps u in [0, 1) to a value so that a uniform u gives a uniform (or log-uniform)
  /// value; used by quasi-random designs. A sequence takes its length from u (so that strata of
  /// u are strata of the length) and its items from a generator seeded by u: deterministic in u,
  /// distributed as Sample for a uniform u.
  Value FromUnit(double u) const;

  /// \brief Values near `value` for local search: adjacent steps for integers and ordinals,
  /// Gaussian moves in the encoded scale for reals (and wide integers), every other choice for
  /// categoricals, transpositions and an insertion move for permutations. For sequences a random
  /// set of at most 2 * size + 8 distinct single edits (all of them when there are fewer): insert
  /// an item at a position (when shorter than size), delete one position (when longer than
  /// min_length), replace one item by another, or swap two positions holding different items
  /// (adjacent ones or any two). Never contains `value`, never repeats a value. Nothing for
  /// Inactive.
  std::vector<Value> Neighbors(const Value& value, Rng& rng) const;

  /// \brief Checks that `value` lies in the domain; the error names the parameter and value.
  Expected<void> Check(const Value& value) const;

  /// \brief Number of encoded columns (size for a permutation, size + alphabet size for a
  /// sequence, else 1).
  int EncodedWidth() const {
    if (kind == ParamKind::kPermutation) return size;
    if (kind == ParamKind::kSequence) return size + static_cast<int>(values.size());
    return 1;
  }

  /// \brief Writes EncodedWidth() columns starting at `out` (see encoding.h for the layout).
  void Encode(const Value& value, double* out) const;

  /// \brief The default: the user's, else the first choice, the lower bound (rounded onto the
  /// grid), the identity permutation, or for a sequence the empty one (the first alphabet item
  /// repeated min_length times when min_length > 0).
  Value Default() const;

  /// \brief The spec-format JSON description (round-trips through ParseParameter).
  nlohmann::json ToJson() const;

  /// \brief kSequence: the alphabet names of a sequence's items, in order (an index outside the
  /// alphabet, which Check rejects, is written as its decimal index).
  std::vector<std::string> SequenceNames(const Value& value) const;

  /// \brief kSequence: the sequence of the named items; fails, naming the parameter and the item,
  /// on a name outside the alphabet or a length outside [min_length, size].
  Expected<Value> SequenceFromNames(const std::vector<std::string>& names) const;
};

/// \brief Parses one entry of a spec's "parameters" array; `where` (e.g. "parameters[2]") prefixes
/// every error, which names the offending field and value.
Expected<Parameter> ParseParameter(const nlohmann::json& json, const std::string& where);

}  // namespace sysopt
