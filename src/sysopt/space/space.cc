#include "sysopt/space/space.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "sysopt/space/feasible_set.h"

namespace sysopt {

namespace {

// A sequence given in a configuration as a list of alphabet names.
Expected<Value> SequenceFromJsonNames(const Parameter& p, const nlohmann::json& list) {
  std::vector<std::string> names;
  for (const auto& e : list) {
    if (!e.is_string()) {
      return InvalidInput("parameter '{}': expected a list of names from its alphabet, got {}",
                          p.name, list.dump());
    }
    names.push_back(e.get<std::string>());
  }
  return p.SequenceFromNames(names);
}

// Where a parameter sits in a spec, for messages: parameters[2] ("restart").
std::string ParameterWhere(const std::vector<Parameter>& params, size_t i) {
  return fmt::format("parameters[{}] (\"{}\")", i, params[i].name);
}

// An expression's own messages speak of a constraint; for a condition they speak of the field.
Error ConditionError(const Error& e, const std::vector<Parameter>& params, size_t i) {
  std::string message = e.message();
  const std::string prefix = "constraint '" + params[i].active_if + "': ";
  if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
  return Error(e.kind(), fmt::format("{}: field \"active_if\": \"{}\": {}",
                                     ParameterWhere(params, i), params[i].active_if, message));
}

}  // namespace

struct Space::State {
  std::vector<Parameter> parameters;
  std::vector<Expression> constraints;
  std::vector<std::vector<int>> constraint_reads;     // parameter indices each constraint reads
  std::vector<std::optional<Expression>> conditions;  // per parameter, bound
  std::vector<std::vector<int>> parents;              // parameter indices each condition reads
  std::vector<int> order;         // parameters with every condition's parents before it
  std::vector<int> group_of;      // per parameter: its layout group
  std::vector<int> indicator_of;  // per parameter: the column of its activity indicator, or -1
  FeatureLayout layout;
  std::once_flag feasible_once;
  std::unique_ptr<FeasibleSet> feasible;
};

std::string FeasibleCount::ToString() const {
  if (!finite) return "infinite (continuous parameters)";
  if (exact) return fmt::format("{}", static_cast<uint64_t>(value));
  return fmt::format("~{:.3g} (estimated)", static_cast<double>(value));
}

Expected<Space> Space::Create(std::vector<Parameter> parameters,
                              const std::vector<std::string>& constraints) {
  auto state = std::make_shared<State>();
  std::set<std::string> names;
  for (const auto& p : parameters) {
    if (!names.insert(p.name).second) {
      return InvalidInput("parameter name \"{}\" is used twice", p.name);
    }
  }
  state->parameters = std::move(parameters);
  for (size_t i = 0; i < constraints.size(); ++i) {
    auto e = Expression::Parse(constraints[i]);
    if (!e.ok()) return e.error().WithContext(fmt::format("constraints[{}]", i));
    auto& params = state->parameters;
    auto bound = e->Bind([&params](std::string_view name) {
      for (size_t k = 0; k < params.size(); ++k) {
        if (params[k].name == name) return static_cast<int>(k);
      }
      return -1;
    });
    if (!bound.ok()) return bound.error().WithContext(fmt::format("constraints[{}]", i));
    for (const auto& name : e->names()) {
      for (const auto& p : params) {
        if (p.name == name && p.kind == ParamKind::kSequence) {
          return InvalidInput(
              "constraints[{}]: constraint '{}': parameter '{}' is a sequence, which constraints "
              "cannot read",
              i, constraints[i], name);
        }
      }
    }
    std::vector<int> reads;
    for (const auto& name : e->names()) {
      for (size_t k = 0; k < params.size(); ++k) {
        if (params[k].name == name) reads.push_back(static_cast<int>(k));
      }
    }
    state->constraint_reads.push_back(std::move(reads));
    state->constraints.push_back(std::move(*e));
  }
  SYSOPT_RETURN_IF_ERROR(BindConditions(*state));
  int offset = 0;
  for (const auto& p : state->parameters) {
    state->group_of.push_back(static_cast<int>(state->layout.groups.size()));
    FeatureGroup g;
    g.name = p.name;
    g.offset = offset;
    g.width = p.EncodedWidth();
    switch (p.kind) {
      case ParamKind::kCategorical:
        g.kind = FeatureKind::kCategorical;
        g.n_choices = static_cast<int>(p.values.size());
        break;
      case ParamKind::kPermutation:
        g.kind = FeatureKind::kPermutation;
        break;
      case ParamKind::kSequence:
        g.kind = FeatureKind::kSequence;
        g.n_choices = static_cast<int>(p.values.size());
        g.max_length = p.size;
        break;
      default:
        g.kind = FeatureKind::kNumeric;
        g.n_levels =
            p.IsDiscrete() && p.Cardinality() < (1u << 30) ? static_cast<int>(p.Cardinality()) : 0;
        break;
    }
    // A conditional choice gets one more level, the inactive one (see encoding.h).
    if (p.IsConditional() && g.kind == FeatureKind::kCategorical) ++g.n_choices;
    offset += g.width;
    state->layout.groups.push_back(std::move(g));
    state->indicator_of.push_back(-1);
    if (p.IsConditional()) {
      FeatureGroup indicator;
      indicator.name = p.name + " (active)";
      indicator.kind = FeatureKind::kNumeric;
      indicator.offset = offset;
      indicator.n_levels = 2;
      state->indicator_of.back() = offset;
      ++offset;
      state->layout.groups.push_back(std::move(indicator));
    }
  }
  state->layout.width = offset;
  return Space(std::move(state));
}

Expected<void> Space::BindConditions(State& state) {
  const auto& params = state.parameters;
  const size_t n = params.size();
  state.conditions.assign(n, std::nullopt);
  state.parents.assign(n, {});
  auto index_of = [&params](std::string_view name) {
    for (size_t k = 0; k < params.size(); ++k) {
      if (params[k].name == name) return static_cast<int>(k);
    }
    return -1;
  };
  for (size_t i = 0; i < n; ++i) {
    if (!params[i].IsConditional()) continue;
    auto e = Expression::Parse(params[i].active_if);
    if (!e.ok()) return ConditionError(e.error(), params, i);
    for (const auto& name : e->names()) {
      const int k = index_of(name);
      if (k < 0) {
        std::string known;
        for (const auto& p : params) known += (known.empty() ? "" : ", ") + p.name;
        return InvalidInput(
            "{}: field \"active_if\": \"{}\": unknown parameter '{}' (parameters: {})",
            ParameterWhere(params, i), params[i].active_if, name, known);
      }
      if (params[k].kind == ParamKind::kSequence || params[k].kind == ParamKind::kPermutation) {
        return InvalidInput(
            "{}: field \"active_if\": \"{}\": parameter '{}' is a {}, which conditions cannot "
            "read",
            ParameterWhere(params, i), params[i].active_if, name, ParamKindName(params[k].kind));
      }
      state.parents[i].push_back(k);
    }
    auto bound = e->Bind(index_of);
    if (!bound.ok()) return ConditionError(bound.error(), params, i);
    state.conditions[i] = std::move(*e);
  }
  // Depth-first search for a topological order; a parameter met again while still on the path
  // closes a cycle, which is reported along the path.
  std::vector<int> mark(n, 0);  // 0 unvisited, 1 on the path, 2 done
  std::vector<int> path;
  std::function<Expected<void>(int)> visit = [&](int i) -> Expected<void> {
    if (mark[i] == 2) return Ok();
    if (mark[i] == 1) {
      auto start = std::find(path.begin(), path.end(), i);
      std::string cycle;
      for (auto it = start; it != path.end(); ++it) cycle += params[*it].name + " -> ";
      cycle += params[i].name;
      // Named at the parameter that closes the cycle: the last one on the path.
      const auto last = static_cast<size_t>(path.back());
      return InvalidInput(
          "{}: field \"active_if\": \"{}\": the conditions form a cycle: {} (each parameter's "
          "condition reads the next)",
          ParameterWhere(params, last), params[last].active_if, cycle);
    }
    mark[i] = 1;
    path.push_back(i);
    for (int parent : state.parents[i]) SYSOPT_RETURN_IF_ERROR(visit(parent));
    path.pop_back();
    mark[i] = 2;
    state.order.push_back(i);
    return Ok();
  };
  for (size_t i = 0; i < n; ++i) SYSOPT_RETURN_IF_ERROR(visit(static_cast<int>(i)));
  return Ok();
}

const std::vector<Parameter>& Space::parameters() const { return state_->parameters; }
const std::vector<Expression>& Space::constraints() const { return state_->constraints; }
const FeatureLayout& Space::layout() const { return state_->layout; }

int Space::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < state_->parameters.size(); ++i) {
    if (state_->parameters[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::string> Space::Names() const {
  std::vector<std::string> out;
  for (const auto& p : state_->parameters) out.push_back(p.name);
  return out;
}

bool Space::IsDiscrete() const {
  for (const auto& p : state_->parameters) {
    if (!p.IsDiscrete()) return false;
  }
  return true;
}

bool Space::IsConditional() const {
  for (const auto& p : state_->parameters) {
    if (p.IsConditional()) return true;
  }
  return false;
}

const Expression* Space::Condition(size_t i) const {
  const auto& c = state_->conditions[i];
  return c ? &*c : nullptr;
}

bool Space::IsActive(const Config& config, size_t i) const {
  const auto& c = state_->conditions[i];
  if (!c) return true;
  for (int parent : state_->parents[i]) {
    if (IsInactive(config[parent])) return false;
  }
  return c->Evaluate(config);
}

void Space::ApplyConditions(Config& config, Rng& rng) const {
  for (int i : state_->order) {
    if (!state_->conditions[i]) continue;
    if (!IsActive(config, i)) {
      config[i] = Inactive{};
    } else if (IsInactive(config[i])) {
      config[i] = state_->parameters[i].Sample(rng);
    }
  }
}

bool Space::ConstraintApplies(size_t c, const Config& config) const {
  for (int i : state_->constraint_reads[c]) {
    if (IsInactive(config[i])) return false;
  }
  return true;
}

bool Space::IsFeasible(const Config& config) const {
  for (size_t i = 0; i < size(); ++i) {
    if (state_->conditions[i] && IsActive(config, i) == IsInactive(config[i])) return false;
    if (!state_->conditions[i] && IsInactive(config[i])) return false;
  }
  for (size_t c = 0; c < state_->constraints.size(); ++c) {
    if (ConstraintApplies(c, config) && !state_->constraints[c].Evaluate(config)) return false;
  }
  return true;
}

Expected<void> Space::Check(const Config& config) const {
  if (config.size() != size()) {
    return InvalidInput("configuration has {} values, the space has {} parameters", config.size(),
                        size());
  }
  for (int i : state_->order) {
    const Parameter& p = state_->parameters[i];
    const bool active = IsActive(config, i);
    if (active && IsInactive(config[i])) {
      if (!p.IsConditional()) return InvalidInput("parameter '{}' has no value", p.name);
      return InvalidInput("parameter '{}' is active (its condition \"{}\" holds) but has no value",
                          p.name, p.active_if);
    }
    if (!active && !IsInactive(config[i])) {
      return InvalidInput(
          "parameter '{}' is inactive (its condition \"{}\" does not hold) but has the value {}",
          p.name, p.active_if, ValueToJson(config[i]).dump());
    }
    if (active) SYSOPT_RETURN_IF_ERROR(p.Check(config[i]));
  }
  for (size_t k = 0; k < state_->constraints.size(); ++k) {
    if (!ConstraintApplies(k, config)) continue;
    const auto& c = state_->constraints[k];
    auto ok = c.Check(config);
    if (!ok.ok()) return ok.error();
    if (!*ok) return InvalidInput("configuration violates the constraint '{}'", c.text());
  }
  return Ok();
}

const FeasibleSet& Space::feasible() const {
  std::call_once(state_->feasible_once, [this] {
    state_->feasible = std::make_unique<FeasibleSet>(state_->parameters, state_->constraints,
                                                     state_->conditions, FeasibleSet::Budget{});
  });
  return *state_->feasible;
}

Expected<Config> Space::Sample(Rng& rng) const {
  Config config(size(), Value(int64_t{0}));
  SYSOPT_RETURN_IF_ERROR(feasible().Fill(config, std::vector<bool>(size(), false), rng));
  return config;
}

Expected<Config> Space::Complete(const Config& partial, const std::vector<bool>& fixed,
                                 Rng& rng) const {
  Config config = partial;
  config.resize(size(), Value(int64_t{0}));
  SYSOPT_RETURN_IF_ERROR(feasible().Fill(config, fixed, rng));
  return config;
}

std::vector<Config> Space::Neighbors(const Config& config, Rng& rng) const {
  std::vector<Config> out;
  const bool conditional = IsConditional();
  for (size_t i = 0; i < size(); ++i) {
    for (auto& v : state_->parameters[i].Neighbors(config[i], rng)) {
      Config next = config;
      next[i] = std::move(v);
      // A move of a parameter that conditions read may switch branches on or off.
      if (conditional) ApplyConditions(next, rng);
      if (IsFeasible(next)) out.push_back(std::move(next));
    }
  }
  return out;
}

FeasibleCount Space::CountFeasible() const { return feasible().Count(); }

Config Space::FeasibleAt(uint64_t rank) const { return feasible().At(rank); }

Config Space::Default() const {
  Config config;
  for (const auto& p : state_->parameters) config.push_back(p.Default());
  for (int i : state_->order) {
    if (!IsActive(config, i)) config[i] = Inactive{};
  }
  return config;
}

bool Space::HasUserDefault() const {
  for (const auto& p : state_->parameters) {
    if (p.default_value) return true;
  }
  return false;
}

bool Space::HasPrior() const {
  for (const auto& p : state_->parameters) {
    if (p.HasPrior()) return true;
  }
  return false;
}

double Space::LogPrior(const Config& config) const {
  double total = 0;
  for (size_t i = 0; i < size(); ++i) {
    if (!IsInactive(config[i])) total += state_->parameters[i].LogPrior(config[i]);
  }
  return total;
}

Expected<Config> Space::SampleFromPrior(Rng& rng) const {
  Config config(size(), Value(int64_t{0}));
  std::vector<bool> fixed(size(), false);
  for (size_t i = 0; i < size(); ++i) {
    if (state_->parameters[i].HasPrior()) {
      config[i] = state_->parameters[i].SampleFromPrior(rng);
      fixed[i] = true;
    }
  }
  SYSOPT_RETURN_IF_ERROR(feasible().Fill(config, fixed, rng));
  return config;
}

void Space::Encode(const Config& config, double* row) const {
  for (size_t i = 0; i < size(); ++i) {
    const Parameter& p = state_->parameters[i];
    const FeatureGroup& g = state_->layout.groups[state_->group_of[i]];
    double* out = row + g.offset;
    if (state_->indicator_of[i] >= 0) row[state_->indicator_of[i]] = IsInactive(config[i]) ? 0 : 1;
    if (!IsInactive(config[i])) {
      p.Encode(config[i], out);
      continue;
    }
    // The fixed encoding of an inactive parameter (see encoding.h).
    switch (g.kind) {
      case FeatureKind::kNumeric:
        out[0] = kInactiveNumeric;
        break;
      case FeatureKind::kCategorical:
        out[0] = g.n_choices - 1;
        break;
      case FeatureKind::kPermutation:
        for (int k = 0; k < g.width; ++k) out[k] = k;
        break;
      case FeatureKind::kSequence:
        p.Encode(Sequence{}, out);
        break;
    }
  }
}

nlohmann::json Space::ToJson() const {
  nlohmann::json j = {{"parameters", nlohmann::json::array()},
                      {"constraints", nlohmann::json::array()}};
  for (const auto& p : state_->parameters) j["parameters"].push_back(p.ToJson());
  for (const auto& c : state_->constraints) j["constraints"].push_back(c.text());
  return j;
}

Expected<Space> Space::FromJson(const nlohmann::json& json) {
  if (!json.is_object() || !json.contains("parameters") || !json["parameters"].is_array()) {
    return InvalidInput("space: expected an object with a \"parameters\" array");
  }
  std::vector<Parameter> params;
  for (size_t i = 0; i < json["parameters"].size(); ++i) {
    auto p = ParseParameter(json["parameters"][i], fmt::format("parameters[{}]", i));
    if (!p.ok()) return p.error();
    params.push_back(std::move(*p));
  }
  std::vector<std::string> constraints;
  if (json.contains("constraints")) {
    if (!json["constraints"].is_array()) {
      return InvalidInput("space: field \"constraints\": expected an array of strings, got {}",
                          json["constraints"].dump());
    }
    for (const auto& c : json["constraints"]) {
      if (!c.is_string()) {
        return InvalidInput("space: field \"constraints\": {} is not a string", c.dump());
      }
      constraints.push_back(c.get<std::string>());
    }
  }
  return Create(std::move(params), constraints);
}

nlohmann::json Space::ConfigToJson(const Config& config) const {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < size() && i < config.size(); ++i) {
    const Parameter& p = state_->parameters[i];
    // Sequences are written as their item names, which is what a person reads and writes.
    const bool names =
        p.kind == ParamKind::kSequence && std::holds_alternative<Sequence>(config[i]);
    j[p.name] = names ? nlohmann::json(p.SequenceNames(config[i])) : ValueToJson(config[i]);
  }
  return j;
}

Expected<Config> Space::ConfigFromJson(const nlohmann::json& json) const {
  if (!json.is_object())
    return InvalidInput("configuration: expected an object, got {}", json.dump());
  Config config;
  for (const auto& p : state_->parameters) {
    if (!json.contains(p.name) && p.IsConditional()) {
      config.push_back(Inactive{});
      continue;
    }
    if (!json.contains(p.name))
      return InvalidInput("configuration: parameter '{}' is missing", p.name);
    if (p.kind == ParamKind::kSequence && json.at(p.name).is_array()) {
      auto s = SequenceFromJsonNames(p, json.at(p.name));
      if (!s.ok()) return s.error().WithContext("configuration");
      config.push_back(std::move(*s));
      continue;
    }
    auto v = ValueFromJson(json.at(p.name));
    if (!v.ok()) return v.error().WithContext(fmt::format("configuration: parameter '{}'", p.name));
    if (p.kind == ParamKind::kReal && IsNumeric(*v)) *v = AsDouble(*v);
    // An integer written as 8.0 is the integer 8: equal and equally hashed, so duplicates match.
    if (p.kind == ParamKind::kInteger && IsNumeric(*v) &&
        AsDouble(*v) == std::floor(AsDouble(*v))) {
      *v = static_cast<int64_t>(AsDouble(*v));
    }
    if ((p.kind == ParamKind::kOrdinal || p.kind == ParamKind::kCategorical)) {
      if (auto k = p.IndexOf(*v)) *v = p.values[*k];
    }
    config.push_back(std::move(*v));
  }
  for (const auto& [key, _] : json.items()) {
    if (IndexOf(key) < 0) return InvalidInput("configuration: unknown parameter '{}'", key);
  }
  SYSOPT_RETURN_IF_ERROR(Check(config));
  return config;
}

}  // namespace sysopt
