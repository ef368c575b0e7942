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
enum class ParamKind { kInteger, kReal, kOrdinal, kCategorical, kPermutation };

/// \brief "integer", "real", "ordinal", "categorical" or "permutation".
std::string_view ParamKindName(ParamKind kind);

/// \brief A parameter. Only the fields of its kind are meaningful.
struct Parameter {
  std::string name;
  ParamKind kind = ParamKind::kInteger;
  double low = 0;                      ///< kInteger, kReal: inclusive lower bound.
  double high = 0;                     ///< kInteger, kReal: inclusive upper bound.
  int64_t step = 1;                    ///< kInteger: values are low, low+step, ... <= high.
  bool log = false;                    ///< kInteger, kReal: sample and encode on a log scale.
  std::vector<Value> values;           ///< kOrdinal (in order), kCategorical: the choices.
  int size = 0;                        ///< kPermutation: elements 0..size-1.
  std::optional<Value> default_value;  ///< The user's default, if given.
  /// The user's belief about where good values lie (piBO-style prior), if given: for numeric
  /// parameters a Gaussian on the encoded [0, 1] scale centred on `prior_mean` (a value of the
  /// parameter) with standard deviation `prior_width`; for ordinal and categorical parameters a
  /// weight per choice. Permutations take no prior.
  std::optional<Value> prior_mean;
  double prior_width = 0.15;
  std::vector<double> prior_weights;

  /// \brief True when the parameter has a prior.
  bool HasPrior() const { return prior_mean.has_value() || !prior_weights.empty(); }

  /// \brief log prior density of `value` up to a constant (0 without a prior).
  double LogPrior(const Value& value) const;

  /// \brief A value drawn from the prior (uniform without one).
  Value SampleFromPrior(Rng& rng) const;

  /// \brief True for every kind but kReal.
  bool IsDiscrete() const { return kind != ParamKind::kReal; }

  /// \brief Number of distinct values (saturating at UINT64_MAX; 0 for kReal).
  uint64_t Cardinality() const;

  /// \brief The k-th value, 0 <= k < Cardinality() (permutations in lexicographic order).
  Value ValueAt(uint64_t k) const;

  /// \brief The rank of a discrete value (inverse of ValueAt); nullopt when not in the domain.
  std::optional<uint64_t> IndexOf(const Value& value) const;

  /// \brief A uniformly random value of the domain (log-uniform where `log`).
  Value Sample(Rng& rng) const;

  /// \brief Maps u in [0, 1) to a value so that a uniform u gives a uniform (or log-uniform)
  /// value; used by quasi-random designs.
  Value FromUnit(double u) const;

  /// \brief Values near `value` for local search: adjacent steps for integers and ordinals,
  /// Gaussian moves in the encoded scale for reals (and wide integers), every other choice for
  /// categoricals, transpositions and an insertion move for permutations. Never contains `value`.
  std::vector<Value> Neighbors(const Value& value, Rng& rng) const;

  /// \brief Checks that `value` lies in the domain; the error names the parameter and value.
  Expected<void> Check(const Value& value) const;

  /// \brief Number of encoded columns (size for a permutation, else 1).
  int EncodedWidth() const { return kind == ParamKind::kPermutation ? size : 1; }

  /// \brief Writes EncodedWidth() columns starting at `out` (see encoding.h for the layout).
  void Encode(const Value& value, double* out) const;

  /// \brief The default: the user's, else the first choice, the lower bound (rounded onto the
  /// grid) or the identity permutation.
  Value Default() const;

  /// \brief The spec-format JSON description (round-trips through ParseParameter).
  nlohmann::json ToJson() const;
};

/// \brief Parses one entry of a spec's "parameters" array; `where` (e.g. "parameters[2]") prefixes
/// every error, which names the offending field and value.
Expected<Parameter> ParseParameter(const nlohmann::json& json, const std::string& where);

}  // namespace sysopt
