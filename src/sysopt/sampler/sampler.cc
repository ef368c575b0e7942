#include "sysopt/sampler/sampler.h"

#include <fmt/format.h>

#include "sysopt/sampler/bo_sampler.h"
#include "sysopt/sampler/samplers.h"

namespace sysopt {

std::unordered_set<size_t> SeenConfigs(const SamplerContext& context) {
  std::unordered_set<size_t> seen;
  for (const auto& t : context.history) seen.insert(HashConfig(t.config));
  for (const auto& c : context.pending) seen.insert(HashConfig(c));
  return seen;
}

Rng AskRng(uint64_t seed, const SamplerContext& context) {
  return Rng(DeriveSeed(seed, context.history.size() + context.pending.size()));
}

Expected<std::vector<Config>> SampleDistinct(const Space& space, int n, Rng& rng,
                                             std::unordered_set<size_t>& seen) {
  std::vector<Config> out;
  // In a discrete space nearly exhausted by the history, most draws are duplicates; the
  // exhaustive sampler is the right tool there, so this gives up after a bounded effort.
  const int max_tries = 200;
  for (int i = 0; i < n; ++i) {
    for (int t = 0; t < max_tries; ++t) {
      auto c = space.Sample(rng);
      if (!c.ok()) return c.error();
      if (seen.insert(HashConfig(*c)).second || !space.IsDiscrete()) {
        out.push_back(std::move(*c));
        break;
      }
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> SamplerDescriptions() {
  return {
      {"auto", "Bayesian optimisation; Gaussian process, or random forest for long histories and "
               "large categorical spaces (default)"},
      {"gp", "Bayesian optimisation with a Gaussian process surrogate"},
      {"forest", "Bayesian optimisation with a random forest surrogate (SMAC-style)"},
      {"random", "uniform over the feasible set"},
      {"lhs", "Latin hypercube design over the whole budget (maximin of several candidates)"},
      {"exhaustive", "every feasible configuration once, in a scrambled order (discrete spaces)"},
      {"evolution", "(mu + lambda) evolution with crossover and neighbourhood mutation"},
  };
}

Expected<std::unique_ptr<Sampler>> MakeSampler(std::string_view name,
                                               const SamplerOptions& options) {
  if (name == "auto") return MakeBayesSampler(options, BayesOptions{});
  if (name == "gp" || name == "forest") {
    BayesOptions bayes;
    bayes.surrogate =
        name == "gp" ? SurrogateChoice::kGaussianProcess : SurrogateChoice::kRandomForest;
    return MakeBayesSampler(options, bayes);
  }
  if (name == "random") return MakeRandomSampler(options);
  if (name == "lhs") return MakeLatinHypercubeSampler(options);
  if (name == "exhaustive") return MakeExhaustiveSampler(options);
  if (name == "evolution") return MakeEvolutionSampler(options);
  std::string names;
  for (const auto& [n, _] : SamplerDescriptions()) names += (names.empty() ? "" : ", ") + n;
  return InvalidInput("unknown sampler '{}' (known: {})", name, names);
}

}  // namespace sysopt
