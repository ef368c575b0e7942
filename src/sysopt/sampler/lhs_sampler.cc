#include <algorithm>
#include <limits>
#include <numeric>

#include "sysopt/sampler/samplers.h"

namespace sysopt {
namespace {

// A design of n points in [0,1)^d with one point in each of the n strata of every axis.
std::vector<std::vector<double>> RandomLatinHypercube(int n, int d, Rng& rng) {
  std::vector<std::vector<double>> design(n, std::vector<double>(d));
  std::vector<int> strata(n);
  for (int j = 0; j < d; ++j) {
    std::iota(strata.begin(), strata.end(), 0);
    std::shuffle(strata.begin(), strata.end(), rng);
    for (int i = 0; i < n; ++i) design[i][j] = (strata[i] + Uniform01(rng)) / n;
  }
  return design;
}

double MinPairwiseDistance(const std::vector<std::vector<double>>& design) {
  double best = std::numeric_limits<double>::infinity();
  for (size_t a = 0; a < design.size(); ++a) {
    for (size_t b = a + 1; b < design.size(); ++b) {
      double s = 0;
      for (size_t j = 0; j < design[a].size(); ++j) {
        const double diff = design[a][j] - design[b][j];
        s += diff * diff;
      }
      best = std::min(best, s);
    }
  }
  return best;
}

class LatinHypercubeSampler : public Sampler {
 public:
  explicit LatinHypercubeSampler(const SamplerOptions& options)
      : seed_(options.seed), block_size_(std::clamp(options.budget, 1, 10'000)) {}
  std::string_view name() const override { return "lhs"; }

  Expected<std::vector<Config>> Ask(const SamplerContext& context, int n) override {
    const Space& space = context.space;
    std::vector<int> axes;  // parameters placed on the hypercube (all but permutations)
    for (size_t i = 0; i < space.size(); ++i) {
      if (space.parameters()[i].kind != ParamKind::kPermutation) axes.push_back(i);
    }
    Rng rng = AskRng(seed_, context);
    auto seen = SeenConfigs(context);
    std::vector<Config> out;
    size_t index = context.history.size() + context.pending.size();
    for (int k = 0; k < n; ++k, ++index) {
      const auto& design = Design(index / block_size_, static_cast<int>(axes.size()));
      const auto& u = design[index % block_size_];
      Config partial(space.size(), Value(int64_t{0}));
      std::vector<bool> fixed(space.size(), false);
      for (size_t j = 0; j < axes.size(); ++j) {
        partial[axes[j]] = space.parameters()[axes[j]].FromUnit(u[j]);
        fixed[axes[j]] = true;
      }
      auto c = space.Complete(partial, fixed, rng);
      if (!c.ok()) return c.error();
      if (space.IsDiscrete() && !seen.insert(HashConfig(*c)).second) {
        // Coarse discrete axes make design points collide; a random distinct point keeps the
        // promise of never repeating a configuration.
        auto extra = SampleDistinct(space, 1, rng, seen);
        if (!extra.ok()) return extra.error();
        for (auto& e : *extra) out.push_back(std::move(e));
        continue;
      }
      out.push_back(std::move(*c));
    }
    return out;
  }

 private:
  const std::vector<std::vector<double>>& Design(size_t block, int dims) {
    if (!design_.empty() && design_block_ == block && design_dims_ == dims) return design_;
    Rng rng(DeriveSeed(seed_, 1'000'003 + block));
    // Maximin over a few random designs; the quadratic score limits this to small designs.
    const int candidates = block_size_ <= 500 ? 8 : 1;
    double best_score = -1;
    for (int c = 0; c < candidates; ++c) {
      auto d = RandomLatinHypercube(block_size_, dims, rng);
      const double score = candidates > 1 ? MinPairwiseDistance(d) : 0;
      if (score > best_score) {
        best_score = score;
        design_ = std::move(d);
      }
    }
    design_block_ = block;
    design_dims_ = dims;
    return design_;
  }

  uint64_t seed_;
  int block_size_;
  std::vector<std::vector<double>> design_;
  size_t design_block_ = 0;
  int design_dims_ = -1;
};

}  // namespace

std::unique_ptr<Sampler> MakeLatinHypercubeSampler(const SamplerOptions& options) {
  return std::make_unique<LatinHypercubeSampler>(options);
}

}  // namespace sysopt
