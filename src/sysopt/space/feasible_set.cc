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
constexpr uint64_t kInactiveIndex = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kNoMatch = kInactiveIndex - 1;

// The values a parameter takes over its value indices lo..hi (lo <= hi), as a box side for
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

// Every value a parameter may take when active: its whole range, for reals too.
ValueRange DomainOf(const Parameter& p) {
  if (p.kind == ParamKind::kReal) {
    return {ValueRange::Kind::kNumbers, false, p.low, p.high, nullptr};
  }
  if (p.kind == ParamKind::kPermutation || p.kind == ParamKind::kSequence) return ValueRange{};
  if (p.Cardinality() == 0) return ValueRange{};
  return RangeOf(p, 0, p.Cardinality() - 1);
}

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
  // A constraint that holds over the parameters' whole domains (interval reasoning finds no
  // configuration that violates it) links nothing and prunes nothing: it is left out. It also
  // holds where it reads an inactive parameter, as every constraint does.
  std::vector<ValueRange> domain(n);
  for (int i = 0; i < n; ++i) domain[i] = DomainOf(parameters[i]);
  std::vector<bool> always(constraints.size(), false);
  for (size_t c = 0; c < constraints.size(); ++c) {
    constraint_reads_[c] = reads_of(constraints[c]);
    always[c] = !constraints[c].names().empty() && !constraints[c].MayViolate(domain);
    if (always[c]) continue;
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
    if (always[c]) continue;
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
  // checks[d]: constraints whose last parameter (in search order) sits at depth d, evaluated
  // exactly there; reads[d]: every constraint that reads the parameter at depth d, which interval
  // reasoning over the unassigned parameters' ranges can refute before the last one is reached.
  std::vector<std::vector<int>> checks(depth_count), reads(depth_count);
  // future[d]: those of reads[d] that also read a parameter deeper than d, the only ones
  // interval reasoning can refute that the exact checks at d have not already decided.
  std::vector<std::vector<int>> future(depth_count);
  Config config(parameters_.size(), Value(int64_t{0}));
  for (int k : comp.constraints) {
    // A constraint that reads nothing ("1 < 2") is decided here, once.
    if (constraint_reads_[k].empty()) {
      if (constraints_[k].Evaluate(config)) continue;
      comp.rows.clear();
      comp.count = 0;
      comp.mode = Mode::kEnumerated;
      return;
    }
    int last = 0;
    for (int d = 0; d < depth_count; ++d) {
      const auto& r = constraint_reads_[k];
      if (std::find(r.begin(), r.end(), comp.params[d]) != r.end()) {
        last = d;
        reads[d].push_back(k);
      }
    }
    checks[last].push_back(k);
    for (int d = 0; d < last; ++d) {
      if (!reads[d].empty() && reads[d].back() == k) future[d].push_back(k);
    }
  }
  std::vector<uint64_t> card(depth_count);
  for (int d = 0; d < depth_count; ++d) card[d] = parameters_[comp.params[d]].Cardinality();
  uint64_t visits = 0;
  // assigned[i]: parameter i holds its value (or Inactive) in `config` on the current path.
  std::vector<char> assigned(parameters_.size(), 0);
  // The box of configurations still considered: assigned parameters are single values, the
  // others their (narrowed) ranges of active values.
  std::vector<ValueRange> box(parameters_.size());
  std::vector<uint64_t> lo(depth_count, 0), hi(depth_count, 0);
  for (int d = 0; d < depth_count; ++d) {
    hi[d] = card[d] - 1;
    box[comp.params[d]] = RangeOf(parameters_[comp.params[d]], lo[d], hi[d]);
  }
  // Whether constraint k applies to every configuration of the box in which `ranged` is active:
  // every other parameter it reads is known to be active. One that is inactive, or that may be
  // (its condition reads a parameter not yet assigned), may make the constraint hold vacuously.
  // `ranged_assigned`: `ranged` holds its single value in `config`, so that a condition reading
  // it can be decided.
  auto applies = [&](int k, int ranged, bool ranged_assigned) {
    for (int j : constraint_reads_[k]) {
      if (j == ranged) continue;
      if (assigned[j]) {
        if (IsInactive(config[j])) return false;
        continue;
      }
      if (static_cast<size_t>(j) >= conditions_.size() || !conditions_[j]) continue;
      // The same condition as `ranged`'s (branch parameters usually share one): active with it.
      if (static_cast<size_t>(ranged) < conditions_.size() && conditions_[ranged] &&
          conditions_[j]->text() == conditions_[ranged]->text()) {
        continue;
      }
      for (int q : parents_[j]) {
        if (!assigned[q] || (q == ranged && !ranged_assigned)) return false;
      }
      if (!Active(j, config)) return false;
    }
    return true;
  };
  // Integer parameters are reasoned about in blocks of values; others value by value.
  auto blocks = [&](int d) { return parameters_[comp.params[d]].kind == ParamKind::kInteger; };
  // Whether interval reasoning by the constraints `ks` refutes every configuration with the
  // parameter at depth d active and in [a, b] (value indices). Each test counts as a visit.
  auto refuted_by = [&](const std::vector<int>& ks, int d, uint64_t a, uint64_t b) {
    ++visits;
    const int i = comp.params[d];
    const ValueRange saved = box[i];
    box[i] = RangeOf(parameters_[i], a, b);
    bool none = false;
    for (int k : ks) {
      if (applies(k, i, a == b && assigned[i]) && !constraints_[k].MaySatisfy(box)) {
        none = true;
        break;
      }
    }
    box[i] = saved;
    return none;
  };
  auto refuted = [&](int d, uint64_t a, uint64_t b) { return refuted_by(reads[d], d, a, b); };
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
    // bad: the highest index known not to be refuted along with [good, from], or limit - 1.
    uint64_t bad_plus_one = good - limit >= step ? good - step + 1 : limit;
    while (good > bad_plus_one) {
      const uint64_t mid = bad_plus_one + (good - bad_plus_one) / 2;
      if (refuted(d, mid, from)) {
        good = mid;
      } else {
        bad_plus_one = mid + 1;
      }
    }
    return good;
  };
  // Bounds propagation at the root: shave refuted values off both ends of every parameter's
  // range until nothing changes, so that `p0 + p1 < 10` over 0..19,999,999 leaves 0..9 each. A
  // conditional parameter left with no value can only be inactive; an unconditional one makes
  // the component empty.
  std::vector<char> empty(depth_count, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (int d = 0; d < depth_count; ++d) {
      if (empty[d] || reads[d].empty()) continue;
      const int i = comp.params[d];
      while (lo[d] <= hi[d] && visits <= budget.max_visits && refuted(d, lo[d], lo[d])) {
        lo[d] = (blocks(d) ? refuted_run(d, lo[d], hi[d]) : lo[d]) + 1;
        changed = true;
      }
      while (lo[d] <= hi[d] && visits <= budget.max_visits && refuted(d, hi[d], hi[d])) {
        if (blocks(d) && hi[d] > lo[d]) hi[d] = refuted_run_down(d, hi[d], lo[d]);
        if (hi[d] == lo[d]) {
          empty[d] = 1;
          break;
        }
        --hi[d];
        changed = true;
      }
      if (lo[d] > hi[d]) empty[d] = 1;
      if (empty[d]) {
        if (!parameters_[i].IsConditional()) {
          comp.rows.clear();
          comp.count = 0;
          comp.mode = Mode::kEnumerated;
          return;
        }
        changed = true;
        continue;  // The box keeps its last range: no feasible row has it active.
      }
      box[i] = RangeOf(parameters_[i], lo[d], hi[d]);
      if (visits > budget.max_visits) return;
    }
  }
  std::vector<ValueRange> full(depth_count);
  for (int d = 0; d < depth_count; ++d) full[d] = box[comp.params[d]];
  // Values are materialised once per parameter (permutations would otherwise be unranked at
  // every visit), when the parameter is small enough to hold; integers are computed instead. A
  // range still too large to visit value by value after narrowing is left to rejection, as
  // the feasible set is then most likely too large to hold as well.
  std::vector<std::vector<Value>> values(depth_count);
  for (int d = 0; d < depth_count; ++d) {
    if (empty[d]) continue;
    if (hi[d] - lo[d] >= budget.max_visits) return;
    if (blocks(d)) continue;
    for (uint64_t k = lo[d]; k <= hi[d]; ++k) {
      values[d].push_back(parameters_[comp.params[d]].ValueAt(k));
    }
  }
  auto value_at = [&](int d, uint64_t k) {
    return blocks(d) ? parameters_[comp.params[d]].ValueAt(k) : values[d][k - lo[d]];
  };
  // index[d] runs over [first, last] on the current path: the narrowed range when active, the
  // single step Inactive (index 0..0) when not, nothing when active with an empty range.
  std::vector<uint64_t> index(depth_count, 0), last(depth_count, 0);
  std::vector<char> active(depth_count, 1);
  auto enter = [&](int d) {
    active[d] = !comp.conditional || Active(comp.params[d], config);
    index[d] = !active[d] ? 0 : empty[d] ? 1 : lo[d];
    last[d] = active[d] ? hi[d] : 0;
    if (active[d] && empty[d]) last[d] = 0;
  };
  std::vector<uint64_t> rows;
  int d = 0;
  enter(0);
  // Iterative depth-first search over value indices.
  while (d >= 0) {
    const int i = comp.params[d];
    if (index[d] > last[d]) {
      box[i] = full[d];  // Unassigned again.
      assigned[i] = 0;
      --d;
      if (d >= 0) ++index[d];
      continue;
    }
    if (++visits > budget.max_visits) return;
    assigned[i] = 1;
    bool ok = true;
    if (active[d]) {
      config[i] = value_at(d, index[d]);
      box[i] = RangeOf(parameters_[i], index[d], index[d]);
      for (int k : checks[d]) {
        if (!Holds(k, config)) {
          ok = false;
          break;
        }
      }
      // Constraints that also read later parameters: refuted over those parameters' ranges?
      if (ok && !future[d].empty()) ok = !refuted_by(future[d], d, index[d], index[d]);
    } else {
      config[i] = Inactive{};
      for (int k : checks[d]) {
        if (!Holds(k, config)) {
          ok = false;
          break;
        }
      }
    }
    if (!ok) {
      // Skip the whole run of values that interval reasoning refutes along with this one.
      if (active[d] && blocks(d) && index[d] < last[d] && refuted(d, index[d], index[d])) {
        index[d] = refuted_run(d, index[d], last[d]);
      }
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
    const uint64_t k = c.rows[r * width + d];
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
        std::vector<uint64_t> want(width, 0);
        for (size_t d = 0; d < width; ++d) {
          const int i = c.params[d];
          if (!fixed[i]) continue;
          want[d] =
              IsInactive(config[i])
                  ? kInactiveIndex
                  : parameters_[i].IndexOf(config[i]).value_or(kNoMatch);
        }
        uint64_t seen = 0, chosen = 0;
        double seen_weight = 0;
        for (uint64_t r = 0; r < c.count; ++r) {
          bool match = true;
          for (size_t d = 0; d < width && match; ++d) {
            const uint64_t k = c.rows[r * width + d];
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
