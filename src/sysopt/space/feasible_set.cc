#include "sysopt/space/feasible_set.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "sysopt/space/space.h"

namespace sysopt {

namespace {

// Disjoint-set union over parameter indices.
int Find(std::vector<int>& parent, int i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

constexpr int kRejectionTries = 2'000'000;
constexpr int kFractionProbes = 4'000;

// The number of values of a discrete parameter as a long double, so that counts beyond 64 bits
// (long permutations and sequences) are reported at their size rather than at the saturated
// Cardinality().
long double ApproximateCardinality(const Parameter& p) {
  const uint64_t exact = p.Cardinality();
  if (exact < std::numeric_limits<uint64_t>::max()) return static_cast<long double>(exact);
  if (p.kind == ParamKind::kPermutation) return std::tgamma(static_cast<long double>(p.size) + 1);
  if (p.kind == ParamKind::kSequence) {
    long double total = 0;
    for (int length = p.min_length; length <= p.size; ++length) {
      total += std::pow(static_cast<long double>(p.values.size()), length);
    }
    return total;
  }
  return static_cast<long double>(exact);
}

}  // namespace

FeasibleSet::FeasibleSet(const std::vector<Parameter>& parameters,
                         const std::vector<Expression>& constraints, Budget budget)
    : parameters_(parameters), constraints_(constraints) {
  const int n = static_cast<int>(parameters.size());
  std::vector<std::vector<int>> reads(constraints.size());
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  for (size_t c = 0; c < constraints.size(); ++c) {
    for (int i = 0; i < n; ++i) {
      const auto& names = constraints[c].names();
      if (std::find(names.begin(), names.end(), parameters[i].name) != names.end()) {
        reads[c].push_back(i);
      }
    }
    for (size_t k = 1; k < reads[c].size(); ++k) {
      parent[Find(parent, reads[c][k])] = Find(parent, reads[c][0]);
    }
  }
  std::vector<int> component_of_root(n, -1);
  for (int i = 0; i < n; ++i) {
    const int root = Find(parent, i);
    if (component_of_root[root] < 0) {
      component_of_root[root] = static_cast<int>(components_.size());
      components_.emplace_back();
    }
    components_[component_of_root[root]].params.push_back(i);
  }
  for (size_t c = 0; c < constraints.size(); ++c) {
    // A constraint that reads no parameter (e.g. "1 < 2") still belongs somewhere: the first
    // component, so that a constant false makes the whole space infeasible.
    const int owner = reads[c].empty() ? 0 : component_of_root[Find(parent, reads[c][0])];
    if (!components_.empty()) components_[owner].constraints.push_back(static_cast<int>(c));
  }
  for (auto& comp : components_) {
    bool discrete = true;
    comp.product = 1;
    for (int i : comp.params) {
      discrete = discrete && parameters[i].IsDiscrete();
      comp.product *= ApproximateCardinality(parameters[i]);
    }
    if (!discrete) comp.product = 0;
    if (comp.constraints.empty()) {
      comp.mode = Mode::kFree;
      comp.count = comp.params.size() == 1 ? parameters[comp.params[0]].Cardinality() : 0;
      continue;
    }
    if (discrete) Enumerate(comp, budget);
    if (comp.mode != Mode::kEnumerated) {
      comp.mode = Mode::kRejection;
      // Estimate the feasible fraction, for counts and to warn about near-empty spaces.
      Rng rng(0x5eed);
      Config scratch(parameters.size(), Value(int64_t{0}));
      int hits = 0;
      for (int t = 0; t < kFractionProbes; ++t) {
        for (int i : comp.params) scratch[i] = parameters[i].Sample(rng);
        hits += Satisfied(comp, scratch);
      }
      comp.fraction = static_cast<double>(hits) / kFractionProbes;
    }
  }
}

bool FeasibleSet::Satisfied(const Component& c, const Config& config) const {
  for (int k : c.constraints) {
    if (!constraints_[k].Evaluate(config)) return false;
  }
  return true;
}

void FeasibleSet::Enumerate(Component& comp, Budget budget) const {
  // Search order: parameters read by more constraints first, so constraints become checkable
  // (and prune) as early as possible; ties keep the spec's order.
  std::vector<int> uses(parameters_.size(), 0);
  for (int k : comp.constraints) {
    for (const auto& name : constraints_[k].names()) {
      for (int i : comp.params) uses[i] += parameters_[i].name == name;
    }
  }
  std::stable_sort(comp.params.begin(), comp.params.end(),
                   [&](int a, int b) { return uses[a] > uses[b]; });
  const int depth_count = static_cast<int>(comp.params.size());
  // checks[d]: constraints whose last parameter (in search order) sits at depth d.
  std::vector<std::vector<int>> checks(depth_count);
  for (int k : comp.constraints) {
    int last = 0;
    for (int d = 0; d < depth_count; ++d) {
      const auto& names = constraints_[k].names();
      if (std::find(names.begin(), names.end(), parameters_[comp.params[d]].name) != names.end()) {
        last = d;
      }
    }
    checks[last].push_back(k);
  }
  std::vector<uint64_t> card(depth_count);
  for (int d = 0; d < depth_count; ++d) card[d] = parameters_[comp.params[d]].Cardinality();
  // Values are materialised once per parameter (permutations would otherwise be unranked at
  // every visit), when the parameter is small enough to hold.
  std::vector<std::vector<Value>> values(depth_count);
  for (int d = 0; d < depth_count; ++d) {
    if (card[d] > budget.max_visits) return;
    for (uint64_t k = 0; k < card[d]; ++k) {
      values[d].push_back(parameters_[comp.params[d]].ValueAt(k));
    }
  }
  Config config(parameters_.size(), Value(int64_t{0}));
  std::vector<uint32_t> index(depth_count, 0);
  std::vector<uint32_t> rows;
  uint64_t visits = 0;
  int d = 0;
  index[0] = 0;
  // Iterative depth-first search over value indices.
  while (d >= 0) {
    if (index[d] >= card[d]) {
      --d;
      if (d >= 0) ++index[d];
      continue;
    }
    if (++visits > budget.max_visits) return;
    config[comp.params[d]] = values[d][index[d]];
    bool ok = true;
    for (int k : checks[d]) {
      if (!constraints_[k].Evaluate(config)) {
        ok = false;
        break;
      }
    }
    if (!ok) {
      ++index[d];
      continue;
    }
    if (d + 1 == depth_count) {
      if (rows.size() / depth_count >= budget.max_rows) return;
      rows.insert(rows.end(), index.begin(), index.end());
      ++index[d];
    } else {
      ++d;
      index[d] = 0;
    }
  }
  comp.rows = std::move(rows);
  comp.count = comp.rows.size() / depth_count;
  comp.mode = Mode::kEnumerated;
}

Expected<void> FeasibleSet::FillComponent(const Component& c, Config& config,
                                          const std::vector<bool>& fixed, Rng& rng) const {
  const bool any_fixed =
      std::any_of(c.params.begin(), c.params.end(), [&](int i) { return fixed[i]; });
  switch (c.mode) {
    case Mode::kFree:
      for (int i : c.params) {
        if (!fixed[i]) config[i] = parameters_[i].Sample(rng);
      }
      return Ok();
    case Mode::kEnumerated: {
      if (c.count == 0) {
        return InvalidInput("no configuration satisfies the constraints on {}",
                            parameters_[c.params[0]].name);
      }
      const size_t width = c.params.size();
      auto write_row = [&](uint64_t r) {
        for (size_t d = 0; d < width; ++d) {
          config[c.params[d]] = parameters_[c.params[d]].ValueAt(c.rows[r * width + d]);
        }
      };
      if (any_fixed) {
        // Uniform over the feasible rows that agree with the fixed values.
        std::vector<uint32_t> want(width, 0);
        for (size_t d = 0; d < width; ++d) {
          if (fixed[c.params[d]]) {
            want[d] = static_cast<uint32_t>(
                parameters_[c.params[d]].IndexOf(config[c.params[d]]).value_or(UINT32_MAX));
          }
        }
        uint64_t seen = 0, chosen = 0;
        for (uint64_t r = 0; r < c.count; ++r) {
          bool match = true;
          for (size_t d = 0; d < width && match; ++d) {
            match = !fixed[c.params[d]] || c.rows[r * width + d] == want[d];
          }
          // Reservoir sampling keeps one uniformly chosen match in a single pass.
          if (match && UniformIndex(rng, ++seen) == 0) chosen = r;
        }
        if (seen > 0) {
          write_row(chosen);
          return Ok();
        }
      }
      write_row(UniformIndex(rng, c.count));
      return Ok();
    }
    case Mode::kRejection: {
      for (int pass = 0; pass < 2; ++pass) {
        const bool keep_fixed = pass == 0 && any_fixed;
        if (pass == 0 && !any_fixed) continue;
        const int tries = keep_fixed ? kRejectionTries / 20 : kRejectionTries;
        for (int t = 0; t < tries; ++t) {
          for (int i : c.params) {
            if (!keep_fixed || !fixed[i]) config[i] = parameters_[i].Sample(rng);
          }
          if (Satisfied(c, config)) return Ok();
        }
      }
      std::string names;
      for (int k : c.constraints)
        names += fmt::format("{}'{}'", names.empty() ? "" : ", ", constraints_[k].text());
      return InvalidInput(
          "no feasible configuration found in {} random tries; the constraints {} "
          "may be unsatisfiable",
          kRejectionTries, names);
    }
  }
  return Ok();
}

Expected<void> FeasibleSet::Fill(Config& config, const std::vector<bool>& fixed, Rng& rng) const {
  for (const auto& c : components_) {
    SYSOPT_RETURN_IF_ERROR(FillComponent(c, config, fixed, rng));
  }
  return Ok();
}

FeasibleCount FeasibleSet::Count() const {
  FeasibleCount count;
  count.value = 1;
  for (const auto& c : components_) {
    if (c.product == 0) {
      count.finite = false;
      count.exact = false;
      count.value = std::numeric_limits<long double>::infinity();
      return count;
    }
    switch (c.mode) {
      case Mode::kFree:
        count.value *= c.product;
        break;
      case Mode::kEnumerated:
        count.value *= static_cast<long double>(c.count);
        break;
      case Mode::kRejection:
        count.exact = false;
        count.value *= c.product * c.fraction;
        break;
    }
  }
  if (count.value >= 18446744073709551615.0L) count.exact = false;
  return count;
}

Config FeasibleSet::At(uint64_t rank) const {
  Config config(parameters_.size(), Value(int64_t{0}));
  // Mixed radix over the components, the last component varying fastest.
  for (auto it = components_.rbegin(); it != components_.rend(); ++it) {
    const auto& c = *it;
    if (c.mode == Mode::kEnumerated) {
      const uint64_t r = rank % c.count;
      rank /= c.count;
      for (size_t d = 0; d < c.params.size(); ++d) {
        config[c.params[d]] = parameters_[c.params[d]].ValueAt(c.rows[r * c.params.size() + d]);
      }
    } else {
      // Free components hold exactly one parameter.
      const auto& p = parameters_[c.params[0]];
      const uint64_t card = p.Cardinality();
      config[c.params[0]] = p.ValueAt(rank % card);
      rank /= card;
    }
  }
  return config;
}

}  // namespace sysopt
