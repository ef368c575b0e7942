// Conditional parameters: parsing of "active_if", activity, feasible sets, counts, sampling,
// neighbourhoods, encoding and the JSON forms of configurations.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "sysopt/space/spec.h"

namespace sysopt {
namespace {

using nlohmann::json;

// The spec `j` describes; a spec that does not parse ends the test (gtest reports the throw).
Spec MustParse(const json& j) {
  auto spec = ParseSpec(j, "cond.json");
  if (!spec.ok()) throw std::runtime_error(spec.error().message());
  return std::move(*spec);
}

std::string ErrorOf(const json& j) {
  auto spec = ParseSpec(j, "cond.json");
  EXPECT_FALSE(spec.ok()) << j.dump();
  if (spec.ok()) return "";
  EXPECT_EQ(spec.error().kind(), ErrorKind::kInvalidInput);
  return spec.error().message();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string Key(const Config& c) {
  std::string s;
  for (const auto& v : c) s += (IsInactive(v) ? "-" : ValueToString(v)) + ";";
  return s;
}

// A solver with a restart length only GMRES uses, a preconditioner for the iterative solvers and
// a level count only the Jacobi preconditioner uses, plus a free tolerance. By hand: cg has
// none (1) + jacobi (4) = 5 settings, gmres 10 restarts * 5 = 50, direct 1: 56, times 3 = 168.
json SolverSpec() {
  return json::parse(R"({
    "parameters": [
      {"name": "solver", "type": "categorical", "values": ["cg", "gmres", "direct"]},
      {"name": "restart", "type": "integer", "low": 1, "high": 10,
       "active_if": "solver == 'gmres'"},
      {"name": "precond", "type": "categorical", "values": ["none", "jacobi"],
       "active_if": "solver in ['cg', 'gmres']"},
      {"name": "levels", "type": "integer", "low": 1, "high": 4, "active_if": "precond == 'jacobi'"},
      {"name": "tol", "type": "ordinal", "values": [1, 2, 3]}
    ]})");
}

constexpr int kSolver = 0, kRestart = 1, kPrecond = 2, kLevels = 3, kTol = 4;

Config SolverConfig(const std::string& solver, std::optional<int64_t> restart,
                    std::optional<std::string> precond, std::optional<int64_t> levels,
                    int64_t tol) {
  auto opt = [](auto v) { return v ? Value(*v) : Value(Inactive{}); };
  return {Value(solver), opt(restart), opt(precond), opt(levels), Value(tol)};
}

TEST(ConditionalSpecTest, ActiveIfIsParsedShownAndRoundTrips) {
  const Spec spec = MustParse(SolverSpec());
  const Space& space = spec.space;
  EXPECT_TRUE(space.IsConditional());
  EXPECT_FALSE(space.parameters()[kSolver].IsConditional());
  EXPECT_EQ(space.parameters()[kRestart].active_if, "solver == 'gmres'");
  ASSERT_NE(space.Condition(kRestart), nullptr);
  EXPECT_EQ(space.Condition(kSolver), nullptr);
  const json j = space.ToJson();
  EXPECT_EQ(j["parameters"][1]["active_if"], "solver == 'gmres'");
  EXPECT_FALSE(j["parameters"][0].contains("active_if"));
  auto again = Space::FromJson(j);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->ToJson(), j);
  EXPECT_EQ(again->CountFeasible().value, space.CountFeasible().value);
}

TEST(ConditionalSpecTest, SpaceWithoutConditionsWritesNoActiveIf) {
  // Stored studies compare the space's JSON; one without conditions must read as before.
  const Spec spec = MustParse(json::parse(R"({"parameters": [
      {"name": "a", "type": "integer", "low": 1, "high": 3}]})"));
  EXPECT_EQ(spec.space.ToJson().dump(),
            R"({"constraints":[],"parameters":[{"high":3,"low":1,"name":"a","type":"integer"}]})");
  EXPECT_FALSE(spec.space.IsConditional());
}

TEST(ConditionalSpecTest, UnknownParameterNamesFileFieldAndValue) {
  json j = SolverSpec();
  j["parameters"][1]["active_if"] = "solvr == 'gmres'";
  const std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "cond.json")) << e;
  EXPECT_TRUE(Contains(e, "parameters[1] (\"restart\")")) << e;
  EXPECT_TRUE(Contains(e, "field \"active_if\"")) << e;
  EXPECT_TRUE(Contains(e, "solvr == 'gmres'")) << e;
  EXPECT_TRUE(Contains(e, "unknown parameter 'solvr'")) << e;
}

TEST(ConditionalSpecTest, CycleIsRefusedNamingItsMembers) {
  const std::string e = ErrorOf(json::parse(R"({"parameters": [
      {"name": "a", "type": "integer", "low": 0, "high": 3, "active_if": "b > 1"},
      {"name": "b", "type": "integer", "low": 0, "high": 3, "active_if": "c > 1"},
      {"name": "c", "type": "integer", "low": 0, "high": 3, "active_if": "a > 1"}]})"));
  EXPECT_TRUE(Contains(e, "cond.json")) << e;
  EXPECT_TRUE(Contains(e, "field \"active_if\"")) << e;
  EXPECT_TRUE(Contains(e, "cycle")) << e;
  EXPECT_TRUE(Contains(e, "a -> b -> c -> a")) << e;
  const std::string self = ErrorOf(json::parse(R"({"parameters": [
      {"name": "a", "type": "integer", "low": 0, "high": 3, "active_if": "a > 1"}]})"));
  EXPECT_TRUE(Contains(self, "parameters[0] (\"a\")")) << self;
  EXPECT_TRUE(Contains(self, "a -> a")) << self;
}

TEST(ConditionalSpecTest, OtherBadConditionsAreRefusedNamingTheField) {
  json syntax = SolverSpec();
  syntax["parameters"][1]["active_if"] = "solver == ";
  std::string e = ErrorOf(syntax);
  EXPECT_TRUE(Contains(e, "parameters[1] (\"restart\"): field \"active_if\": \"solver == \"")) << e;
  EXPECT_TRUE(Contains(e, "column")) << e;

  for (const json& bad : {json(""), json("   "), json(3), json::array({"a"})}) {
    json j = SolverSpec();
    j["parameters"][1]["active_if"] = bad;
    e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "parameters[1] (\"restart\")")) << e;
    EXPECT_TRUE(Contains(e, "field \"active_if\"")) << e;
    EXPECT_TRUE(Contains(e, bad.dump())) << e;
  }

  e = ErrorOf(json::parse(R"({"parameters": [
      {"name": "p", "type": "permutation", "size": 3},
      {"name": "a", "type": "integer", "low": 0, "high": 3, "active_if": "p == 1"}]})"));
  EXPECT_TRUE(Contains(e, "parameter 'p' is a permutation")) << e;
}

TEST(ConditionalSpecTest, ConditionsMayReadParametersDeclaredLater) {
  // Declaration order does not matter, only the absence of cycles.
  const Spec spec = MustParse(json::parse(R"({"parameters": [
      {"name": "tile_y", "type": "integer", "low": 1, "high": 4, "active_if": "use_2d == 1"},
      {"name": "use_2d", "type": "categorical", "values": [false, true]}]})"));
  EXPECT_EQ(spec.space.CountFeasible().value, 1 + 4);
  Rng rng(3);
  for (int i = 0; i < 50; ++i) {
    auto c = spec.space.Sample(rng);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(IsInactive((*c)[0]), AsDouble((*c)[1]) == 0) << Key(*c);
  }
}

TEST(ConditionalSpaceTest, ActivityFollowsNestedConditions) {
  const Space space = MustParse(SolverSpec()).space;
  const Config gmres = SolverConfig("gmres", 4, "jacobi", 2, 1);
  EXPECT_TRUE(space.IsActive(gmres, kRestart));
  EXPECT_TRUE(space.IsActive(gmres, kLevels));
  const Config direct = SolverConfig("direct", std::nullopt, std::nullopt, std::nullopt, 1);
  EXPECT_FALSE(space.IsActive(direct, kPrecond));
  // levels reads precond, which is inactive: levels is inactive too.
  EXPECT_FALSE(space.IsActive(direct, kLevels));
  EXPECT_TRUE(space.Check(gmres).ok());
  EXPECT_TRUE(space.Check(direct).ok());
  EXPECT_TRUE(space.IsFeasible(direct));
}

TEST(ConditionalSpaceTest, CheckRefusesValuesOfInactiveAndGapsInActiveParameters) {
  const Space space = MustParse(SolverSpec()).space;
  const Config stray = SolverConfig("cg", 5, "none", std::nullopt, 1);
  EXPECT_FALSE(space.IsFeasible(stray));
  auto e = space.Check(stray);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(Contains(e.error().message(), "parameter 'restart' is inactive"))
      << e.error().message();
  EXPECT_TRUE(Contains(e.error().message(), "the value 5")) << e.error().message();

  const Config gap = SolverConfig("gmres", std::nullopt, "none", std::nullopt, 1);
  EXPECT_FALSE(space.IsFeasible(gap));
  e = space.Check(gap);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(Contains(e.error().message(), "parameter 'restart' is active"))
      << e.error().message();

  Config no_tol = SolverConfig("direct", std::nullopt, std::nullopt, std::nullopt, 1);
  no_tol[kTol] = Inactive{};
  EXPECT_FALSE(space.IsFeasible(no_tol));
  e = space.Check(no_tol);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(Contains(e.error().message(), "parameter 'tol' has no value")) << e.error().message();
}

TEST(ConditionalSpaceTest, CountAndEnumerationCoverEachActiveAssignmentOnce) {
  const Space space = MustParse(SolverSpec()).space;
  const FeasibleCount count = space.CountFeasible();
  ASSERT_TRUE(count.finite && count.exact);
  EXPECT_EQ(static_cast<int>(count.value), 168);
  std::set<std::string> seen;
  for (uint64_t r = 0; r < 168; ++r) {
    const Config c = space.FeasibleAt(r);
    EXPECT_TRUE(space.Check(c).ok()) << Key(c) << ": " << space.Check(c).error().message();
    seen.insert(Key(c));
  }
  EXPECT_EQ(seen.size(), 168u);
  // Independently: every assignment of the active parameters, by hand.
  std::set<std::string> expected;
  for (int64_t tol : {1, 2, 3}) {
    expected.insert(Key(SolverConfig("direct", std::nullopt, std::nullopt, std::nullopt, tol)));
    for (const std::string solver : {"cg", "gmres"}) {
      std::vector<std::optional<int64_t>> restarts = {std::nullopt};
      if (solver == "gmres") {
        restarts.clear();
        for (int64_t r = 1; r <= 10; ++r) restarts.push_back(r);
      }
      for (auto restart : restarts) {
        expected.insert(Key(SolverConfig(solver, restart, "none", std::nullopt, tol)));
        for (int64_t levels = 1; levels <= 4; ++levels) {
          expected.insert(Key(SolverConfig(solver, restart, "jacobi", levels, tol)));
        }
      }
    }
  }
  EXPECT_EQ(seen, expected);
}

TEST(ConditionalSpaceTest, ConstraintsOnAnInactiveParameterDoNotApply) {
  json j = SolverSpec();
  j["constraints"] = {"restart <= 5", "levels * tol <= 4"};
  const Space space = MustParse(j).space;
  // cg: none (3 tols) + jacobi levels*tol <= 4 (4 + 2 + 1) = 10; gmres: 5 restarts * 10 = 50;
  // direct: 3. The constraints never remove a configuration in which they read an inactive
  // parameter.
  EXPECT_EQ(static_cast<int>(space.CountFeasible().value), 10 + 50 + 3);
  EXPECT_TRUE(space.IsFeasible(SolverConfig("cg", std::nullopt, "none", std::nullopt, 3)));
  EXPECT_TRUE(
      space.Check(SolverConfig("direct", std::nullopt, std::nullopt, std::nullopt, 3)).ok());
  EXPECT_FALSE(space.IsFeasible(SolverConfig("gmres", 6, "none", std::nullopt, 1)));
  EXPECT_FALSE(space.IsFeasible(SolverConfig("cg", std::nullopt, "jacobi", 3, 2)));
  Rng rng(11);
  for (int i = 0; i < 300; ++i) {
    auto c = space.Sample(rng);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(space.Check(*c).ok()) << Key(*c);
  }
}

TEST(ConditionalSpaceTest, SamplingNeverEmitsInactiveValuesAndDrawsEachBranchEvenly) {
  const Space space = MustParse(SolverSpec()).space;
  Rng rng(5);
  std::map<std::string, int> solvers;
  std::set<std::string> distinct;
  const int n = 6000;
  for (int i = 0; i < n; ++i) {
    auto c = space.Sample(rng);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(space.Check(*c).ok()) << Key(*c);
    for (size_t k = 0; k < space.size(); ++k) {
      ASSERT_EQ(space.IsActive(*c, k), !IsInactive((*c)[k])) << Key(*c);
    }
    ++solvers[ValueToString((*c)[kSolver])];
    distinct.insert(Key(*c));
  }
  // Uniform over the 168 assignments would give direct 3/168 of the draws; each active parameter
  // drawn uniformly gives every solver a third (standard deviation about 37 here).
  for (const auto& [solver, k] : solvers) {
    EXPECT_NEAR(k, n / 3, 200) << solver;
  }
  EXPECT_EQ(distinct.size(), 168u);
}

TEST(ConditionalSpaceTest, ContinuousBranchesAreSampledParentsFirst) {
  const Space space = MustParse(json::parse(R"({"parameters": [
      {"name": "method", "type": "categorical", "values": ["a", "b"]},
      {"name": "rate", "type": "real", "low": 0.0, "high": 1.0, "active_if": "method == 'a'"},
      {"name": "depth", "type": "integer", "low": 1, "high": 50, "active_if": "method == 'b'"}],
    "constraints": ["rate < 0.5"]})"))
                          .space;
  EXPECT_FALSE(space.CountFeasible().finite);
  Rng rng(8);
  int a = 0;
  for (int i = 0; i < 2000; ++i) {
    auto c = space.Sample(rng);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(space.Check(*c).ok()) << Key(*c);
    if (ValueToString((*c)[0]) == "a") {
      ++a;
      EXPECT_LT(AsDouble((*c)[1]), 0.5);
    }
  }
  // method b is never rejected, method a half the time: a third of the draws are a.
  EXPECT_NEAR(a, 2000 / 3, 90);
}

TEST(ConditionalSpaceTest, LargeDiscreteBranchesAreEstimated) {
  // Too large to enumerate: the count is estimated from random draws weighted by their
  // probability. Exactly 1 + 30e6^2 assignments.
  const Space space = MustParse(json::parse(R"({"parameters": [
      {"name": "m", "type": "categorical", "values": ["off", "on"]},
      {"name": "x", "type": "integer", "low": 1, "high": 30000000, "active_if": "m == 'on'"},
      {"name": "y", "type": "integer", "low": 1, "high": 30000000, "active_if": "m == 'on'"}]})"))
                          .space;
  const FeasibleCount count = space.CountFeasible();
  EXPECT_TRUE(count.finite);
  EXPECT_FALSE(count.exact);
  EXPECT_NEAR(static_cast<double>(count.value) / 9e14, 1.0, 0.1) << count.ToString();
  Rng rng(2);
  for (int i = 0; i < 100; ++i) {
    auto c = space.Sample(rng);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(space.Check(*c).ok()) << Key(*c);
  }
}

TEST(ConditionalSpaceTest, CompleteKeepsTheFixedValuesThatApply) {
  const Space space = MustParse(SolverSpec()).space;
  Rng rng(4);
  // A design point fixes every parameter; the ones its own choices leave inactive are dropped.
  Config partial = {Value("cg"), Value(int64_t{7}), Value("jacobi"), Value(int64_t{3}),
                    Value(int64_t{2})};
  auto c = space.Complete(partial, std::vector<bool>(5, true), rng);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Key(*c), Key(SolverConfig("cg", std::nullopt, "jacobi", 3, 2)));
  // Fixing only the solver: the rest is completed consistently.
  std::vector<bool> only_solver = {true, false, false, false, false};
  for (int i = 0; i < 50; ++i) {
    auto d = space.Complete({Value("gmres")}, only_solver, rng);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(ValueToString((*d)[kSolver]), "gmres");
    EXPECT_TRUE(space.Check(*d).ok()) << Key(*d);
  }
}

TEST(ConditionalSpaceTest, NeighboursSwitchBranchesOnAndOffConsistently) {
  const Space space = MustParse(SolverSpec()).space;
  Rng rng(9);
  const Config cg = SolverConfig("cg", std::nullopt, "jacobi", 2, 1);
  bool reached_gmres = false, reached_direct = false;
  for (const Config& n : space.Neighbors(cg, rng)) {
    EXPECT_TRUE(space.Check(n).ok()) << Key(n);
    const std::string solver = ValueToString(n[kSolver]);
    if (solver == "gmres") {
      reached_gmres = true;
      EXPECT_FALSE(IsInactive(n[kRestart]));
      // The branch that stays on keeps its values.
      EXPECT_EQ(ValueToString(n[kPrecond]), "jacobi");
      EXPECT_EQ(AsDouble(n[kLevels]), 2);
    }
    if (solver == "direct") {
      reached_direct = true;
      EXPECT_TRUE(IsInactive(n[kPrecond]));
      EXPECT_TRUE(IsInactive(n[kLevels]));
    }
  }
  EXPECT_TRUE(reached_gmres);
  EXPECT_TRUE(reached_direct);
}

TEST(ConditionalSpaceTest, ApplyConditionsAndDefault) {
  const Space space = MustParse(SolverSpec()).space;
  Rng rng(1);
  Config c = SolverConfig("direct", 3, "jacobi", 2, 1);
  space.ApplyConditions(c, rng);
  EXPECT_EQ(Key(c), Key(SolverConfig("direct", std::nullopt, std::nullopt, std::nullopt, 1)));
  c[kSolver] = Value("gmres");
  space.ApplyConditions(c, rng);
  EXPECT_TRUE(space.Check(c).ok()) << Key(c);
  EXPECT_FALSE(IsInactive(c[kRestart]));
  // Defaults: first choices, so cg with no preconditioner.
  EXPECT_EQ(Key(space.Default()), Key(SolverConfig("cg", std::nullopt, "none", std::nullopt, 1)));
}

TEST(ConditionalSpaceTest, EncodingMarksInactiveParametersWithAFixedValueAndAnIndicator) {
  const Space space = MustParse(SolverSpec()).space;
  const FeatureLayout& layout = space.layout();
  // One group per parameter plus an indicator for each of the three conditional ones.
  ASSERT_EQ(layout.groups.size(), 8u);
  EXPECT_EQ(layout.width, 8);
  EXPECT_EQ(layout.groups[1].name, "restart");
  EXPECT_EQ(layout.groups[2].name, "restart (active)");
  EXPECT_EQ(layout.groups[2].n_levels, 2);
  // The conditional categorical has an extra, inactive, choice.
  EXPECT_EQ(layout.groups[3].name, "precond");
  EXPECT_EQ(layout.groups[3].n_choices, 3);
  EXPECT_EQ(layout.groups[0].n_choices, 3);
  std::vector<double> row(8);
  space.Encode(SolverConfig("gmres", 10, "jacobi", 1, 3), row.data());
  EXPECT_EQ(row, (std::vector<double>{1, 1, 1, 1, 1, 0, 1, 1}));
  space.Encode(SolverConfig("direct", std::nullopt, std::nullopt, std::nullopt, 1), row.data());
  EXPECT_EQ(row, (std::vector<double>{2, kInactiveNumeric, 0, 2, 0, kInactiveNumeric, 0, 0}));
}

TEST(ConditionalSpaceTest, ConfigurationsReadAndWriteInactiveAsNull) {
  const Space space = MustParse(SolverSpec()).space;
  const Config c = SolverConfig("cg", std::nullopt, "jacobi", 4, 2);
  const json j = space.ConfigToJson(c);
  EXPECT_TRUE(j["restart"].is_null());
  EXPECT_EQ(j["levels"], 4);
  auto back = space.ConfigFromJson(j);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, c);
  // Leaving an inactive parameter out means the same.
  json shorter = j;
  shorter.erase("restart");
  back = space.ConfigFromJson(shorter);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, c);
  // An active parameter may not be left out or null.
  json missing = j;
  missing["levels"] = nullptr;
  back = space.ConfigFromJson(missing);
  ASSERT_FALSE(back.ok());
  EXPECT_TRUE(Contains(back.error().message(), "'levels' is active")) << back.error().message();
  json stray = j;
  stray["restart"] = 3;
  EXPECT_FALSE(space.ConfigFromJson(stray).ok());
  // An unconditional parameter must be given.
  json no_tol = j;
  no_tol.erase("tol");
  EXPECT_FALSE(space.ConfigFromJson(no_tol).ok());
}

TEST(ConditionalSpaceTest, PriorsCountOnlyActiveParameters) {
  json j = SolverSpec();
  j["parameters"][1]["prior"] = {{"mean", 8}, {"width", 0.1}};
  const Space space = MustParse(j).space;
  EXPECT_EQ(space.LogPrior(SolverConfig("cg", std::nullopt, "none", std::nullopt, 1)), 0.0);
  EXPECT_LT(space.LogPrior(SolverConfig("gmres", 1, "none", std::nullopt, 1)), -1.0);
  Rng rng(6);
  for (int i = 0; i < 100; ++i) {
    auto c = space.SampleFromPrior(rng);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(space.Check(*c).ok()) << Key(*c);
  }
}

// Interval narrowing with conditional parameters: a constraint only narrows or prunes where every
// parameter it reads is known to be active, since one reading an inactive parameter holds.
TEST(ConditionalSpaceTest, HugeConditionalRangesAreNarrowedNotEnumerated) {
  // Both branches' parameters over 0..19,999,999 with x + y < 10: off (1) + on (55 by hand).
  const Space space = MustParse(json::parse(R"({"parameters": [
      {"name": "m", "type": "categorical", "values": ["off", "on"]},
      {"name": "x", "type": "integer", "low": 0, "high": 19999999, "active_if": "m == 'on'"},
      {"name": "y", "type": "integer", "low": 0, "high": 19999999, "active_if": "m == 'on'"}],
    "constraints": ["x + y < 10"]})"))
                          .space;
  const FeasibleCount count = space.CountFeasible();
  ASSERT_TRUE(count.finite && count.exact) << count.ToString();
  EXPECT_EQ(count.ToString(), "56");
  std::set<std::string> all;
  for (uint64_t r = 0; r < 56; ++r) {
    const Config c = space.FeasibleAt(r);
    ASSERT_TRUE(space.Check(c).ok()) << Key(c);
    all.insert(Key(c));
  }
  EXPECT_EQ(all.size(), 56u);
  EXPECT_TRUE(all.count("off;-;-;"));
  // With the branch fixed on, completions are uniform over its 55 solutions.
  Rng rng(3);
  std::map<std::string, int> seen;
  for (int t = 0; t < 5500; ++t) {
    auto c = space.Complete({Value("on"), Value(int64_t{0}), Value(int64_t{0})},
                            {true, false, false}, rng);
    ASSERT_TRUE(c.ok()) << c.error().message();
    ASSERT_LT(std::get<int64_t>((*c)[1]) + std::get<int64_t>((*c)[2]), 10) << Key(*c);
    ++seen[Key(*c)];
  }
  ASSERT_EQ(seen.size(), 55u);
  for (const auto& [key, k] : seen) EXPECT_NEAR(k, 100, 45) << key;
  // Beyond what could be visited value by value: x and y share their condition, so each is
  // known active where the other is, and both are narrowed to 0..9 before the search.
  const Space wider = MustParse(json::parse(R"({"parameters": [
      {"name": "m", "type": "categorical", "values": ["off", "on"]},
      {"name": "x", "type": "integer", "low": 0, "high": 1000000000000, "active_if": "m == 'on'"},
      {"name": "y", "type": "integer", "low": 0, "high": 1000000000000, "active_if": "m == 'on'"}],
    "constraints": ["x + y < 10"]})"))
                          .space;
  EXPECT_EQ(wider.CountFeasible().ToString(), "56");
  // Drawn as the space defines it (each active parameter uniform, then the constraint): `on`
  // survives with probability 55 / 4e14, so every draw is `off`.
  for (int t = 0; t < 50; ++t) {
    auto c = space.Sample(rng);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(Key(*c), "off;-;-;");
  }
}

TEST(ConditionalSpaceTest, AConstraintThatMayReadAnInactiveParameterDoesNotNarrow) {
  // x + y < 10 narrows x (y is always active) but not y: where x is inactive, y is free. By
  // hand: a: x in 0..9, y in 0..9-x: 55; b: 100 values of y. Narrowing y to 0..9 would give 65.
  const Space space = MustParse(json::parse(R"({"parameters": [
      {"name": "m", "type": "categorical", "values": ["a", "b"]},
      {"name": "x", "type": "integer", "low": 0, "high": 19999999, "active_if": "m == 'a'"},
      {"name": "y", "type": "integer", "low": 0, "high": 99}],
    "constraints": ["x + y < 10"]})"))
                          .space;
  EXPECT_EQ(space.CountFeasible().ToString(), "155");
  // The same with y declared first, so that it is searched before x.
  const Space swapped = MustParse(json::parse(R"({"parameters": [
      {"name": "y", "type": "integer", "low": 0, "high": 99},
      {"name": "x", "type": "integer", "low": 0, "high": 19999999, "active_if": "m == 'a'"},
      {"name": "m", "type": "categorical", "values": ["a", "b"]}],
    "constraints": ["x + y < 10"]})"))
                            .space;
  EXPECT_EQ(swapped.CountFeasible().ToString(), "155");
  Rng rng(9);
  int a = 0;
  for (int t = 0; t < 3000; ++t) {
    auto c = space.Sample(rng);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(space.Check(*c).ok()) << Key(*c);
    if (ValueToString((*c)[0]) == "a") ++a;
  }
  // a survives the constraint with probability 55 / (2e7 * 100): never drawn.
  EXPECT_EQ(a, 0);
}

TEST(ConditionalSpaceTest, ConditionsOnANarrowedParameterAndBranchesNarrowedAway) {
  // n < 4 leaves n in 0..3 of 0..19,999,999; z (1..3) is active when n >= 2: 2 + 2 * 3 = 8.
  const Space space = MustParse(json::parse(R"({"parameters": [
      {"name": "n", "type": "integer", "low": 0, "high": 19999999},
      {"name": "z", "type": "integer", "low": 1, "high": 3, "active_if": "n >= 2"}],
    "constraints": ["n < 4"]})"))
                          .space;
  const FeasibleCount count = space.CountFeasible();
  EXPECT_TRUE(count.exact);
  EXPECT_EQ(count.ToString(), "8");
  Rng rng(2);
  std::map<std::string, int> seen;
  for (int t = 0; t < 4000; ++t) {
    auto c = space.Sample(rng);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(space.Check(*c).ok()) << Key(*c);
    ++seen[Key(*c)];
  }
  // Each active parameter uniform: n = 0, 1, 2, 3 a quarter each, z a third of n's share.
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_NEAR(seen["0;-;"], 1000, 120);
  EXPECT_NEAR(seen["3;2;"], 333, 80);
  // A branch whose parameter no value can satisfy is left with its inactive rows only; the same
  // parameter unconditional makes the space empty.
  const Space away = MustParse(json::parse(R"({"parameters": [
      {"name": "m", "type": "categorical", "values": ["off", "on"]},
      {"name": "x", "type": "integer", "low": 0, "high": 19999999, "active_if": "m == 'on'"}],
    "constraints": ["x > 30000000"]})"))
                         .space;
  EXPECT_EQ(away.CountFeasible().ToString(), "1");
  for (int t = 0; t < 20; ++t) {
    auto c = away.Sample(rng);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(Key(*c), "off;-;");
  }
  const Space none = MustParse(json::parse(R"({"parameters": [
      {"name": "m", "type": "categorical", "values": ["off", "on"]},
      {"name": "x", "type": "integer", "low": 0, "high": 19999999}],
    "constraints": ["x > 30000000 or m == 'never'"]})"))
                         .space;
  EXPECT_EQ(none.CountFeasible().ToString(), "0");
  EXPECT_FALSE(none.Sample(rng).ok());
}

TEST(ConditionalSpaceTest, NarrowingKeepsTheSolverCountsAndNestedConditions) {
  // The solver space with a wide restart range and a constraint that cuts it back to 1..5:
  // cg 5 * 3 + gmres 5 * 5 * 3 + direct 3 = 93 (5 = none + 4 levels; restarts 1..5).
  json j = SolverSpec();
  j["parameters"][1]["high"] = 19999999;
  j["constraints"] = {"restart <= 5"};
  const Space space = MustParse(j).space;
  const FeasibleCount count = space.CountFeasible();
  EXPECT_TRUE(count.exact);
  EXPECT_EQ(count.ToString(), "93");
  std::set<std::string> seen;
  for (uint64_t r = 0; r < 93; ++r) {
    const Config c = space.FeasibleAt(r);
    ASSERT_TRUE(space.Check(c).ok()) << Key(c);
    seen.insert(Key(c));
  }
  EXPECT_EQ(seen.size(), 93u);
}

}  // namespace
}  // namespace sysopt
