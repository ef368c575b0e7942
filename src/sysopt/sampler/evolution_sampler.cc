#include <algorithm>
#include <cmath>
#include <vector>

#include "sysopt/sampler/samplers.h"

namespace sysopt {
namespace {

// Objective values reduced to one number to rank parents: the first objective, negated when
// maximised, so that smaller is better.
double Score(const TrialRecord& t, const std::vector<Objective>& objectives) {
  return objectives.front().minimize ? t.values.front() : -t.values.front();
}

class EvolutionSampler : public Sampler {
 public:
  explicit EvolutionSampler(const SamplerOptions& options)
      : seed_(options.seed), initial_(std::clamp(options.budget / 10, 8, 32)) {}
  std::string_view name() const override { return "evolution"; }

  Expected<std::vector<Config>> Ask(const SamplerContext& context, int n) override {
    const Space& space = context.space;
    Rng rng = AskRng(seed_, context);
    auto seen = SeenConfigs(context);
    std::vector<const TrialRecord*> complete;
    for (const auto& t : context.history) {
      if (t.state == TrialState::kComplete && !t.values.empty()) complete.push_back(&t);
    }
    if (static_cast<int>(complete.size()) < initial_) {
      return SampleDistinct(space, n, rng, seen);
    }
    std::sort(complete.begin(), complete.end(), [&](const TrialRecord* a, const TrialRecord* b) {
      return Score(*a, context.objectives) < Score(*b, context.objectives);
    });
    const size_t mu = std::clamp<size_t>(complete.size() / 5, 4, 16);
    complete.resize(std::min(mu, complete.size()));
    std::vector<Config> out;
    for (int k = 0; k < n; ++k) {
      bool found = false;
      for (int attempt = 0; attempt < 50 && !found; ++attempt) {
        Config child = Child(space, complete, rng);
        if (space.IsFeasible(child) && seen.insert(HashConfig(child)).second) {
          out.push_back(std::move(child));
          found = true;
        }
      }
      if (!found) {
        // The neighbourhood of the parents is used up: explore elsewhere.
        auto extra = SampleDistinct(space, 1, rng, seen);
        if (!extra.ok()) return extra.error();
        for (auto& e : *extra) out.push_back(std::move(e));
      }
    }
    return out;
  }

 private:
  static Config Child(const Space& space, const std::vector<const TrialRecord*>& parents,
                      Rng& rng) {
    // Rank-biased parent choice: better parents are picked more often.
    auto pick = [&]() -> const Config& {
      const double u = Uniform01(rng);
      return parents[static_cast<size_t>(u * u * parents.size())]->config;
    };
    Config child = pick();
    const bool conditional = space.IsConditional();
    if (parents.size() > 1 && Uniform01(rng) < 0.5) {
      const Config& other = pick();
      for (size_t i = 0; i < child.size(); ++i) {
        if (Uniform01(rng) < 0.5) child[i] = other[i];
      }
      if (conditional) {
        // A branch that crossover switches on takes the other parent's values where it has them.
        for (size_t i = 0; i < child.size(); ++i) {
          if (IsInactive(child[i]) && !IsInactive(other[i])) child[i] = other[i];
        }
        space.ApplyConditions(child, rng);
      }
    }
    // Mutate one active parameter, sometimes more (geometric number of moves); a move that
    // switches a branch on or off is made consistent at once.
    std::vector<size_t> movable;
    do {
      movable.clear();
      for (size_t k = 0; k < child.size(); ++k) {
        if (!IsInactive(child[k])) movable.push_back(k);
      }
      if (movable.empty()) break;
      const size_t i = movable[UniformIndex(rng, movable.size())];
      auto moves = space.parameters()[i].Neighbors(child[i], rng);
      if (!moves.empty()) child[i] = moves[UniformIndex(rng, moves.size())];
      if (conditional) space.ApplyConditions(child, rng);
    } while (Uniform01(rng) < 0.3);
    return child;
  }

  uint64_t seed_;
  int initial_;
};

}  // namespace

std::unique_ptr<Sampler> MakeEvolutionSampler(const SamplerOptions& options) {
  return std::make_unique<EvolutionSampler>(options);
}

}  // namespace sysopt
