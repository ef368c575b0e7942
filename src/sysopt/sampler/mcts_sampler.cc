// Monte Carlo tree search over the prefixes of a sequence, single-player and deterministic, as
// ProTuner searches schedules: each proposal walks down from the empty prefix by UCB on the
// mean and best rewards below each child, adds one child where the node has been visited enough to
// widen (progressive widening: at most ceil(sqrt(visits)) children), and completes it with a
// random suffix. Walks share prefixes, so a runner that keeps the results of measured prefixes
// (the LLVM workers do) pays only for the new part of each sequence.
//
// The tree is the history: a node's statistics are those of every measured sequence that
// starts with its prefix. They are kept incrementally (trials are added once, by number), which
// is derived data: a fresh sampler over the same history builds the same tree.
#include <cmath>
#include <limits>
#include <map>
#include <unordered_set>

#include "sysopt/sampler/samplers.h"

namespace sysopt {

namespace {

struct NodeStats {
  int visits = 0;
  double best = std::numeric_limits<double>::infinity();  // lowest cost below (minimised)
  double cost_sum = 0;                                    // over the successes below
  int successes = 0;
  std::vector<int> children;  // items of the children with visits
};

class MctsSampler final : public Sampler {
 public:
  explicit MctsSampler(const SamplerOptions& options) : seed_(options.seed) {}

  std::string_view name() const override { return "mcts"; }

  Expected<std::vector<Config>> Ask(const SamplerContext& context, int n) override {
    const Space& space = context.space;
    if (space.size() != 1 || space.parameters()[0].kind != ParamKind::kSequence) {
      return InvalidInput(
          "the mcts sampler needs a space of exactly one sequence parameter (it searches a tree "
          "of sequence prefixes)");
    }
    const Parameter& p = space.parameters()[0];
    Absorb(context);
    Rng rng = AskRng(seed_, context);
    auto seen = SeenConfigs(context);
    // Sequences in flight count as visits (a virtual loss), so parallel walks spread out.
    std::map<std::vector<int>, int> in_flight;
    for (const auto& c : context.pending) AddPrefixes(std::get<Sequence>(c.at(0)).items, in_flight);
    std::vector<Config> out;
    for (int k = 0; k < n; ++k) {
      bool found = false;
      for (int attempt = 0; attempt < 20 && !found; ++attempt) {
        std::vector<int> items = Walk(p, rng, in_flight);
        Config c{Value(Sequence{items})};
        if (seen.insert(HashConfig(c)).second) {
          AddPrefixes(items, in_flight);
          out.push_back(std::move(c));
          found = true;
        }
      }
      if (!found) {
        auto extra = SampleDistinct(space, 1, rng, seen);
        if (!extra.ok()) return extra.error();
        for (auto& e : *extra) out.push_back(std::move(e));
      }
    }
    return out;
  }

 private:
  static void AddPrefixes(const std::vector<int>& items, std::map<std::vector<int>, int>& to) {
    for (size_t len = 0; len <= items.size(); ++len) {
      ++to[std::vector<int>(items.begin(), items.begin() + len)];
    }
  }

  // Adds the trials not yet in the tree.
  void Absorb(const SamplerContext& context) {
    if (context.history.size() < absorbed_.size()) {
      nodes_.clear();
      absorbed_.clear();
      worst_ = -std::numeric_limits<double>::infinity();
    }
    const double sign = context.objectives.empty() || context.objectives[0].minimize ? 1 : -1;
    for (const auto& t : context.history) {
      if (!absorbed_.insert(t.number).second) continue;
      const auto& items = std::get<Sequence>(t.config.at(0)).items;
      const bool ok = t.state == TrialState::kComplete && !t.values.empty();
      const double cost = ok ? sign * t.values[0] : std::numeric_limits<double>::infinity();
      if (ok) worst_ = std::max(worst_, cost);
      for (size_t len = 0; len <= items.size(); ++len) {
        NodeStats& node = nodes_[std::vector<int>(items.begin(), items.begin() + len)];
        if (node.visits == 0 && len > 0) {
          nodes_[std::vector<int>(items.begin(), items.begin() + len - 1)].children.push_back(
              items[len - 1]);
        }
        ++node.visits;
        node.best = std::min(node.best, cost);
        if (ok) {
          node.cost_sum += cost;
          ++node.successes;
        }
      }
    }
  }

  std::vector<int> Walk(const Parameter& p, Rng& rng,
                        const std::map<std::vector<int>, int>& in_flight) const {
    const int alphabet = static_cast<int>(p.values.size());
    std::vector<int> prefix;
    // Too short a walk is completed at random up to the minimum length.
    auto finish = [&](std::vector<int> items) {
      while (static_cast<int>(items.size()) < p.min_length) {
        items.push_back(static_cast<int>(UniformIndex(rng, static_cast<size_t>(alphabet))));
      }
      return items;
    };
    const auto root = nodes_.find(prefix);
    const double best = root == nodes_.end() ? 0 : root->second.best;
    // Rewards in [0, 1]: 1 for the best cost seen, 0 for the worst (or a failure).
    const double span = std::isfinite(best) && worst_ > best ? worst_ - best : 1;
    auto reward = [&](double cost) {
      return std::isfinite(cost) ? std::clamp((worst_ - cost) / span, 0.0, 1.0) : 0.0;
    };
    while (static_cast<int>(prefix.size()) < p.size) {
      const auto it = nodes_.find(prefix);
      const int flying = in_flight.count(prefix) ? in_flight.at(prefix) : 0;
      const int visits = (it == nodes_.end() ? 0 : it->second.visits) + flying;
      const std::vector<int> none;
      const std::vector<int>& children = it == nodes_.end() ? none : it->second.children;
      const bool widen = static_cast<double>(children.size()) <
                             std::ceil(std::sqrt(static_cast<double>(visits) + 1)) &&
                         static_cast<int>(children.size()) < alphabet;
      if (widen) {
        // A new child, then a random suffix: the rollout.
        std::vector<bool> used(static_cast<size_t>(alphabet), false);
        for (int c : children) used[static_cast<size_t>(c)] = true;
        int a = static_cast<int>(UniformIndex(rng, static_cast<size_t>(alphabet)));
        while (used[static_cast<size_t>(a)]) a = (a + 1) % alphabet;
        prefix.push_back(a);
        const int room = p.size - static_cast<int>(prefix.size());
        const int extra = static_cast<int>(UniformIndex(rng, static_cast<size_t>(room) + 1));
        for (int i = 0; i < extra; ++i) {
          prefix.push_back(static_cast<int>(UniformIndex(rng, static_cast<size_t>(alphabet))));
        }
        return finish(std::move(prefix));
      }
      // UCB1 on the mean reward below each child, plus the best one: with a single player the
      // best matters, but on plateaus of equal best costs the mean tells the subtrees apart.
      double top = -1;
      int choice = children.front();
      for (int c : children) {
        std::vector<int> child = prefix;
        child.push_back(c);
        const auto& stats = nodes_.at(child);
        const int child_visits = stats.visits + (in_flight.count(child) ? in_flight.at(child) : 0);
        const double mean = stats.successes > 0 ? reward(stats.cost_sum / stats.successes) *
                                                      stats.successes / child_visits
                                                : 0.0;
        const double score = 0.5 * (mean + reward(stats.best)) +
                             kExploration * std::sqrt(std::log(static_cast<double>(visits)) /
                                                      static_cast<double>(child_visits));
        if (score > top) {
          top = score;
          choice = c;
        }
      }
      prefix.push_back(choice);
    }
    return finish(std::move(prefix));
  }

  // The exploration constant of UCB1 for rewards in [0, 1] (sqrt(2) in theory; smaller, as is
  // usual in practice, since half of each score is a maximum, which is less noisy than a mean).
  static constexpr double kExploration = 0.5;

  uint64_t seed_;
  std::map<std::vector<int>, NodeStats> nodes_;
  std::unordered_set<int64_t> absorbed_;
  double worst_ = -std::numeric_limits<double>::infinity();
};

}  // namespace

std::unique_ptr<Sampler> MakeMctsSampler(const SamplerOptions& options) {
  return std::make_unique<MctsSampler>(options);
}

}  // namespace sysopt
