#pragma once
/// \brief Factories of the concrete samplers (each implemented in its own file beside this one).

#include <memory>

#include "sysopt/sampler/sampler.h"

namespace sysopt {

/// \brief Uniform over the feasible set, avoiding repeats in discrete spaces.
std::unique_ptr<Sampler> MakeRandomSampler(const SamplerOptions& options);

/// \brief Latin hypercube over the numeric and choice parameters for the whole budget, picked as
/// the maximin of several random designs; permutations drawn uniformly; constraints kept.
std::unique_ptr<Sampler> MakeLatinHypercubeSampler(const SamplerOptions& options);

/// \brief Every feasible configuration of a finite discrete space once, in a scrambled order.
std::unique_ptr<Sampler> MakeExhaustiveSampler(const SamplerOptions& options);

/// \brief (mu + lambda) evolution: parents are the best finished trials; children by uniform
/// crossover and neighbourhood mutation; a random initial population.
std::unique_ptr<Sampler> MakeEvolutionSampler(const SamplerOptions& options);

/// \brief Greedy construction over a space of one sequence parameter (CompilerGym's greedy
/// baseline): measure every one-item extension of the current sequence, keep the best while it
/// improves. Proposes nothing once no extension improves.
std::unique_ptr<Sampler> MakeGreedySampler(const SamplerOptions& options);

/// \brief Monte Carlo tree search over the prefixes of a space of one sequence parameter: UCB
/// on the best cost below each prefix, progressive widening, random completions.
std::unique_ptr<Sampler> MakeMctsSampler(const SamplerOptions& options);

}  // namespace sysopt
