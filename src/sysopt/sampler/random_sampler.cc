#include "sysopt/sampler/samplers.h"

namespace sysopt {
namespace {

class RandomSampler : public Sampler {
 public:
  explicit RandomSampler(const SamplerOptions& options) : seed_(options.seed) {}
  std::string_view name() const override { return "random"; }
  Expected<std::vector<Config>> Ask(const SamplerContext& context, int n) override {
    Rng rng = AskRng(seed_, context);
    auto seen = SeenConfigs(context);
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
