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
///
/// Conditional parameters: a parameter with a condition (Parameter::active_if) is active when
/// every parameter its condition reads is active and the condition holds; otherwise it holds
/// Inactive. Conditions may read parameters declared in any order, but not in a cycle. A
/// constraint that reads an inactive parameter does not apply (it counts as satisfied, as
/// ConfigSpace's forbidden clauses do). Sampling draws each active parameter uniformly, as if the
/// inactive ones did not exist: a configuration's probability is proportional to the product of
/// 1 / |domain| over its active parameters, among the feasible configurations (uniform over the
/// feasible set when no parameter is conditional), so that each branch of a choice is equally
/// likely however many settings it has. Counts and enumeration count each distinct assignment of
/// the active parameters once.
class Space {
 public:
  /// \brief Builds a space; fails on duplicate names, constraints or conditions that do not
  /// parse or that name unknown parameters or sequence or permutation parameters (which
  /// expressions cannot read), and conditions that form a cycle. Errors name the parameter (as
  /// "parameters[i] (\"name\")" and the field) or the constraint.
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

  /// \brief True when some parameter is conditional.
  bool IsConditional() const;

  /// \brief The bound condition of parameter i, or nullptr when it is always active.
  const Expression* Condition(size_t i) const;

  /// \brief Whether parameter i is active in `config`: always for an unconditional parameter;
  /// else when no parameter its condition reads holds Inactive and the condition holds. Reads
  /// only the parameters the condition reads.
  bool IsActive(const Config& config, size_t i) const;

  /// \brief Makes `config` agree with the conditions, parents before children: a parameter
  /// that is inactive becomes Inactive, an active one holding Inactive gets a random value (for
  /// local moves and crossover that switch a branch on). Active values are kept.
  void ApplyConditions(Config& config, Rng& rng) const;

  /// \brief True when every parameter is active exactly when it holds a value and every
  /// constraint that applies holds (the values are assumed to be in their domains).
  bool IsFeasible(const Config& config) const;

  /// \brief Checks size, activity, domains and constraints; the error names the first
  /// violation.
  Expected<void> Check(const Config& config) const;

  /// \brief A configuration drawn uniformly from the feasible set (exactly uniform over
  /// constrained discrete parts; free parameters independently, log-uniform where `log`). Fails
  /// only when no feasible configuration can be found.
  Expected<Config> Sample(Rng& rng) const;

  /// \brief Completes a configuration in which only some positions are set (`fixed[i]`), by
  /// sampling the others, keeping the constraints. Used by quasi-random designs.
  Expected<Config> Complete(const Config& partial, const std::vector<bool>& fixed, Rng& rng) const;

  /// \brief Feasible configurations that differ from `config` in one active parameter by one
  /// neighbourhood move (see Parameter::Neighbors); a move that switches conditional parameters
  /// on gives them random values, one that switches them off makes them Inactive.
  std::vector<Config> Neighbors(const Config& config, Rng& rng) const;

  /// \brief The number of feasible configurations.
  FeasibleCount CountFeasible() const;

  /// \brief The rank-th feasible configuration in a fixed order; valid when CountFeasible() is
  /// finite and exact and rank is below it.
  Config FeasibleAt(uint64_t rank) const;

  /// \brief The default configuration (each parameter's Default(); Inactive where a condition
  /// does not hold).
  Config Default() const;

  /// \brief True when at least one parameter declares a default.
  bool HasUserDefault() const;

  /// \brief True when some parameter has a prior.
  bool HasPrior() const;

  /// \brief Sum of the active parameters' log prior densities (0 without priors).
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
  /// its item names; an inactive parameter as null).
  nlohmann::json ConfigToJson(const Config& config) const;

  /// \brief Reads a JSON object name -> value into a configuration and checks it (activity,
  /// domains and constraints); a sequence may be a list of item names or ValueToJson's
  /// {"sequence": [...]}; an inactive conditional parameter is null or left out. Errors name the
  /// parameter.
  Expected<Config> ConfigFromJson(const nlohmann::json& json) const;

 private:
  struct State;
  explicit Space(std::shared_ptr<State> state) : state_(std::move(state)) {}
  static Expected<void> BindConditions(State& state);
  // False when constraint c reads a parameter that is inactive in `config`.
  bool ConstraintApplies(size_t c, const Config& config) const;
  const FeasibleSet& feasible() const;
  std::shared_ptr<State> state_;
};

}  // namespace sysopt
