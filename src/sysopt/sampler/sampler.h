#pragma once
/// \brief The Sampler interface: proposes configurations from the space and the study's history.
///
/// Call order: the tuner calls Ask whenever a worker is free, passing the finished trials and
/// the configurations in flight. Samplers keep no state that cannot be rebuilt from that history
/// (they may cache derived data, e.g. a fitted model, keyed on it), so a resumed study proposes
/// what an uninterrupted one would have. Thread safety: Ask is called under the tuner's lock,
/// never concurrently on one sampler.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/core/rng.h"
#include "sysopt/space/spec.h"
#include "sysopt/storage/storage.h"

namespace sysopt {

/// \brief What a sampler sees when asked.
struct SamplerContext {
  const Space& space;
  const std::vector<Objective>& objectives;
  const std::vector<TrialRecord>& history;  ///< Finished trials (COMPLETE and FAILED), by number.
  const std::vector<Config>& pending;       ///< Configurations being evaluated now.
};

/// \brief Settings common to all samplers.
struct SamplerOptions {
  uint64_t seed = 0;
  int budget = 100;  ///< The number of trials the study is meant to reach (design sizes).
  /// Acquisition of the Bayesian samplers: "ei" (log expected improvement) or "lcb" (lower
  /// confidence bound); ignored by the others.
  std::string acquisition = "ei";
};

class Sampler {
 public:
  virtual ~Sampler() = default;

  /// \brief The name it is selected by (e.g. "random").
  virtual std::string_view name() const = 0;

  /// \brief Proposes up to `n` feasible configurations, distinct from each other and, for
  /// discrete spaces, from every finished or pending one. Fewer (possibly none) means the space
  /// is exhausted. Errors mean the space cannot be sampled (e.g. no feasible point).
  virtual Expected<std::vector<Config>> Ask(const SamplerContext& context, int n) = 0;
};

/// \brief Builds a sampler by name; the error lists the known names.
Expected<std::unique_ptr<Sampler>> MakeSampler(std::string_view name,
                                               const SamplerOptions& options);

/// \brief Names MakeSampler accepts, with a one-line description each.
std::vector<std::pair<std::string, std::string>> SamplerDescriptions();

/// \brief Hashes of every finished and pending configuration, for duplicate checks.
std::unordered_set<size_t> SeenConfigs(const SamplerContext& context);

/// \brief An independent generator for the next Ask: seeded from the sampler's seed and the
/// number of trials so far, so that proposals depend on history, not on process lifetime.
Rng AskRng(uint64_t seed, const SamplerContext& context);

/// \brief Draws feasible configurations not in `seen` (adding them to it), up to `n`. In a
/// discrete space where random draws keep repeating, the unseen configurations are found by
/// enumeration (when the feasible set can be counted exactly), so fewer than `n` means none is
/// left; a space too large to enumerate gives up after many duplicate draws.
Expected<std::vector<Config>> SampleDistinct(const Space& space, int n, Rng& rng,
                                             std::unordered_set<size_t>& seen);

}  // namespace sysopt
