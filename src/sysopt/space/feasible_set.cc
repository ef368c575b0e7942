#include "sysopt/space/feasible_set.h"

#include <fmt/format.h>

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

// The value index stored in a row for an inactive parameter, and the wanted index of a fixed
// value outside the domain (which no row holds).
constexpr uint32_t kInactiveIndex = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kNoMatch = kInactiveIndex - 1;

// `params` reordered so that every parameter comes after the parameters its condition reads,
// otherwise keeping their order (each step takes the first one whose parents are all placed).
std::vector<int> ParentsFirst(const std::vector<int>& params,
                              const std::vector<std::vector<int>>& parents) {
  if (std::all_of(params.begin(), params.end(), [&](int i) { return parents[i].empty(); })) {
    return params;
  }
  std::vector<int> out;
  std::vector<bool> placed(parents.size(), false);
  std::vector<bool> taken(params.size(), false);
  while (out.size() < params.size()) {
    bool progress = false;
    for (size_t k = 0; k < params.size(); ++k) {
      const int i = params[k];
      if (taken[k] ||
          !std::all_of(parents[i].begin(), parents[i].end(), [&](int q) { return placed[q]; })) {
        continue;
      }
      taken[k] = true;
      placed[i] = true;
      out.push_back(i);
      progress = true;
      break;
    }
    // The space rejects cycles; a parent outside `params` would stop the loop.
    if (!progress) {
      for (size_t k = 0; k < params.size(); ++k) {
        if (!taken[k]) out.push_back(params[k]);
      }
      break;
    }
  }
  return out;
}

}  // namespace

FeasibleSet::FeasibleSet(const std::vector<Parameter>& parameters,
                         const std::vector<Expression>& constraints,
                         const std::vector<std::optional<Expression>>& conditions, Budget budget)
    : parameters_(parameters), constraints_(constraints), conditions_(conditions) {
  const int n = static_cast<int>(parameters.size());
  auto reads_of = [&](const Expression& e) {
    std::vector<int> out;
    for (int i = 0; i < n; ++i) {
      const auto& names = e.names();
      if (std::find(names.begin(), names.end(), parameters[i].name) != names.end()) {
        out.push_back(i);
      }
    }
    return out;
  };
  constraint_reads_.resize(constraints.size());
  parents_.resize(n);
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  for (size_t c = 0; c < constraints.size(); ++c) {
    constraint_reads_[c] = reads_of(constraints[c]);
    const auto& reads = constraint_reads_[c];
    for (size_t k = 1; k < reads.size(); ++k) {
      parent[Find(parent, reads[k])] = Find(parent, reads[0]);
    }
  }
  // A condition links a parameter with the parameters it depends on.
  for (int i = 0; i < n && static_cast<size_t>(i) < conditions.size(); ++i) {
    if (!conditions[i]) continue;
    parents_[i] = reads_of(*conditions[i]);
    for (int q : parents_[i]) parent[Find(parent, q)] = Find(parent, i);
  }
  std::vector<int> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::vector<int> component_of_root(n, -1);
  for (int i : ParentsFirst(all, parents_)) {
    const int root = Find(parent, i);
    if (component_of_root[root] < 0) {
      component_of_root[root] = static_cast<int>(components_.size());
      components_.emplace_back();
    }
    components_[component_of_root[root]].params.push_back(i);
    components_[component_of_root[root]].conditional |=
        static_cast<size_t>(i) < conditions.size() && conditions[i].has_value();
  }
  for (size_t c = 0; c < constraints.size(); ++c) {
    // A constraint that reads no parameter (e.g. "1 < 2") still belongs somewhere: the first
    // component, so that a constant false makes the whole space infeasible.
    const auto& reads = constraint_reads_[c];
    const int owner = reads.empty() ? 0 : component_of_root[Find(parent, reads[0])];
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
    if (comp.constraints.empty() && !comp.conditional) {
      comp.mode = Mode::kFree;
      comp.count = comp.params.size() == 1 ? parameters[comp.params[0]].Cardinality() : 0;
      continue;
    }
    if (discrete) Enumerate(comp, budget);
    if (comp.mode != Mode::kEnumerated) {
      comp.mode = Mode::kRejection;
      // Estimate the number of feasible assignments, for counts and to warn about near-empty
      // spaces: the feasible fraction of random draws times the size of the product or, with
      // conditions, the mean over draws of (feasible) / P(draw), P(draw) being the product of
      // 1 / |domain| over the active parameters.
      Rng rng(0x5eed);
      Config scratch(parameters.size(), Value(int64_t{0}));
      const std::vector<bool> none(parameters.size(), false);
      int hits = 0;
      long double weighted = 0;
      for (int t = 0; t < kFractionProbes; ++t) {
        Draw(comp, scratch, none, false, rng);
        const bool ok = Satisfied(comp, scratch);
        hits += ok;
        if (ok && comp.conditional) {
          long double w = 1;
          for (int i : comp.params) {
            if (!IsInactive(scratch[i])) w *= ApproximateCardinality(parameters[i]);
          }
          weighted += w;
        }
      }
      comp.estimate = comp.conditional
                          ? weighted / kFractionProbes
                          : comp.product * (static_cast<double>(hits) / kFractionProbes);
    }
  }
}

bool FeasibleSet::Active(int i, const Config& config) const {
  if (static_cast<size_t>(i) >= conditions_.size() || !conditions_[i]) return true;
  for (int q : parents_[i]) {
    if (IsInactive(config[q])) return false;
  }
  return conditions_[i]->Evaluate(config);
}

bool FeasibleSet::Holds(int k, const Config& config) const {
  for (int i : constraint_reads_[k]) {
    if (IsInactive(config[i])) return true;
  }
  return constraints_[k].Evaluate(config);
}

bool FeasibleSet::Satisfied(const Component& c, const Config& config) const {
  for (int k : c.constraints) {
    if (!Holds(k, config)) return false;
  }
  return true;
}

void FeasibleSet::Draw(const Component& c, Config& config, const std::vector<bool>& fixed,
                       bool keep_fixed, Rng& rng) const {
  for (int i : c.params) {
    if (c.conditional && !Active(i, config)) {
      config[i] = Inactive{};
    } else if (!keep_fixed || !fixed[i] || IsInactive(config[i])) {
      config[i] = parameters_[i].Sample(rng);
    }
  }
}

void FeasibleSet::Enumerate(Component& comp, Budget budget) const {
  // Search order: parameters read by more constraints and conditions first, so constraints
  // become checkable (and prune) as early as possible; ties keep the spec's order; then every
  // parameter after the ones its condition reads, so that its activity is known when reached.
  std::vector<int> uses(parameters_.size(), 0);
  for (int k : comp.constraints) {
    for (int i : constraint_reads_[k]) ++uses[i];
  }
  for (int i : comp.params) {
    for (int q : parents_[i]) ++uses[q];
  }
  std::stable_sort(comp.params.begin(), comp.params.end(),
                   [&](int a, int b) { return uses[a] > uses[b]; });
  if (comp.conditional) comp.params = ParentsFirst(comp.params, parents_);
  const int depth_count = static_cast<int>(comp.params.size());
  // checks[d]: constraints whose last parameter (in search order) sits at depth d.
  std::vector<std::vector<int>> checks(depth_count);
  for (int k : comp.constraints) {
    int last = 0;
    for (int d = 0; d < depth_count; ++d) {
      const auto& reads = constraint_reads_[k];
      if (std::find(reads.begin(), reads.end(), comp.params[d]) != reads.end()) last = d;
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
  // limit[d]: the number of values depth d takes on the current path (1 when inactive).
  std::vector<uint64_t> limit(depth_count, 0);
  std::vector<bool> active(depth_count, true);
  auto enter = [&](int d) {
    index[d] = 0;
    active[d] = !comp.conditional || Active(comp.params[d], config);
    limit[d] = active[d] ? card[d] : 1;
  };
  std::vector<uint32_t> rows;
  uint64_t visits = 0;
  int d = 0;
  enter(0);
  // Iterative depth-first search over value indices.
  while (d >= 0) {
    if (index[d] >= limit[d]) {
      --d;
      if (d >= 0) ++index[d];
      continue;
    }
    if (++visits > budget.max_visits) return;
    config[comp.params[d]] = active[d] ? values[d][index[d]] : Value(Inactive{});
    bool ok = true;
    for (int k : checks[d]) {
      if (!Holds(k, config)) {
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
      for (int e = 0; e < depth_count; ++e) rows.push_back(active[e] ? index[e] : kInactiveIndex);
      ++index[d];
    } else {
      ++d;
      enter(d);
    }
  }
  comp.rows = std::move(rows);
  comp.count = comp.rows.size() / depth_count;
  comp.mode = Mode::kEnumerated;
  if (!comp.conditional) return;
  // A row's weight is the product of the domain sizes of its inactive parameters: proportional
  // to the product of 1 / |domain| over its active ones, which makes sampling by weight draw
  // each active parameter uniformly (see Space).
  bool uniform = true;
  double total = 0;
  comp.cumulative.resize(comp.count);
  for (uint64_t r = 0; r < comp.count; ++r) {
    double w = 1;
    for (int e = 0; e < depth_count; ++e) {
      if (comp.rows[r * depth_count + e] == kInactiveIndex) w *= static_cast<double>(card[e]);
    }
    uniform = uniform && w == 1;
    comp.cumulative[r] = total += w;
  }
  if (uniform) comp.cumulative.clear();
}

void FeasibleSet::WriteRow(const Component& c, uint64_t r, Config& config) const {
  const size_t width = c.params.size();
  for (size_t d = 0; d < width; ++d) {
    const uint32_t k = c.rows[r * width + d];
    config[c.params[d]] =
        k == kInactiveIndex ? Value(Inactive{}) : parameters_[c.params[d]].ValueAt(k);
  }
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
      const bool weighted = !c.cumulative.empty();
      auto weight = [&](uint64_t r) {
        return weighted ? c.cumulative[r] - (r > 0 ? c.cumulative[r - 1] : 0.0) : 1.0;
      };
      if (any_fixed) {
        // Among the feasible rows that agree with the fixed values (a fixed value of a parameter
        // that the row leaves inactive does not apply), one drawn by weight.
        std::vector<uint32_t> want(width, 0);
        for (size_t d = 0; d < width; ++d) {
          const int i = c.params[d];
          if (!fixed[i]) continue;
          want[d] =
              IsInactive(config[i])
                  ? kInactiveIndex
                  : static_cast<uint32_t>(parameters_[i].IndexOf(config[i]).value_or(kNoMatch));
        }
        uint64_t seen = 0, chosen = 0;
        double seen_weight = 0;
        for (uint64_t r = 0; r < c.count; ++r) {
          bool match = true;
          for (size_t d = 0; d < width && match; ++d) {
            const uint32_t k = c.rows[r * width + d];
            match = !fixed[c.params[d]] || k == want[d] ||
                    (k == kInactiveIndex && want[d] != kInactiveIndex);
          }
          if (!match) continue;
          // Reservoir sampling keeps one match, chosen by weight, in a single pass.
          if (!weighted) {
            if (UniformIndex(rng, ++seen) == 0) chosen = r;
          } else {
            ++seen;
            seen_weight += weight(r);
            if (Uniform01(rng) * seen_weight < weight(r)) chosen = r;
          }
        }
        if (seen > 0) {
          WriteRow(c, chosen, config);
          return Ok();
        }
      }
      if (!weighted) {
        WriteRow(c, UniformIndex(rng, c.count), config);
        return Ok();
      }
      const double u = Uniform01(rng) * c.cumulative.back();
      const auto it = std::upper_bound(c.cumulative.begin(), c.cumulative.end(), u);
      WriteRow(c, std::min<uint64_t>(it - c.cumulative.begin(), c.count - 1), config);
      return Ok();
    }
    case Mode::kRejection: {
      for (int pass = 0; pass < 2; ++pass) {
        const bool keep_fixed = pass == 0 && any_fixed;
        if (pass == 0 && !any_fixed) continue;
        const int tries = keep_fixed ? kRejectionTries / 20 : kRejectionTries;
        for (int t = 0; t < tries; ++t) {
          Draw(c, config, fixed, keep_fixed, rng);
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
        count.value *= c.estimate;
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
      WriteRow(c, r, config);
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
