#include "sysopt/sampler/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

namespace sysopt {
namespace {

using nlohmann::json;

std::string Key(const Config& c) {
  std::string s;
  for (const auto& v : c) s += ValueToString(v) + ";";
  return s;
}

Space MakeSpace(const json& parameters, const std::vector<std::string>& constraints) {
  std::vector<Parameter> params;
  for (size_t i = 0; i < parameters.size(); ++i) {
    auto p = ParseParameter(parameters[i], "parameters");
    EXPECT_TRUE(p.ok()) << p.error().message();
    params.push_back(*p);
  }
  auto space = Space::Create(params, constraints);
  EXPECT_TRUE(space.ok()) << space.error().message();
  return *space;
}

// A mixed discrete space: a * b <= 100 over 1..20 x 1..20 (a divisor-count sum: 482 pairs by
// hand), a categorical and a permutation of 3.
Space MixedSpace() {
  return MakeSpace(
      json::array({{{"name", "a"}, {"type", "integer"}, {"low", 1}, {"high", 20}},
                   {{"name", "b"}, {"type", "integer"}, {"low", 1}, {"high", 20}},
                   {{"name", "c"}, {"type", "categorical"}, {"values", {"x", "y", "z"}}},
                   {{"name", "p"}, {"type", "permutation"}, {"size", 3}}}),
      {"a * b <= 100"});
}

// A small discrete space: 6 * 5 * 5 = 150 configurations, of which the 15 pairs (x, y) with x + y
// even times the 5 values of z, 75, are feasible.
Space SmallSpace() {
  return MakeSpace(json::array({{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 5}},
                                {{"name", "y"}, {"type", "integer"}, {"low", 0}, {"high", 4}},
                                {{"name", "z"}, {"type", "ordinal"}, {"values", {1, 2, 4, 8, 16}}}}),
                   {"(x + y) % 2 == 0"});
}

std::set<std::string> SmallSpaceFeasible() {
  std::set<std::string> out;
  for (int x = 0; x <= 5; ++x) {
    for (int y = 0; y <= 4; ++y) {
      for (int z : {1, 2, 4, 8, 16}) {
        if ((x + y) % 2 == 0) out.insert(Key({Value(int64_t{x}), Value(int64_t{y}), Value(int64_t{z})}));
      }
    }
  }
  return out;
}

double Score(const Config& c) {
  double f = 0;
  for (const auto& v : c) {
    if (IsNumeric(v)) f += (AsDouble(v) - 6) * (AsDouble(v) - 6);
    if (const auto* s = std::get_if<std::string>(&v)) f += (*s == "y") ? 0 : 3;
    if (const auto* p = std::get_if<Permutation>(&v)) f += p->order[0];
  }
  return f;
}

// Every sampler for general spaces; greedy and mcts take only sequence spaces
// (sequence_sampler_test.cc).
std::vector<std::string> Names() {
  std::vector<std::string> out;
  for (const auto& [name, _] : SamplerDescriptions()) {
    if (name != "greedy" && name != "mcts") out.push_back(name);
  }
  return out;
}

std::unique_ptr<Sampler> Make(const std::string& name, uint64_t seed, int budget) {
  auto s = MakeSampler(name, SamplerOptions{seed, budget});
  EXPECT_TRUE(s.ok()) << name;
  EXPECT_EQ((*s)->name(), name);
  return std::move(*s);
}

// Plays a study: asks in batches, keeps one configuration pending for a round, finishes the rest
// (every fifth one failed), and checks every proposal on the way. Returns the proposals in order.
std::vector<Config> Drive(const std::string& name, uint64_t seed, const Space& space, int trials,
                          int batch) {
  auto sampler = Make(name, seed, trials);
  const std::vector<Objective> objectives = {Objective{"value", true}};
  std::vector<TrialRecord> history;
  std::vector<Config> pending;
  std::vector<Config> proposals;
  std::set<std::string> seen;
  auto finish = [&](const Config& c) {
    TrialRecord t;
    t.number = static_cast<int64_t>(history.size());
    t.config = c;
    if (history.size() % 5 == 4) {
      t.state = TrialState::kFailed;
      t.failure_reason = "crashed";
    } else {
      t.state = TrialState::kComplete;
      t.values = {Score(c)};
    }
    history.push_back(std::move(t));
  };
  while (static_cast<int>(proposals.size()) < trials) {
    auto asked = sampler->Ask(SamplerContext{space, objectives, history, pending}, batch);
    EXPECT_TRUE(asked.ok()) << name << ": " << asked.error().message();
    if (!asked.ok() || asked->empty()) break;
    EXPECT_LE(static_cast<int>(asked->size()), batch);
    for (const auto& pend : pending) finish(pend);
    pending.clear();
    for (size_t i = 0; i < asked->size(); ++i) {
      const Config& c = (*asked)[i];
      EXPECT_TRUE(space.Check(c).ok()) << name << ": " << Key(c);
      if (space.IsDiscrete()) {
        EXPECT_TRUE(seen.insert(Key(c)).second) << name << " repeats " << Key(c);
      }
      proposals.push_back(c);
      if (i + 1 == asked->size()) {
        pending.push_back(c);
      } else {
        finish(c);
      }
    }
  }
  return proposals;
}

std::vector<std::string> Keys(const std::vector<Config>& configs) {
  std::vector<std::string> out;
  for (const auto& c : configs) out.push_back(Key(c));
  return out;
}

TEST(SamplerTest, EveryDescribedNameIsMade) {
  const auto names = Names();
  const std::set<std::string> known(names.begin(), names.end());
  EXPECT_EQ(known.size(), names.size()) << "a name is described twice";
  for (const char* name : {"random", "lhs", "exhaustive", "evolution"}) {
    EXPECT_TRUE(known.count(name)) << name;
  }
  for (const auto& [name, description] : SamplerDescriptions()) EXPECT_FALSE(description.empty());
}

TEST(SamplerTest, UnknownNameListsTheKnownOnes) {
  auto s = MakeSampler("annealing", SamplerOptions{});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("annealing"), std::string::npos);
  for (const auto& name : Names()) {
    EXPECT_NE(s.error().message().find(name), std::string::npos) << s.error().message();
  }
}

TEST(SamplerTest, ProposalsAreFeasibleAndNeverRepeat) {
  const Space space = MixedSpace();
  for (const auto& name : Names()) {
    for (int batch : {1, 4}) {
      const auto proposals = Drive(name, 42, space, 40, batch);
      EXPECT_EQ(proposals.size(), 40u) << name << " batch " << batch;
    }
  }
}

TEST(SamplerTest, SameSeedSameProposalsDifferentSeedDifferent) {
  const Space space = MixedSpace();
  for (const auto& name : Names()) {
    const auto a = Keys(Drive(name, 7, space, 30, 3));
    const auto b = Keys(Drive(name, 7, space, 30, 3));
    const auto c = Keys(Drive(name, 8, space, 30, 3));
    EXPECT_EQ(a, b) << name;
    EXPECT_NE(a, c) << name;
  }
}

TEST(SamplerTest, ProposalsDependOnHistoryNotOnTheSamplerObject) {
  // A fresh sampler given the same history proposes what the one that built it would.
  const Space space = MixedSpace();
  const std::vector<Objective> objectives = {Objective{"value", true}};
  for (const auto& name : Names()) {
    auto first = Make(name, 3, 30);
    std::vector<TrialRecord> history;
    const std::vector<Config> pending;
    for (int k = 0; k < 20; ++k) {
      auto c = first->Ask(SamplerContext{space, objectives, history, pending}, 1);
      ASSERT_TRUE(c.ok() && c->size() == 1) << name;
      TrialRecord t;
      t.number = k;
      t.state = TrialState::kComplete;
      t.config = c->front();
      t.values = {Score(t.config)};
      history.push_back(t);
    }
    auto next = first->Ask(SamplerContext{space, objectives, history, pending}, 3);
    auto fresh = Make(name, 3, 30)->Ask(SamplerContext{space, objectives, history, pending}, 3);
    ASSERT_TRUE(next.ok() && fresh.ok()) << name;
    EXPECT_EQ(Keys(*next), Keys(*fresh)) << name;
  }
}

TEST(SamplerTest, EverySamplerCanExhaustASmallSpace) {
  // Asked one at a time until it has nothing left, each sampler proposes every feasible
  // configuration exactly once: an empty answer must mean that the space is used up.
  const Space space = SmallSpace();
  const auto feasible = SmallSpaceFeasible();
  ASSERT_EQ(static_cast<uint64_t>(space.CountFeasible().value), feasible.size());
  for (const auto& name : Names()) {
    const auto proposals = Drive(name, 11, space, 1000, 1);
    const auto keys = Keys(proposals);
    EXPECT_EQ(keys.size(), feasible.size()) << name;
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()), feasible) << name;
  }
}

TEST(SamplerTest, SampleDistinctFindsTheLastUnseenConfigurations) {
  // 400 configurations, 397 of them seen: a random draw hits an unseen one with probability
  // 3 / 400, so a few hundred draws alone would often miss them. Asking for 5 must give exactly
  // the 3 that are left, and then nothing.
  const Space space = MakeSpace(
      json::array({{{"name", "a"}, {"type", "integer"}, {"low", 0}, {"high", 19}},
                   {{"name", "b"}, {"type", "integer"}, {"low", 0}, {"high", 19}}}),
      {});
  const std::set<std::string> left = {"3;17;", "19;0;", "0;0;"};
  for (uint64_t seed = 0; seed < 10; ++seed) {
    std::unordered_set<size_t> seen;
    for (int a = 0; a < 20; ++a) {
      for (int b = 0; b < 20; ++b) {
        const Config c = {Value(int64_t{a}), Value(int64_t{b})};
        if (!left.count(Key(c))) seen.insert(HashConfig(c));
      }
    }
    Rng rng(seed);
    auto got = SampleDistinct(space, 5, rng, seen);
    ASSERT_TRUE(got.ok());
    const auto keys = Keys(*got);
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()), left) << seed;
    EXPECT_EQ(keys.size(), 3u);
    auto none = SampleDistinct(space, 2, rng, seen);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
  }
}

TEST(SamplerTest, FoundationSamplersExhaustALargerSpace) {
  // 20 x 20 = 400 configurations asked one at a time: the last ones are rarely hit by chance.
  const Space space = MakeSpace(
      json::array({{{"name", "a"}, {"type", "integer"}, {"low", 0}, {"high", 19}},
                   {{"name", "b"}, {"type", "integer"}, {"low", 0}, {"high", 19}}}),
      {});
  for (const char* name : {"random", "lhs", "evolution", "exhaustive"}) {
    const auto proposals = Drive(name, 13, space, 1000, 1);
    EXPECT_EQ(proposals.size(), 400u) << name;
  }
}

TEST(SamplerTest, ExhaustiveVisitsEveryConfigurationOnceThenStops) {
  const Space space = SmallSpace();
  const auto feasible = SmallSpaceFeasible();
  auto sampler = Make("exhaustive", 5, 10);
  const std::vector<Objective> objectives = {Objective{"value", true}};
  std::vector<TrialRecord> history;
  std::vector<Config> pending;
  std::set<std::string> seen;
  for (int round = 0; round < 100; ++round) {
    auto asked = sampler->Ask(SamplerContext{space, objectives, history, pending}, 7);
    ASSERT_TRUE(asked.ok());
    if (asked->empty()) break;
    for (const auto& p : pending) {
      TrialRecord t;
      t.number = static_cast<int64_t>(history.size());
      t.state = TrialState::kComplete;
      t.config = p;
      t.values = {1.0};
      history.push_back(t);
    }
    pending = *asked;
    for (const auto& c : *asked) EXPECT_TRUE(seen.insert(Key(c)).second) << Key(c);
  }
  EXPECT_EQ(seen, feasible);
  // Everything is finished or pending now: nothing more.
  auto again = sampler->Ask(SamplerContext{space, objectives, history, pending}, 5);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  // The order is scrambled: the first proposals are not simply the first ranks.
  auto fresh = Make("exhaustive", 5, 10);
  const std::vector<TrialRecord> none;
  auto first = fresh->Ask(SamplerContext{space, objectives, none, {}}, 5);
  ASSERT_TRUE(first.ok());
  std::vector<std::string> ranks;
  for (uint64_t r = 0; r < 5; ++r) ranks.push_back(Key(space.FeasibleAt(r)));
  EXPECT_NE(Keys(*first), ranks);
}

TEST(SamplerTest, ExhaustiveRefusesAContinuousSpace) {
  const Space space = MakeSpace(
      json::array({{{"name", "r"}, {"type", "real"}, {"low", 0}, {"high", 1}}}), {});
  auto sampler = Make("exhaustive", 1, 10);
  const std::vector<Objective> objectives = {Objective{"value", true}};
  const std::vector<TrialRecord> history;
  const std::vector<Config> pending;
  auto asked = sampler->Ask(SamplerContext{space, objectives, history, pending}, 1);
  ASSERT_FALSE(asked.ok());
  EXPECT_NE(asked.error().message().find("exhaustive"), std::string::npos);
}

TEST(SamplerTest, ContinuousConstrainedSpaceProposalsAreFeasible) {
  const Space space = MakeSpace(
      json::array({{{"name", "x"}, {"type", "real"}, {"low", 0}, {"high", 1}},
                   {{"name", "y"}, {"type", "real"}, {"low", 0.01}, {"high", 1}, {"log", true}},
                   {{"name", "k"}, {"type", "integer"}, {"low", 1}, {"high", 8}}}),
      {"x + y <= 0.5"});
  for (const auto& name : Names()) {
    if (name == "exhaustive") continue;
    const auto proposals = Drive(name, 9, space, 40, 2);
    EXPECT_EQ(proposals.size(), 40u) << name;
    for (const auto& c : proposals) {
      EXPECT_LE(std::get<double>(c[0]) + std::get<double>(c[1]), 0.5) << name;
    }
  }
}

TEST(SamplerTest, LatinHypercubeHitsEveryValueOfOneIntegerOnce) {
  const int n = 37;
  const Space space = MakeSpace(
      json::array({{{"name", "k"}, {"type", "integer"}, {"low", 100}, {"high", 100 + n - 1}}}),
      {});
  const std::vector<Objective> objectives = {Objective{"value", true}};
  for (uint64_t seed : {1u, 2u, 3u}) {
    // One at a time, with the history growing.
    auto sampler = Make("lhs", seed, n);
    std::vector<TrialRecord> history;
    const std::vector<Config> pending;
    std::set<int64_t> values;
    for (int k = 0; k < n; ++k) {
      auto c = sampler->Ask(SamplerContext{space, objectives, history, pending}, 1);
      ASSERT_TRUE(c.ok() && c->size() == 1);
      values.insert(std::get<int64_t>(c->front()[0]));
      TrialRecord t;
      t.number = k;
      t.state = TrialState::kComplete;
      t.config = c->front();
      t.values = {0.0};
      history.push_back(t);
    }
    EXPECT_EQ(values.size(), static_cast<size_t>(n)) << seed;
    EXPECT_EQ(*values.begin(), 100);
    EXPECT_EQ(*values.rbegin(), 100 + n - 1);
    // All at once.
    const std::vector<TrialRecord> none;
    auto all = Make("lhs", seed, n)->Ask(SamplerContext{space, objectives, none, pending}, n);
    ASSERT_TRUE(all.ok());
    std::set<int64_t> at_once;
    for (const auto& c : *all) at_once.insert(std::get<int64_t>(c[0]));
    EXPECT_EQ(at_once.size(), static_cast<size_t>(n));
  }
}

TEST(SamplerTest, LatinHypercubeStratifiesEachAxisOfAReal) {
  const int n = 20;
  const Space space = MakeSpace(
      json::array({{{"name", "x"}, {"type", "real"}, {"low", 0}, {"high", 10}},
                   {{"name", "y"}, {"type", "real"}, {"low", 1}, {"high", 1e4}, {"log", true}}}),
      {});
  const std::vector<Objective> objectives = {Objective{"value", true}};
  const std::vector<TrialRecord> none;
  const std::vector<Config> pending;
  auto all = Make("lhs", 4, n)->Ask(SamplerContext{space, objectives, none, pending}, n);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<size_t>(n));
  std::set<int> x_strata, y_strata;
  for (const auto& c : *all) {
    x_strata.insert(static_cast<int>(std::get<double>(c[0]) / 10.0 * n));
    y_strata.insert(static_cast<int>(std::log10(std::get<double>(c[1])) / 4.0 * n));
  }
  EXPECT_EQ(x_strata.size(), static_cast<size_t>(n));
  EXPECT_EQ(y_strata.size(), static_cast<size_t>(n));
}

TEST(SamplerTest, EvolutionConcentratesNearTheBest) {
  // After its random start, evolution proposes children of the best trials: on a smooth
  // objective its later proposals are better on average than uniform random ones.
  const Space space = MakeSpace(
      json::array({{{"name", "a"}, {"type", "integer"}, {"low", 0}, {"high", 60}},
                   {{"name", "b"}, {"type", "integer"}, {"low", 0}, {"high", 60}}}),
      {});
  auto mean_of_last = [&](const std::string& name) {
    const auto proposals = Drive(name, 21, space, 120, 1);
    double sum = 0;
    for (size_t i = 60; i < proposals.size(); ++i) sum += Score(proposals[i]);
    return sum / static_cast<double>(proposals.size() - 60);
  };
  EXPECT_LT(mean_of_last("evolution"), 0.5 * mean_of_last("random"));
}

}  // namespace
}  // namespace sysopt
