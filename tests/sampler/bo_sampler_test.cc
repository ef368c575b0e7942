// Behaviour of the Bayesian optimisation sampler, driven through the real tuning loop with
// in-process objective functions and memory storage.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sysopt/runner/function_runner.h"
#include "sysopt/sampler/bo_sampler.h"
#include "sysopt/sampler/sampler.h"
#include "sysopt/storage/storage.h"
#include "sysopt/study/study.h"
#include "sysopt/tuner/tuner.h"

namespace sysopt {
namespace {

Spec MakeSpec(const nlohmann::json& j) {
  auto spec = ParseSpec(j, "test");
  EXPECT_TRUE(spec.ok()) << spec.error().message();
  return std::move(*spec);
}

struct TunedStudy {
  std::unique_ptr<Storage> storage = MakeMemoryStorage();
  std::unique_ptr<Study> study;
};

TunedStudy TuneWith(const Spec& spec, const std::string& sampler_name, int budget, uint64_t seed,
             ObjectiveFunction fn, int workers = 1) {
  TunedStudy run;
  auto study = Study::Open(*run.storage, "s", spec, {}, nullptr);
  EXPECT_TRUE(study.ok());
  run.study = std::move(*study);
  auto sampler = MakeSampler(sampler_name, SamplerOptions{seed, budget});
  EXPECT_TRUE(sampler.ok());
  auto runner = MakeFunctionRunner(std::move(fn));
  TuneOptions options;
  options.budget = budget;
  options.workers = workers;
  auto report = Tune(*run.study, **sampler, *runner, options, {});
  EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().message());
  return run;
}

double X(const Config& c, int i) { return AsDouble(c[i]); }

const nlohmann::json kTwoReals = {
    {"parameters",
     {{{"name", "x"}, {"type", "real"}, {"low", 0.0}, {"high", 1.0}},
      {{"name", "y"}, {"type", "real"}, {"low", 0.0}, {"high", 1.0}}}}};

// A plain mixed space whose optimum has the value 0 in the interior of the box: four reals, two
// integers, two categoricals, and squared distances plus penalties. An objective near 0 at its
// best once made the default sampler stall for hundreds of trials with its proposals on the
// corners of the box (the best observations looked like noise to the model, so improvement
// seemed possible only where the prior's variance was left).
const nlohmann::json kMixedEight = {
    {"parameters",
     {{{"name", "a"}, {"type", "real"}, {"low", 0.0}, {"high", 2.0}},
      {{"name", "b"}, {"type", "real"}, {"low", 0.0}, {"high", 2.0}},
      {{"name", "c"}, {"type", "real"}, {"low", 0.0}, {"high", 2.0}},
      {{"name", "d"}, {"type", "real"}, {"low", -1.0}, {"high", 1.0}},
      {{"name", "i"}, {"type", "integer"}, {"low", 0}, {"high", 20}},
      {{"name", "j"}, {"type", "integer"}, {"low", 0}, {"high", 9}},
      {{"name", "k"}, {"type", "categorical"}, {"values", {"p", "q", "r", "s"}}},
      {{"name", "l"}, {"type", "categorical"}, {"values", {"u", "v", "w"}}}}}};

Expected<std::vector<double>> MixedEight(const Config& c) {
  const double targets[4] = {0.4, 1.5, 0.9, 0.2};
  double f = 0;
  for (int p = 0; p < 4; ++p) f += (X(c, p) - targets[p]) * (X(c, p) - targets[p]);
  const double di = (X(c, 4) - 7) / 5, dj = (X(c, 5) - 4) / 3;
  f += di * di + dj * dj;
  const std::string& k = std::get<std::string>(c[6]);
  f += k == "r" ? 0.0 : k == "p" ? 0.4 : 0.8;
  f += std::get<std::string>(c[7]) == "u" ? 0.0 : 0.5;
  return std::vector<double>{f};
}

double BestValue(const TunedStudy& run) {
  auto best = run.study->Best();
  return best ? best->values[0] : INFINITY;
}

TEST(BayesSamplerTest, MixedSpaceWithItsOptimumAtZeroDoesNotStall) {
  const Spec spec = MakeSpec(kMixedEight);
  std::vector<double> bests;
  for (uint64_t seed : {0, 1, 2, 3, 4}) {
    const double ours = BestValue(TuneWith(spec, "auto", 100, seed, MixedEight));
    const double random = BestValue(TuneWith(spec, "random", 100, seed, MixedEight));
    EXPECT_LT(ours, 0.1 * random) << "seed " << seed;
    bests.push_back(ours);
  }
  // The stalled sampler stayed above 0.09 at every seed; a working one gets within 0.01 of the
  // optimum at most seeds.
  std::sort(bests.begin(), bests.end());
  EXPECT_LT(bests[2], 0.01);
}

TEST(BayesSamplerTest, BeatsRandomSearchOnASmoothFunction) {
  const Spec spec = MakeSpec(kTwoReals);
  // A smooth bowl with its minimum 0 at (0.7, 0.2).
  auto bowl = [](const Config& c) -> Expected<std::vector<double>> {
    const double dx = X(c, 0) - 0.7, dy = X(c, 1) - 0.2;
    return std::vector<double>{dx * dx + 3 * dy * dy};
  };
  int bayes_wins = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    auto bayes = TuneWith(spec, "gp", 25, seed, bowl);
    auto random = TuneWith(spec, "random", 25, seed, bowl);
    const double b = bayes.study->Best()->values[0], r = random.study->Best()->values[0];
    bayes_wins += b < r;
    EXPECT_LT(b, 1e-2) << "seed " << seed;
  }
  EXPECT_EQ(bayes_wins, 3);
}

TEST(BayesSamplerTest, LearnsAHiddenInfeasibleRegion) {
  const Spec spec = MakeSpec(kTwoReals);
  // Fails (a hidden constraint the spec does not state) when x + y > 1, half the square; the
  // optimum (0.6, 0.3) lies close to that region, so a sampler that does not learn it keeps
  // proposing there.
  auto fn = [](const Config& c) -> Expected<std::vector<double>> {
    if (X(c, 0) + X(c, 1) > 1.0) return RuntimeError("out of memory");
    const double dx = X(c, 0) - 0.6, dy = X(c, 1) - 0.3;
    return std::vector<double>{dx * dx + dy * dy};
  };
  auto late_failures = [](const TunedStudy& run) {
    const auto trials = run.study->Finished();
    EXPECT_EQ(trials.size(), 40u);
    int count = 0;
    for (size_t i = 20; i < trials.size(); ++i) count += trials[i].state == TrialState::kFailed;
    return count;
  };
  int bayes = 0, random = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    auto run = TuneWith(spec, "gp", 40, seed, fn);
    bayes += late_failures(run);
    random += late_failures(TuneWith(spec, "random", 40, seed, fn));
    EXPECT_LT(run.study->Best()->values[0], 2e-3) << "seed " << seed;
  }
  // Random sampling fails about half the time here (30 of 60 late trials); having learned the
  // region, the Bayesian sampler fails far less often.
  EXPECT_LE(bayes * 2, random) << "bayes " << bayes << " random " << random;
}

TEST(BayesSamplerTest, BatchProposalsAreDistinctAndFeasible) {
  const Spec spec = MakeSpec({{"parameters",
                               {{{"name", "a"}, {"type", "integer"}, {"low", 0}, {"high", 9}},
                                {{"name", "b"}, {"type", "integer"}, {"low", 0}, {"high", 9}}}},
                              {"constraints", {"a + b <= 12"}}});
  auto fn = [](const Config& c) -> Expected<std::vector<double>> {
    return std::vector<double>{std::abs(X(c, 0) - 6) + std::abs(X(c, 1) - 6)};
  };
  auto run = TuneWith(spec, "gp", 12, 5, fn);
  auto sampler = MakeSampler("gp", SamplerOptions{5, 40});
  ASSERT_TRUE(sampler.ok());
  const auto history = run.study->Finished();
  const std::vector<Config> pending = {history[0].config};
  auto batch = (*sampler)->Ask(
      SamplerContext{spec.space, spec.objectives, history, pending}, 6);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 6u);
  std::unordered_set<size_t> seen;
  for (const auto& t : history) seen.insert(HashConfig(t.config));
  for (const auto& c : *batch) {
    EXPECT_TRUE(spec.space.IsFeasible(c));
    EXPECT_TRUE(seen.insert(HashConfig(c)).second) << "duplicate proposal";
  }
}

TEST(BayesSamplerTest, ParallelWorkersNeverRunTheSameConfiguration) {
  const Spec spec = MakeSpec({{"parameters",
                               {{{"name", "a"}, {"type", "ordinal"}, {"values", {1, 2, 4, 8, 16}}},
                                {{"name", "p"}, {"type", "permutation"}, {"size", 3}}}}});
  auto fn = [](const Config& c) -> Expected<std::vector<double>> {
    const auto& p = std::get<Permutation>(c[1]).order;
    return std::vector<double>{std::abs(X(c, 0) - 4) + p[0]};
  };
  auto run = TuneWith(spec, "auto", 24, 2, fn, /*workers=*/3);
  std::unordered_set<size_t> seen;
  for (const auto& t : run.study->Finished()) {
    EXPECT_TRUE(seen.insert(HashConfig(t.config)).second);
  }
  EXPECT_EQ(seen.size(), 24u);
}

TEST(BayesSamplerTest, PriorsPullProposalsTowardThePrior) {
  nlohmann::json with_prior = kTwoReals;
  with_prior["parameters"][0]["prior"] = {{"mean", 0.9}, {"width", 0.05}};
  with_prior["parameters"][1]["prior"] = {{"mean", 0.1}, {"width", 0.05}};
  // A bowl centred at (0.5, 0.5): with the prior at (0.9, 0.1), the search should lean toward the
  // prior while the evidence is thin: the first proposals after the initial design.
  auto flat = [](const Config& c) -> Expected<std::vector<double>> {
    const double dx = X(c, 0) - 0.5, dy = X(c, 1) - 0.5;
    return std::vector<double>{dx * dx + dy * dy};
  };
  auto distance = [](const TunedStudy& run) {
    double total = 0;
    int count = 0;
    const auto trials = run.study->Finished();
    for (size_t i = 8; i < 12; ++i) {
      total += std::hypot(X(trials[i].config, 0) - 0.9, X(trials[i].config, 1) - 0.1);
      ++count;
    }
    return total / count;
  };
  const double d_prior = distance(TuneWith(MakeSpec(with_prior), "gp", 20, 4, flat));
  const double d_plain = distance(TuneWith(MakeSpec(kTwoReals), "gp", 20, 4, flat));
  EXPECT_LT(d_prior, 0.75 * d_plain);
}

TEST(BayesSamplerTest, ReproducibleWithAFixedSeed) {
  const Spec spec = MakeSpec(kTwoReals);
  auto fn = [](const Config& c) -> Expected<std::vector<double>> {
    return std::vector<double>{std::sin(5 * X(c, 0)) + X(c, 1)};
  };
  auto a = TuneWith(spec, "auto", 15, 11, fn);
  auto b = TuneWith(spec, "auto", 15, 11, fn);
  auto c = TuneWith(spec, "auto", 15, 12, fn);
  const auto ta = a.study->Finished(), tb = b.study->Finished(), tc = c.study->Finished();
  ASSERT_EQ(ta.size(), tb.size());
  bool differs = false;
  for (size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i].config, tb[i].config) << "trial " << i;
    differs = differs || ta[i].config != tc[i].config;
  }
  EXPECT_TRUE(differs);
}

TEST(BayesSamplerTest, TwoObjectivesSpreadAlongTheFront) {
  nlohmann::json j = kTwoReals;
  j["objectives"] = {{{"name", "f1"}, {"goal", "minimize"}}, {{"name", "f2"}, {"goal", "minimize"}}};
  const Spec spec = MakeSpec(j);
  // f1 = x, f2 = 1 - sqrt(x) + y: the front is y = 0, x in [0, 1].
  auto fn = [](const Config& c) -> Expected<std::vector<double>> {
    return std::vector<double>{X(c, 0), 1 - std::sqrt(X(c, 0)) + X(c, 1)};
  };
  auto run = TuneWith(spec, "gp", 30, 6, fn);
  const auto front = run.study->ParetoFront();
  ASSERT_GE(front.size(), 4u);
  double lo = 1, hi = 0;
  for (const auto& t : front) {
    lo = std::min(lo, X(t.config, 0));
    hi = std::max(hi, X(t.config, 0));
  }
  EXPECT_GT(hi - lo, 0.4) << "the front found should span the trade-off, not one end";
}

}  // namespace
}  // namespace sysopt

namespace sysopt {
namespace {

TrialRecord Measured(int64_t number, double x, std::vector<double> samples) {
  TrialRecord t;
  t.number = number;
  t.state = TrialState::kComplete;
  t.config = {Value(x)};
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  t.values = {sorted[sorted.size() / 2]};  // median, as the runner aggregates by default
  for (double s : samples) t.samples.push_back({s});
  return t;
}

TEST(BayesSamplerTest, RemeasuresAnIncumbentThatLeadsOnlyByNoise) {
  const Spec spec = MakeSpec({{"parameters", {{{"name", "x"}, {"type", "real"}, {"low", 0.0},
                                               {"high", 1.0}}}}});
  std::vector<TrialRecord> history;
  for (int i = 0; i < 6; ++i) history.push_back(Measured(i, 0.1 * i, {2.0 + i, 2.1 + i, 1.9 + i}));
  // Trial 6 leads trial 7 by 0.05, but its samples spread by +-1 (standard error ~0.58).
  history.push_back(Measured(6, 0.65, {0.0, 1.0, 2.0}));
  history.push_back(Measured(7, 0.95, {1.04, 1.05, 1.06}));
  const std::vector<Config> pending;
  auto sampler = MakeSampler("gp", SamplerOptions{1, 30});
  ASSERT_TRUE(sampler.ok());
  auto next = (*sampler)->Ask(SamplerContext{spec.space, spec.objectives, history, pending}, 1);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0], history[6].config);

  // Measured twice already: no third measurement.
  history.push_back(Measured(8, 0.65, {1.5, 1.6, 1.7}));
  next = (*sampler)->Ask(SamplerContext{spec.space, spec.objectives, history, pending}, 1);
  ASSERT_TRUE(next.ok());
  EXPECT_NE((*next)[0], history[6].config);

  // A clear lead (runner-up far beyond two standard errors) is not re-measured.
  history.resize(7);
  history[6] = Measured(6, 0.65, {0.99, 1.0, 1.01});
  history.push_back(Measured(7, 0.95, {1.5, 1.5, 1.5}));
  next = (*sampler)->Ask(SamplerContext{spec.space, spec.objectives, history, pending}, 1);
  ASSERT_TRUE(next.ok());
  EXPECT_NE((*next)[0], history[6].config);
}

TEST(BayesSamplerTest, BestJudgesARemeasuredConfigurationByItsMean) {
  const Spec spec = MakeSpec({{"parameters", {{{"name", "x"}, {"type", "real"}, {"low", 0.0},
                                               {"high", 1.0}}}}});
  auto storage = MakeMemoryStorage();
  auto study = Study::Open(*storage, "s", spec, {}, nullptr);
  ASSERT_TRUE(study.ok());
  auto record = [&](double x, double value) {
    auto trial = (*study)->Start({Value(x)}, "w");
    ASSERT_TRUE(trial.ok());
    TrialOutcome outcome;
    outcome.values = {value};
    ASSERT_TRUE((*study)->Finish(*trial, outcome).ok());
  };
  record(0.2, 1.0);  // lucky first measurement of x = 0.2 ...
  record(0.5, 1.2);
  record(0.2, 1.6);  // ... which re-measured averages 1.3, behind x = 0.5
  auto best = (*study)->Best();
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->config, Config{Value(0.5)});
  record(0.2, 0.8);  // three measurements of 0.2 now average 1.133..., ahead of 1.2
  best = (*study)->Best();
  EXPECT_EQ(best->config, Config{Value(0.2)});
  EXPECT_NEAR(best->values[0], (1.0 + 1.6 + 0.8) / 3, 1e-12);
  EXPECT_EQ(best->attrs["measurements"], 3);
}

}  // namespace
}  // namespace sysopt

namespace sysopt {
namespace {

TEST(BayesSamplerTest, LowerConfidenceBoundAlsoFindsTheMinimum) {
  const Spec spec = MakeSpec(kTwoReals);
  auto bowl = [](const Config& c) -> Expected<std::vector<double>> {
    const double dx = X(c, 0) - 0.3, dy = X(c, 1) - 0.8;
    return std::vector<double>{dx * dx + dy * dy};
  };
  TunedStudy run;
  auto study = Study::Open(*run.storage, "s", spec, {}, nullptr);
  ASSERT_TRUE(study.ok());
  run.study = std::move(*study);
  auto sampler = MakeSampler("gp", SamplerOptions{3, 25, "lcb"});
  ASSERT_TRUE(sampler.ok());
  auto runner = MakeFunctionRunner(bowl);
  TuneOptions options;
  options.budget = 25;
  ASSERT_TRUE(Tune(*run.study, **sampler, *runner, options, {}).ok());
  EXPECT_LT(run.study->Best()->values[0], 1e-2);
  auto bad = MakeSampler("gp", SamplerOptions{3, 25, "ucb"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("ucb"), std::string::npos);
}

}  // namespace
}  // namespace sysopt
