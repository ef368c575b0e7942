#pragma once
/// \brief The Bayesian optimisation sampler: sysopt's default search strategy.
///
/// After an initial Latin hypercube design, every proposal maximises an acquisition function
/// (log expected improvement by default) of a surrogate fitted to the finished trials:
/// - the surrogate is a Gaussian process with kernels per parameter kind, or a random forest for
///   long histories and large categorical spaces ("auto" picks, and says which);
/// - failed trials train a feasibility classifier (hidden constraints): the acquisition is
///   weighted by P(feasible) and candidates below a threshold are not proposed;
/// - objectives go through a power transform fitted to the observed values (Box-Cox or
///   Yeo-Johnson, output_warping.h); EI improves on the least posterior mean at the observed
///   points; several objectives are reduced by random Chebyshev scalarisations (ParEGO);
///   repeats give per-trial noise;
/// - per-parameter priors weight the acquisition (piBO), fading as evidence accumulates;
/// - the acquisition is maximised over random feasible candidates, candidates a few moves away
///   from the best observed configurations, and by multi-start local search in the parameter
///   neighbourhoods; batches use the kriging believer, so parallel
///   workers never get the same configuration.

#include <memory>

#include "sysopt/sampler/sampler.h"

namespace sysopt {

/// \brief Which surrogate the Bayesian sampler uses.
enum class SurrogateChoice { kAuto, kGaussianProcess, kRandomForest };

/// \brief Settings of the Bayesian sampler.
struct BayesOptions {
  SurrogateChoice surrogate = SurrogateChoice::kAuto;
  bool lower_confidence_bound = false;  ///< LCB instead of log EI.
  int initial_design = 0;               ///< 0: chosen from the space's dimension and the budget.
  int random_candidates = 512;          ///< Random feasible candidates per proposal.
  int local_starts = 6;                 ///< Starting points of the acquisition's local search.
  double min_feasibility = 0.5;         ///< Candidates with lower P(feasible) are not proposed.
  int gp_max_trials = 400;              ///< "auto" switches to the forest beyond this history.
  double prior_beta = 10.0;             ///< piBO strength (prior weight decays as beta / n).
};

/// \brief The Bayesian optimisation sampler (names "auto", "gp", "forest").
std::unique_ptr<Sampler> MakeBayesSampler(const SamplerOptions& options, const BayesOptions& bayes);

}  // namespace sysopt
