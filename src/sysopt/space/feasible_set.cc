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

// The values a parameter takes over its value indices lo..hi, as a box side for
// Expression::MaySatisfy. Integer values grow with their index; ordinal and categorical ones
// are scanned (their lists are short); anything else is left unconstrained.
ValueRange RangeOf(const Parameter& p, uint64_t lo, uint64_t hi) {
  ValueRange range;
  switch (p.kind) {
    case ParamKind::kInteger:
      range.kind = ValueRange::Kind::kNumbers;
      range.integers = true;
      range.low = AsDouble(p.ValueAt(lo));
      range.high = AsDouble(p.ValueAt(hi));
      break;
    case ParamKind::kOrdinal:
    case ParamKind::kCategorical: {
      if (const auto* text = std::get_if<std::string>(&p.values[lo]); text && lo == hi) {
        range.kind = ValueRange::Kind::kString;
        range.text = text;
        break;
      }
      if (!IsNumeric(p.values[lo])) break;
      range.kind = ValueRange::Kind::kNumbers;
      range.integers = std::holds_alternative<int64_t>(p.values[lo]);
      range.low = range.high = AsDouble(p.values[lo]);
      for (uint64_t k = lo + 1; k <= hi; ++k) {
        if (!IsNumeric(p.values[k]) ||
            std::holds_alternative<int64_t>(p.values[k]) != range.integers) {
          return ValueRange{};
        }
        range.low = std::min(range.low, AsDouble(p.values[k]));
        range.high = std::max(range.high, AsDouble(p.values[k]));
      }
      break;
    }
    default:
      break;
  }
  return range;
}

// Every value a parameter may take: its whole range, for reals too.
ValueRange DomainOf(const Parameter& p) {
  if (p.kind == ParamKind::kReal) {
    return {ValueRange::Kind::kNumbers, false, p.low, p.high, nullptr};
  }
  if (p.kind == ParamKind::kPermutation || p.kind == ParamKind::kSequence) return ValueRange{};
  return RangeOf(p, 0, p.Cardinality() - 1);
}

}  // namespace

FeasibleSet::FeasibleSet(const std::vector<Parameter>& parameters,
                         const std::vector<Expression>& constraints, Budget budget)
    : parameters_(parameters), constraints_(constraints) {
  const int n = static_cast<int>(parameters.size());
  std::vector<std::vector<int>> reads(constraints.size());
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  // A constraint that holds over the parameters' whole domains (interval reasoning finds no
  // configuration that violates it) links nothing and prunes nothing: it is left out.
  std::vector<ValueRange> domain(n);
  for (int i = 0; i < n; ++i) domain[i] = DomainOf(parameters[i]);
  std::vector<bool> always(constraints.size(), false);
  for (size_t c = 0; c < constraints.size(); ++c) {
    always[c] = !constraints[c].names().empty() && !constraints[c].MayViolate(domain);
  }
  for (size_t c = 0; c < constraints.size(); ++c) {
    if (always[c]) continue;
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
    if (always[c]) continue;
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
  // checks[d]: constraints whose last parameter (in search order) sits at depth d, evaluated
  // exactly there; reads[d]: every constraint that reads the parameter at depth d, which interval
  // reasoning over the unassigned parameters' ranges can refute before the last one is reached.
  std::vector<std::vector<int>> checks(depth_count), reads(depth_count);
  for (int k : comp.constraints) {
    int last = 0;
    for (int d = 0; d < depth_count; ++d) {
      const auto& names = constraints_[k].names();
      if (std::find(names.begin(), names.end(), parameters_[comp.params[d]].name) != names.end()) {
        last = d;
        reads[d].push_back(k);
      }
    }
    checks[last].push_back(k);
  }
  uint64_t visits = 0;
  // The box of configurations still considered: assigned parameters are single values.
  std::vector<ValueRange> box(parameters_.size());
  std::vector<uint64_t> lo(depth_count, 0), hi(depth_count, 0);
  for (int d = 0; d < depth_count; ++d) {
    const Parameter& p = parameters_[comp.params[d]];
    hi[d] = p.Cardinality() - 1;
    box[comp.params[d]] = RangeOf(p, lo[d], hi[d]);
  }
  // Integer parameters are reasoned about in blocks of values; others value by value.
  auto blocks = [&](int d) { return parameters_[comp.params[d]].kind == ParamKind::kInteger; };
  // Whether interval reasoning refutes every configuration with parameter d in [a, b].
  auto refuted = [&](int d, uint64_t a, uint64_t b) {
    ++visits;
    const int i = comp.params[d];
    const ValueRange saved = box[i];
    box[i] = RangeOf(parameters_[i], a, b);
    bool none = false;
    for (int k : reads[d]) {
      if (!constraints_[k].MaySatisfy(box)) {
        none = true;
        break;
      }
    }
    box[i] = saved;
    return none;
  };
  // The last index m <= limit such that [from, m] is refuted, given that [from, from] is; found
  // by galloping then bisection, so that a refuted run of millions of values costs ~50 tests.
  auto refuted_run = [&](int d, uint64_t from, uint64_t limit) {
    uint64_t good = from, step = 1;
    while (limit - good >= step && refuted(d, from, good + step)) {
      good += step;
      step = step > (uint64_t{1} << 62) ? step : step * 2;
    }
    uint64_t bad = limit - good >= step ? good + step : limit + 1;
    while (bad - good > 1) {
      const uint64_t mid = good + (bad - good) / 2;
      (refuted(d, from, mid) ? good : bad) = mid;
    }
    return good;
  };
  // The same from the top: the first index m >= limit such that [m, from] is refuted.
  auto refuted_run_down = [&](int d, uint64_t from, uint64_t limit) {
    uint64_t good = from, step = 1;
    while (good - limit >= step && refuted(d, good - step, from)) {
      good -= step;
      step = step > (uint64_t{1} << 62) ? step : step * 2;
    }
    int64_t bad =
        good - limit >= step ? static_cast<int64_t>(good - step) : static_cast<int64_t>(limit) - 1;
    while (static_cast<int64_t>(good) - bad > 1) {
      const uint64_t mid = static_cast<uint64_t>(bad + (static_cast<int64_t>(good) - bad) / 2);
      if (refuted(d, mid, from)) {
        good = mid;
      } else {
        bad = static_cast<int64_t>(mid);
      }
    }
    return good;
  };
  // Bounds propagation at the root: shave refuted values off both ends of every parameter's
  // range until nothing changes, so that `p0 + p1 < 10` over 0..19,999,999 leaves 0..9 each.
  for (bool changed = true; changed;) {
    changed = false;
    for (int d = 0; d < depth_count; ++d) {
      const int i = comp.params[d];
      while (lo[d] <= hi[d] && visits <= budget.max_visits && refuted(d, lo[d], lo[d])) {
        lo[d] = (blocks(d) ? refuted_run(d, lo[d], hi[d]) : lo[d]) + 1;
        changed = true;
      }
      while (lo[d] <= hi[d] && visits <= budget.max_visits && refuted(d, hi[d], hi[d])) {
        if (blocks(d) && hi[d] > lo[d]) {
          hi[d] = refuted_run_down(d, hi[d], lo[d]);
        }
        if (hi[d] == lo[d]) {
          lo[d] = hi[d] + 1;  // Empty.
        } else {
          --hi[d];
        }
        changed = true;
      }
      if (lo[d] > hi[d]) {
        comp.rows.clear();
        comp.count = 0;
        comp.mode = Mode::kEnumerated;
        return;
      }
      box[i] = RangeOf(parameters_[i], lo[d], hi[d]);
      if (visits > budget.max_visits) return;
    }
  }
  std::vector<ValueRange> full(depth_count);
  for (int d = 0; d < depth_count; ++d) full[d] = box[comp.params[d]];
  // Values are materialised once per parameter (permutations would otherwise be unranked at
  // every visit), when the parameter is small enough to hold; integers are computed instead.
  std::vector<std::vector<Value>> values(depth_count);
  for (int d = 0; d < depth_count; ++d) {
    if (blocks(d)) continue;
    if (hi[d] - lo[d] >= budget.max_visits) return;
    for (uint64_t k = lo[d]; k <= hi[d]; ++k) {
      values[d].push_back(parameters_[comp.params[d]].ValueAt(k));
    }
  }
  auto value_at = [&](int d, uint64_t k) {
    return blocks(d) ? parameters_[comp.params[d]].ValueAt(k) : values[d][k - lo[d]];
  };
  Config config(parameters_.size(), Value(int64_t{0}));
  std::vector<uint64_t> index(depth_count, 0);
  std::vector<uint64_t> rows;
  int d = 0;
  index[0] = lo[0];
  // Iterative depth-first search over value indices.
  while (d >= 0) {
    const int i = comp.params[d];
    if (index[d] > hi[d]) {
      box[i] = full[d];  // Unassigned again.
      --d;
      if (d >= 0) ++index[d];
      continue;
    }
    if (++visits > budget.max_visits) return;
    config[i] = value_at(d, index[d]);
    box[i] = RangeOf(parameters_[i], index[d], index[d]);
    bool ok = true;
    for (int k : checks[d]) {
      if (!constraints_[k].Evaluate(config)) {
        ok = false;
        break;
      }
    }
    // Constraints that also read later parameters: refuted over those parameters' ranges?
    if (ok && d + 1 < depth_count) ok = !refuted(d, index[d], index[d]);
    if (!ok) {
      // Skip the whole run of values that interval reasoning refutes along with this one.
      if (blocks(d) && index[d] < hi[d] && refuted(d, index[d], index[d])) {
        index[d] = refuted_run(d, index[d], hi[d]);
      }
      ++index[d];
      continue;
    }
    if (d + 1 == depth_count) {
      if (rows.size() / depth_count >= budget.max_rows) return;
      rows.insert(rows.end(), index.begin(), index.end());
      ++index[d];
    } else {
      ++d;
      index[d] = lo[d];
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
        std::vector<uint64_t> want(width, 0);
        for (size_t d = 0; d < width; ++d) {
          if (fixed[c.params[d]]) {
            want[d] = parameters_[c.params[d]].IndexOf(config[c.params[d]]).value_or(UINT64_MAX);
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
