#include "sysopt/sampler/samplers.h"

namespace sysopt {
namespace {

class RandomSampler : public Sampler {
 public:
  explicit RandomSampler(const SamplerOptions& options) : seed_(options.seed) {}
  std::string_view name() const override { return "random"; }
  Expected<std::vector<Config>> Ask(const SamplerContext& context, int n) override {
    Rng rng = AskRng(seed_, context);
    // Only a discrete space's draws are checked against the history (SampleDistinct); in one
    // with a real parameter, hashing the whole history at every ask would cost O(trials) for
    // nothing.
    std::unordered_set<size_t> seen;
    if (context.space.IsDiscrete()) seen = SeenConfigs(context);
    return SampleDistinct(context.space, n, rng, seen);
  }

 private:
  uint64_t seed_;
};

}  // namespace

std::unique_ptr<Sampler> MakeRandomSampler(const SamplerOptions& options) {
  return std::make_unique<RandomSampler>(options);
}

}  // namespace sysopt
