#include <numeric>

#include "sysopt/sampler/samplers.h"

namespace sysopt {
namespace {

constexpr long double kMaxExhaustive = 1e12L;

class ExhaustiveSampler : public Sampler {
 public:
  explicit ExhaustiveSampler(const SamplerOptions& options) : seed_(options.seed) {}
  std::string_view name() const override { return "exhaustive"; }

  Expected<std::vector<Config>> Ask(const SamplerContext& context, int n) override {
    const auto count = context.space.CountFeasible();
    if (!count.finite || !count.exact || count.value > kMaxExhaustive) {
      return InvalidInput(
          "the exhaustive sampler needs a finite discrete space whose feasible "
          "configurations can be counted exactly (this one has {})",
          count.ToString());
    }
    const auto total = static_cast<uint64_t>(count.value);
    if (total == 0) return std::vector<Config>{};
    // Visit ranks in the order i -> (a*i + b) mod total with a coprime to total: every rank once,
    // scrambled, so that a budget below the total still spreads over the space.
    Rng rng(DeriveSeed(seed_, total));
    uint64_t a = 1 + UniformIndex(rng, total);
    while (std::gcd(a, total) != 1) a = a % total + 1;
    const uint64_t b = UniformIndex(rng, total);
    auto seen = SeenConfigs(context);
    std::vector<Config> out;
    uint64_t i = context.history.size() + context.pending.size();
    // Interrupted or repeated trials can shift the count; scan on until enough unseen ranks are
    // found or every rank has been looked at once.
    for (uint64_t looked = 0; static_cast<int>(out.size()) < n && looked < total; ++looked, ++i) {
      const auto rank =
          static_cast<uint64_t>((static_cast<unsigned __int128>(a) * (i % total) + b) % total);
      Config c = context.space.FeasibleAt(rank);
      if (seen.insert(HashConfig(c)).second) out.push_back(std::move(c));
    }
    return out;
  }

 private:
  uint64_t seed_;
};

}  // namespace

std::unique_ptr<Sampler> MakeExhaustiveSampler(const SamplerOptions& options) {
  return std::make_unique<ExhaustiveSampler>(options);
}

}  // namespace sysopt
