#include "sysopt/space/space.h"

#include <fmt/format.h>

#include <cmath>
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

}  // namespace

struct Space::State {
  std::vector<Parameter> parameters;
  std::vector<Expression> constraints;
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
    state->constraints.push_back(std::move(*e));
  }
  int offset = 0;
  for (const auto& p : state->parameters) {
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
    offset += g.width;
    state->layout.groups.push_back(std::move(g));
  }
  state->layout.width = offset;
  return Space(std::move(state));
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

bool Space::IsFeasible(const Config& config) const {
  for (const auto& c : state_->constraints) {
    if (!c.Evaluate(config)) return false;
  }
  return true;
}

Expected<void> Space::Check(const Config& config) const {
  if (config.size() != size()) {
    return InvalidInput("configuration has {} values, the space has {} parameters", config.size(),
                        size());
  }
  for (size_t i = 0; i < config.size(); ++i) {
    SYSOPT_RETURN_IF_ERROR(state_->parameters[i].Check(config[i]));
  }
  for (const auto& c : state_->constraints) {
    auto ok = c.Check(config);
    if (!ok.ok()) return ok.error();
    if (!*ok) return InvalidInput("configuration violates the constraint '{}'", c.text());
  }
  return Ok();
}

const FeasibleSet& Space::feasible() const {
  std::call_once(state_->feasible_once, [this] {
    state_->feasible = std::make_unique<FeasibleSet>(state_->parameters, state_->constraints,
                                                     FeasibleSet::Budget{});
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
  for (size_t i = 0; i < size(); ++i) {
    for (auto& v : state_->parameters[i].Neighbors(config[i], rng)) {
      Config next = config;
      next[i] = std::move(v);
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
  for (size_t i = 0; i < size(); ++i) total += state_->parameters[i].LogPrior(config[i]);
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
    state_->parameters[i].Encode(config[i], row + state_->layout.groups[i].offset);
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
