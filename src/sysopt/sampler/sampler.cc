#include "sysopt/sampler/sampler.h"

#include <fmt/format.h>

#include <utility>

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

namespace {

// Spaces up to this many feasible configurations are scanned for unseen ones when random draws
// keep repeating; reaching that point needs a history about as large, so the scan is no dearer.
constexpr long double kMaxUnseenScan = 1e6L;

// Up to `n` configurations not in `seen`, uniformly among all unseen ones, by scanning every rank
// of a countable space; nothing when the space cannot be counted exactly.
std::vector<Config> UnseenByScan(const Space& space, int n, Rng& rng,
                                 std::unordered_set<size_t>& seen) {
  const FeasibleCount count = space.CountFeasible();
  if (!count.finite || !count.exact || count.value > kMaxUnseenScan) return {};
  std::vector<uint64_t> unseen;
  for (uint64_t r = 0; r < static_cast<uint64_t>(count.value); ++r) {
    if (!seen.count(HashConfig(space.FeasibleAt(r)))) unseen.push_back(r);
  }
  std::vector<Config> out;
  // Partial Fisher-Yates: the first k entries become a uniform sample without replacement.
  for (size_t k = 0; k < unseen.size() && static_cast<int>(out.size()) < n; ++k) {
    std::swap(unseen[k], unseen[k + UniformIndex(rng, unseen.size() - k)]);
    Config c = space.FeasibleAt(unseen[k]);
    seen.insert(HashConfig(c));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

Expected<std::vector<Config>> SampleDistinct(const Space& space, int n, Rng& rng,
                                             std::unordered_set<size_t>& seen) {
  std::vector<Config> out;
  // In a discrete space nearly exhausted by the history, most draws are duplicates: after a
  // bounded number of them the remaining unseen configurations are found by enumeration, so
  // that proposing fewer than asked really means the space is used up.
  const int max_tries = 200;
  for (int i = 0; i < n; ++i) {
    bool found = false;
    for (int t = 0; t < max_tries && !found; ++t) {
      auto c = space.Sample(rng);
      if (!c.ok()) return c.error();
      if (seen.insert(HashConfig(*c)).second || !space.IsDiscrete()) {
        out.push_back(std::move(*c));
        found = true;
      }
    }
    if (!found) {
      for (auto& c : UnseenByScan(space, n - i, rng, seen)) out.push_back(std::move(c));
      break;
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> SamplerDescriptions() {
  return {
      {"auto",
       "Bayesian optimisation; Gaussian process, or random forest for long histories and "
       "large categorical spaces (default)"},
      {"gp", "Bayesian optimisation with a Gaussian process surrogate"},
      {"forest", "Bayesian optimisation with a random forest surrogate (SMAC-style)"},
      {"random", "uniform over the feasible set"},
      {"lhs", "Latin hypercube design over the whole budget (maximin of several candidates)"},
      {"exhaustive", "every feasible configuration once, in a scrambled order (discrete spaces)"},
      {"evolution", "(mu + lambda) evolution with crossover and neighbourhood mutation"},
      {"greedy",
       "sequence spaces: extend the sequence by the item that improves most, until none does"},
      {"mcts",
       "sequence spaces: Monte Carlo tree search over prefixes (UCB on the best cost below, "
       "random completions)"},

  };
}

Expected<std::unique_ptr<Sampler>> MakeSampler(std::string_view name,
                                               const SamplerOptions& options) {
  if (name == "auto" || name == "gp" || name == "forest") {
    if (options.acquisition != "ei" && options.acquisition != "lcb") {
      return InvalidInput("unknown acquisition '{}' (known: ei, lcb)", options.acquisition);
    }
    BayesOptions bayes;
    bayes.lower_confidence_bound = options.acquisition == "lcb";
    if (name != "auto") {
      bayes.surrogate =
          name == "gp" ? SurrogateChoice::kGaussianProcess : SurrogateChoice::kRandomForest;
    }
    return MakeBayesSampler(options, bayes);
  }
  if (name == "random") return MakeRandomSampler(options);
  if (name == "lhs") return MakeLatinHypercubeSampler(options);
  if (name == "exhaustive") return MakeExhaustiveSampler(options);
  if (name == "evolution") return MakeEvolutionSampler(options);
  if (name == "greedy") return MakeGreedySampler(options);
  if (name == "mcts") return MakeMctsSampler(options);

  std::string names;
  for (const auto& [n, _] : SamplerDescriptions()) names += (names.empty() ? "" : ", ") + n;
  return InvalidInput("unknown sampler '{}' (known: {})", name, names);
}

}  // namespace sysopt
