// Greedy construction over a sequence space, as CompilerGym's greedy baseline: starting from the
// empty sequence, every one-item extension of the current sequence is measured, the best one
// becomes current if it improves, and the search ends when no extension improves (or the
// sequence is at its maximum length). The state is the history itself: the current sequence is
// found again by replaying these rules over the measured costs.
#include <limits>
#include <map>
#include <set>

#include "sysopt/sampler/samplers.h"

namespace sysopt {

namespace {

class GreedySampler final : public Sampler {
 public:
  explicit GreedySampler(const SamplerOptions& /*options*/) {}

  std::string_view name() const override { return "greedy"; }

  Expected<std::vector<Config>> Ask(const SamplerContext& context, int n) override {
    const Space& space = context.space;
    if (space.size() != 1 || space.parameters()[0].kind != ParamKind::kSequence) {
      return InvalidInput(
          "the greedy sampler needs a space of exactly one sequence parameter (it extends a "
          "sequence item by item)");
    }
    const Parameter& p = space.parameters()[0];
    const int alphabet = static_cast<int>(p.values.size());
    const double sign = context.objectives.empty() || context.objectives[0].minimize ? 1 : -1;
    // Cost of every measured sequence (a failure is +infinity: never chosen).
    std::map<std::vector<int>, double> cost;
    for (const auto& t : context.history) {
      const auto& items = std::get<Sequence>(t.config.at(0)).items;
      const double c = t.state == TrialState::kComplete && !t.values.empty()
                           ? sign * t.values[0]
                           : std::numeric_limits<double>::infinity();
      auto [it, added] = cost.emplace(items, c);
      if (!added) it->second = std::min(it->second, c);
    }
    std::set<std::vector<int>> pending;
    for (const auto& c : context.pending) pending.insert(std::get<Sequence>(c.at(0)).items);

    std::vector<Config> out;
    auto propose = [&](std::vector<int> items) {
      if (cost.count(items) || pending.count(items)) return;
      pending.insert(items);
      out.push_back(Config{Value(Sequence{std::move(items)})});
    };
    std::vector<int> current(static_cast<size_t>(p.min_length), 0);
    if (!cost.count(current)) {
      propose(current);
      if (static_cast<int>(out.size()) >= n) return out;
    }
    // Replays the greedy steps the history already holds, then asks for what the next one
    // needs. When the rest of a step is in flight, the best extension measured so far is
    // extended ahead of time, so that parallel workers stay busy.
    while (static_cast<int>(current.size()) < p.size) {
      const auto here = cost.find(current);
      const double current_cost =
          here == cost.end() ? std::numeric_limits<double>::infinity() : here->second;
      bool complete = true;
      double best = std::numeric_limits<double>::infinity();
      std::vector<int> best_items;
      for (int a = 0; a < alphabet; ++a) {
        std::vector<int> next = current;
        next.push_back(a);
        const auto it = cost.find(next);
        if (it == cost.end()) {
          complete = false;
          propose(next);
          if (static_cast<int>(out.size()) >= n) return out;
        } else if (it->second < best) {
          best = it->second;
          best_items = next;
        }
      }
      if (!complete) {
        if (best_items.empty() || best >= current_cost) return out;  // wait for the rest
        current = best_items;  // speculate on the best extension so far
        continue;
      }
      if (best >= current_cost) return out;  // converged: no extension improves
      current = best_items;
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Sampler> MakeGreedySampler(const SamplerOptions& options) {
  return std::make_unique<GreedySampler>(options);
}

}  // namespace sysopt
