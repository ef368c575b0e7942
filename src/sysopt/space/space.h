#pragma once
/// \brief A search space: parameters, known constraints, feasible sampling, neighbourhoods and the
/// numeric encoding models use.
///
/// A Space is immutable once created and cheap to copy (it shares its state). Every method is
/// const and thread-safe; the exact feasible set of constrained discrete parts is built lazily,
/// once, on first use.

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/core/rng.h"
#include "sysopt/core/value.h"
#include "sysopt/space/encoding.h"
#include "sysopt/space/expression.h"
#include "sysopt/space/parameter.h"

namespace sysopt {

class FeasibleSet;

/// \brief The number of feasible configurations of a space.
struct FeasibleCount {
  bool finite = true;     ///< False when a real parameter makes the space continuous.
  bool exact = true;      ///< False when the count is an estimate (constrained part too large).
  long double value = 0;  ///< The count (or estimate); exact integers up to 2^64.
  /// \brief "1234", "~1.2e+30 (estimated)" or "infinite (continuous)".
  std::string ToString() const;
};

/// \brief Parameters plus constraints.
class Space {
 public:
  /// \brief Builds a space; fails on duplicate names, constraints that do not parse or that name
  /// unknown parameters or sequence parameters (which constraints cannot read). Errors name the
  /// parameter or constraint.
  static Expected<Space> Create(std::vector<Parameter> parameters,
                                const std::vector<std::string>& constraints);

  const std::vector<Parameter>& parameters() const;
  size_t size() const { return parameters().size(); }
  const std::vector<Expression>& constraints() const;

  /// \brief Index of the named parameter, or -1.
  int IndexOf(std::string_view name) const;

  /// \brief The parameter names in order.
  std::vector<std::string> Names() const;

  /// \brief True when every parameter is discrete (no real parameter).
  bool IsDiscrete() const;

  /// \brief True when every constraint holds (the values are assumed to be in their domains).
  bool IsFeasible(const Config& config) const;

  /// \brief Checks size, domains and constraints; the error names the first violation.
  Expected<void> Check(const Config& config) const;

  /// \brief A configuration drawn uniformly from the feasible set (exactly uniform over
  /// constrained discrete parts; free parameters independently, log-uniform where `log`). Fails
  /// only when no feasible configuration can be found.
  Expected<Config> Sample(Rng& rng) const;

  /// \brief Completes a configuration in which only some positions are set (`fixed[i]`), by
  /// sampling the others, keeping the constraints. Used by quasi-random designs.
  Expected<Config> Complete(const Config& partial, const std::vector<bool>& fixed, Rng& rng) const;

  /// \brief Feasible configurations that differ from `config` in one parameter by one
  /// neighbourhood move (see Parameter::Neighbors).
  std::vector<Config> Neighbors(const Config& config, Rng& rng) const;

  /// \brief The number of feasible configurations.
  FeasibleCount CountFeasible() const;

  /// \brief The rank-th feasible configuration in a fixed order; valid when CountFeasible() is
  /// finite and exact and rank is below it.
  Config FeasibleAt(uint64_t rank) const;

  /// \brief The default configuration (each parameter's Default()).
  Config Default() const;

  /// \brief True when at least one parameter declares a default.
  bool HasUserDefault() const;

  /// \brief True when some parameter has a prior.
  bool HasPrior() const;

  /// \brief Sum of the parameters' log prior densities (0 without priors).
  double LogPrior(const Config& config) const;

  /// \brief A configuration drawn from the priors (uniform for parameters without one), made
  /// feasible by resampling what the constraints reject.
  Expected<Config> SampleFromPrior(Rng& rng) const;

  /// \brief Encoded layout for models (see encoding.h).
  const FeatureLayout& layout() const;

  /// \brief Writes layout().width doubles for `config` into `row`.
  void Encode(const Config& config, double* row) const;

  /// \brief {"parameters": [...], "constraints": [...]}: enough to rebuild the space.
  nlohmann::json ToJson() const;

  /// \brief Reads the output of ToJson.
  static Expected<Space> FromJson(const nlohmann::json& json);

  /// \brief A configuration as a JSON object name -> value (ValueToJson; a sequence as the list of
  /// its item names).
  nlohmann::json ConfigToJson(const Config& config) const;

  /// \brief Reads a JSON object name -> value into a configuration and checks it (domains and
  /// constraints); a sequence may be a list of item names or ValueToJson's {"sequence": [...]}.
  /// Errors name the parameter.
  Expected<Config> ConfigFromJson(const nlohmann::json& json) const;

 private:
  struct State;
  explicit Space(std::shared_ptr<State> state) : state_(std::move(state)) {}
  const FeasibleSet& feasible() const;
  std::shared_ptr<State> state_;
};

}  // namespace sysopt
