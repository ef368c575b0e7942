// The sequence parameter type: parsing, values, ranking, sampling, neighbourhoods, encoding, and
// its place in a space.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "space/parse_util.h"
#include "sysopt/core/value.h"
#include "sysopt/space/expression.h"
#include "sysopt/space/parameter.h"
#include "sysopt/space/space.h"
#include "sysopt/space/spec.h"

namespace sysopt {
namespace {

using nlohmann::json;

using space_testing::Contains;
using space_testing::ErrorOf;
using space_testing::Make;

Value S(std::vector<int> items) { return Value(Sequence{std::move(items)}); }

const std::vector<int>& Items(const Value& v) { return std::get<Sequence>(v).items; }

json PassesSpec() {
  return {{"name", "passes"}, {"type", "sequence"}, {"alphabet", {"sroa", "gvn", "licm", "dce"}},
          {"max_length", 5},  {"min_length", 1},    {"default", {"sroa", "gvn"}}};
}

// abc: alphabet {a, b, c}, lengths 0..2.
Parameter Abc(int min_length = 0, int max_length = 2) {
  return Make({{"name", "s"},
               {"type", "sequence"},
               {"alphabet", {"a", "b", "c"}},
               {"max_length", max_length},
               {"min_length", min_length}});
}

// Independent of the implementation: true when y is x after exactly one insertion, deletion,
// replacement or swap of two positions.
enum class Edit { kNone, kInsert, kDelete, kReplace, kSwap };

bool DropsOne(const std::vector<int>& longer, const std::vector<int>& shorter) {
  if (longer.size() != shorter.size() + 1) return false;
  for (size_t skip = 0; skip < longer.size(); ++skip) {
    std::vector<int> rest = longer;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(skip));
    if (rest == shorter) return true;
  }
  return false;
}

Edit OneEditApart(const std::vector<int>& x, const std::vector<int>& y) {
  if (y.size() == x.size() + 1 && DropsOne(y, x)) return Edit::kInsert;
  if (x.size() == y.size() + 1 && DropsOne(x, y)) return Edit::kDelete;
  if (x.size() != y.size()) return Edit::kNone;
  std::vector<size_t> differ;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] != y[i]) differ.push_back(i);
  }
  if (differ.size() == 1) return Edit::kReplace;
  if (differ.size() == 2 && x[differ[0]] == y[differ[1]] && x[differ[1]] == y[differ[0]]) {
    return Edit::kSwap;
  }
  return Edit::kNone;
}

// Every sequence one edit away from x within the parameter's bounds, by brute force over all
// sequences of the neighbouring lengths.
std::set<std::vector<int>> AllSingleEdits(const Parameter& p, const std::vector<int>& x) {
  std::set<std::vector<int>> out;
  for (uint64_t k = 0; k < p.Cardinality(); ++k) {
    const Value v = p.ValueAt(k);
    if (OneEditApart(x, Items(v)) != Edit::kNone) out.insert(Items(v));
  }
  return out;
}

// ---------------------------------------------------------------- parsing and JSON

TEST(SequenceTest, ParsesASpecAndRoundTripsThroughToJson) {
  const Parameter p = Make(PassesSpec());
  EXPECT_EQ(p.kind, ParamKind::kSequence);
  EXPECT_EQ(ParamKindName(p.kind), "sequence");
  EXPECT_EQ(p.values, (std::vector<Value>{Value(std::string("sroa")), Value(std::string("gvn")),
                                          Value(std::string("licm")), Value(std::string("dce"))}));
  EXPECT_EQ(p.size, 5);
  EXPECT_EQ(p.min_length, 1);
  ASSERT_TRUE(p.default_value.has_value());
  EXPECT_EQ(*p.default_value, S({0, 1}));
  EXPECT_EQ(p.Default(), S({0, 1}));
  EXPECT_TRUE(p.IsDiscrete());
  EXPECT_FALSE(p.HasPrior());
  // The default is written as names, and the whole description reads back the same.
  EXPECT_EQ(p.ToJson(), PassesSpec());
  const Parameter q = Make(p.ToJson());
  EXPECT_EQ(q.ToJson(), p.ToJson());
  EXPECT_EQ(q.values, p.values);
  EXPECT_EQ(q.size, p.size);
  EXPECT_EQ(q.min_length, p.min_length);
  EXPECT_EQ(q.default_value, p.default_value);
  // min_length defaults to 0; the default may also be given in the {"sequence": [...]} form.
  const Parameter r = Make({{"name", "r"},
                            {"type", "sequence"},
                            {"alphabet", {"x", "y"}},
                            {"max_length", 3},
                            {"default", {{"sequence", {1, 1, 0}}}}});
  EXPECT_EQ(r.min_length, 0);
  EXPECT_EQ(r.Default(), S({1, 1, 0}));
  EXPECT_EQ(Make(r.ToJson()).ToJson(), r.ToJson());
  EXPECT_EQ(r.ToJson()["default"], json({"y", "y", "x"}));
}

TEST(SequenceTest, BadSpecsNameTheFieldAndValue) {
  const json base = {{"name", "passes"},
                     {"type", "sequence"},
                     {"alphabet", {"sroa", "gvn", "licm"}},
                     {"max_length", 4}};
  auto with = [&](const std::string& key, const json& value) {
    json j = base;
    j[key] = value;
    return j;
  };
  auto without = [&](const std::string& key) {
    json j = base;
    j.erase(key);
    return j;
  };
  std::string m = ErrorOf(without("alphabet"));
  EXPECT_TRUE(Contains(m, "\"alphabet\"")) << m;
  EXPECT_TRUE(Contains(m, "passes")) << m;

  m = ErrorOf(with("alphabet", json::array()));
  EXPECT_TRUE(Contains(m, "\"alphabet\"")) << m;

  m = ErrorOf(with("alphabet", "sroa"));
  EXPECT_TRUE(Contains(m, "\"alphabet\"")) << m;
  EXPECT_TRUE(Contains(m, "\"sroa\"")) << m;

  m = ErrorOf(with("alphabet", {"sroa", "gvn", "sroa"}));
  EXPECT_TRUE(Contains(m, "\"alphabet\"")) << m;
  EXPECT_TRUE(Contains(m, "\"sroa\" appears twice")) << m;

  m = ErrorOf(with("alphabet", {"sroa", 3}));
  EXPECT_TRUE(Contains(m, "\"alphabet\"")) << m;
  EXPECT_TRUE(Contains(m, "3")) << m;

  m = ErrorOf(with("alphabet", {"sroa", ""}));
  EXPECT_TRUE(Contains(m, "\"alphabet\"")) << m;

  m = ErrorOf(without("max_length"));
  EXPECT_TRUE(Contains(m, "\"max_length\"")) << m;

  m = ErrorOf(with("max_length", 0));
  EXPECT_TRUE(Contains(m, "\"max_length\"")) << m;
  EXPECT_TRUE(Contains(m, "got 0")) << m;

  m = ErrorOf(with("max_length", 2.5));
  EXPECT_TRUE(Contains(m, "\"max_length\"")) << m;
  EXPECT_TRUE(Contains(m, "2.5")) << m;

  m = ErrorOf(with("min_length", 5));
  EXPECT_TRUE(Contains(m, "\"min_length\"")) << m;
  EXPECT_TRUE(Contains(m, "got 5")) << m;

  m = ErrorOf(with("min_length", -1));
  EXPECT_TRUE(Contains(m, "\"min_length\"")) << m;
  EXPECT_TRUE(Contains(m, "-1")) << m;

  m = ErrorOf(with("default", {"sroa", "instcombine"}));
  EXPECT_TRUE(Contains(m, "\"default\"")) << m;
  EXPECT_TRUE(Contains(m, "\"instcombine\"")) << m;

  m = ErrorOf(with("default", {"sroa", "gvn", "licm", "gvn", "sroa"}));
  EXPECT_TRUE(Contains(m, "\"default\"")) << m;
  EXPECT_TRUE(Contains(m, "5 items")) << m;
  EXPECT_TRUE(Contains(m, "max_length 4")) << m;

  json short_default = with("min_length", 2);
  short_default["default"] = {"gvn"};
  m = ErrorOf(short_default);
  EXPECT_TRUE(Contains(m, "\"default\"")) << m;
  EXPECT_TRUE(Contains(m, "min_length 2")) << m;

  m = ErrorOf(with("default", {0, 1}));
  EXPECT_TRUE(Contains(m, "\"default\"")) << m;
  EXPECT_TRUE(Contains(m, "[0,1]")) << m;

  m = ErrorOf(with("default", {{"sequence", {0, 7}}}));
  EXPECT_TRUE(Contains(m, "\"default\"")) << m;
  EXPECT_TRUE(Contains(m, "7")) << m;

  m = ErrorOf(with("prior", {{"weights", {1, 2, 3}}}));
  EXPECT_TRUE(Contains(m, "\"prior\"")) << m;
  EXPECT_TRUE(Contains(m, "sequence parameters take no prior")) << m;

  m = ErrorOf(with("size", 4));
  EXPECT_TRUE(Contains(m, "\"size\"")) << m;

  m = ErrorOf(with("values", {"a"}));
  EXPECT_TRUE(Contains(m, "\"values\"")) << m;

  m = ErrorOf({{"name", "x"}, {"type", "list"}});
  EXPECT_TRUE(Contains(m, "sequence")) << m;
}

TEST(SequenceTest, ValuesRoundTripThroughJsonAndHashApart) {
  const Value v = S({3, 1, 4});
  EXPECT_EQ(ValueToString(v), "3,1,4");
  EXPECT_EQ(ValueToString(S({})), "");
  EXPECT_EQ(ValueToJson(v), json({{"sequence", {3, 1, 4}}}));
  for (const Value& x : {v, S({}), S({0}), S({2, 2, 2, 2})}) {
    auto back = ValueFromJson(ValueToJson(x));
    ASSERT_TRUE(back.ok()) << ValueToJson(x).dump();
    EXPECT_EQ(*back, x);
  }
  // A plain integer array stays a permutation.
  auto array = ValueFromJson(json::array({3, 1, 4}));
  ASSERT_TRUE(array.ok());
  EXPECT_TRUE(std::holds_alternative<Permutation>(*array));
  for (const json& bad :
       {json({{"sequence", {1, -1}}}), json({{"sequence", "ab"}}), json({{"sequence", {1.5}}}),
        json({{"order", {1}}}), json({{"sequence", {1}}, {"extra", 2}})}) {
    EXPECT_FALSE(ValueFromJson(bad).ok()) << bad.dump();
  }
  // Same items, different kinds or different splits across parameters: different hashes.
  EXPECT_NE(HashConfig({S({1, 0})}), HashConfig({Value(Permutation{{1, 0}})}));
  EXPECT_NE(HashConfig({S({1, 2}), S({3})}), HashConfig({S({1}), S({2, 3})}));
  EXPECT_NE(HashConfig({S({1, 2})}), HashConfig({S({2, 1})}));
  EXPECT_EQ(HashConfig({S({1, 2})}), HashConfig({S({1, 2})}));
}

// ---------------------------------------------------------------- domain and ranking

TEST(SequenceTest, CheckBoundsLengthAndItems) {
  const Parameter p = Make(PassesSpec());  // 4 names, lengths 1..5.
  EXPECT_TRUE(p.Check(S({0})).ok());
  EXPECT_TRUE(p.Check(S({3, 3, 3, 3, 3})).ok());
  for (const Value& bad : {S({}), S({0, 1, 2, 3, 0, 1}), S({4}), S({0, -1}),
                           Value(Permutation{{0}}), Value(int64_t{1}), Value(std::string("gvn"))}) {
    auto r = p.Check(bad);
    ASSERT_FALSE(r.ok()) << ValueToString(bad);
    EXPECT_TRUE(Contains(r.error().message(), "passes")) << r.error().message();
  }
  auto r = p.Check(S({0, 9}));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message(), "9")) << r.error().message();
}

TEST(SequenceTest, CardinalityAndRanksByLengthThenLexicographic) {
  // Lengths 0..2 over {a, b, c}: 1 + 3 + 9.
  const Parameter p = Abc();
  ASSERT_EQ(p.Cardinality(), 13u);
  EXPECT_EQ(p.ValueAt(0), S({}));
  EXPECT_EQ(p.ValueAt(1), S({0}));
  EXPECT_EQ(p.ValueAt(3), S({2}));
  EXPECT_EQ(p.ValueAt(4), S({0, 0}));
  EXPECT_EQ(p.ValueAt(5), S({0, 1}));
  EXPECT_EQ(p.ValueAt(7), S({1, 0}));
  EXPECT_EQ(p.ValueAt(12), S({2, 2}));
  std::set<std::vector<int>> all;
  for (uint64_t k = 0; k < 13; ++k) {
    const Value v = p.ValueAt(k);
    EXPECT_TRUE(p.Check(v).ok()) << k;
    EXPECT_EQ(p.IndexOf(v), k);
    all.insert(Items(v));
  }
  EXPECT_EQ(all.size(), 13u);
  EXPECT_FALSE(p.IndexOf(S({0, 0, 0})).has_value());
  EXPECT_FALSE(p.IndexOf(S({3})).has_value());
  EXPECT_FALSE(p.IndexOf(Value(Permutation{{0}})).has_value());
  // Lengths 1..3: 3 + 9 + 27, the first rank the shortest, first sequence.
  const Parameter q = Abc(1, 3);
  EXPECT_EQ(q.Cardinality(), 39u);
  EXPECT_EQ(q.ValueAt(0), S({0}));
  EXPECT_EQ(q.ValueAt(12), S({0, 0, 0}));
  EXPECT_EQ(q.ValueAt(38), S({2, 2, 2}));
  EXPECT_EQ(q.IndexOf(S({1, 0, 2})), 12u + 9 + 0 + 2);
  EXPECT_FALSE(q.IndexOf(S({})).has_value());
  // One name: one sequence per length.
  const Parameter one = Make({{"name", "o"},
                              {"type", "sequence"},
                              {"alphabet", {"x"}},
                              {"max_length", 5},
                              {"min_length", 2}});
  EXPECT_EQ(one.Cardinality(), 4u);
  EXPECT_EQ(one.ValueAt(3), S({0, 0, 0, 0, 0}));
  // 120 names, length 40: far beyond 64 bits, saturates and refuses to rank.
  json big = {{"name", "b"}, {"type", "sequence"}, {"max_length", 40}};
  for (int i = 0; i < 120; ++i) big["alphabet"].push_back("pass" + std::to_string(i));
  const Parameter b = Make(big);
  EXPECT_EQ(b.Cardinality(), std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(b.IndexOf(S({1, 2, 3})).has_value());
  // 2^0 + ... + 2^62 = 2^63 - 1 still fits.
  const Parameter two =
      Make({{"name", "t"}, {"type", "sequence"}, {"alphabet", {"x", "y"}}, {"max_length", 62}});
  EXPECT_EQ(two.Cardinality(), (uint64_t{1} << 63) - 1);
  EXPECT_EQ(two.IndexOf(two.ValueAt((uint64_t{1} << 63) - 2)), (uint64_t{1} << 63) - 2);
}

// ---------------------------------------------------------------- sampling

TEST(SequenceTest, SamplingIsUniformInLengthThenItems) {
  const Parameter p = Make({{"name", "s"},
                            {"type", "sequence"},
                            {"alphabet", {"a", "b", "c", "d"}},
                            {"max_length", 4},
                            {"min_length", 1}});
  Rng rng(3);
  std::map<size_t, int> lengths;
  std::map<int, int> items;
  const int n = 8000;
  int total_items = 0;
  for (int t = 0; t < n; ++t) {
    const Value v = p.Sample(rng);
    ASSERT_TRUE(p.Check(v).ok()) << ValueToString(v);
    ++lengths[Items(v).size()];
    for (int i : Items(v)) ++items[i];
    total_items += static_cast<int>(Items(v).size());
  }
  ASSERT_EQ(lengths.size(), 4u);
  for (const auto& [length, count] : lengths) EXPECT_NEAR(count, n / 4.0, 200) << length;
  ASSERT_EQ(items.size(), 4u);
  for (const auto& [item, count] : items) EXPECT_NEAR(count, total_items / 4.0, 300) << item;
}

TEST(SequenceTest, FromUnitIsDeterministicAndStratifiesTheLength) {
  const Parameter p = Make({{"name", "s"},
                            {"type", "sequence"},
                            {"alphabet", {"a", "b", "c"}},
                            {"max_length", 6},
                            {"min_length", 2}});
  const int n = 50;  // five lengths, ten cells each
  std::map<size_t, int> lengths;
  std::set<std::vector<int>> distinct;
  for (int t = 0; t < n; ++t) {
    const double u = (t + 0.5) / n;
    const Value v = p.FromUnit(u);
    ASSERT_TRUE(p.Check(v).ok());
    EXPECT_EQ(v, p.FromUnit(u));
    ++lengths[Items(v).size()];
    distinct.insert(Items(v));
  }
  ASSERT_EQ(lengths.size(), 5u);
  for (const auto& [length, count] : lengths) EXPECT_EQ(count, 10) << length;
  EXPECT_GT(distinct.size(), 30u);
  EXPECT_EQ(Items(p.FromUnit(0.0)).size(), 2u);
  EXPECT_EQ(Items(p.FromUnit(1.0)).size(), 6u);
}

// ---------------------------------------------------------------- neighbours

void ExpectValidNeighbors(const Parameter& p, const Value& start, Rng& rng,
                          std::map<Edit, int>* kinds = nullptr) {
  const auto ns = p.Neighbors(start, rng);
  EXPECT_LE(ns.size(), static_cast<size_t>(2 * p.size + 8));
  std::set<std::vector<int>> seen;
  for (const auto& n : ns) {
    ASSERT_TRUE(std::holds_alternative<Sequence>(n));
    EXPECT_TRUE(p.Check(n).ok()) << ValueToString(start) << " -> " << ValueToString(n);
    EXPECT_NE(n, start);
    EXPECT_TRUE(seen.insert(Items(n)).second) << "duplicate " << ValueToString(n);
    const Edit e = OneEditApart(Items(start), Items(n));
    EXPECT_NE(e, Edit::kNone) << ValueToString(start) << " -> " << ValueToString(n);
    if (kinds) ++(*kinds)[e];
  }
}

TEST(SequenceTest, NeighborsOfASmallDomainAreEverySingleEdit) {
  // Few enough edits to list them all: the neighbourhood is exactly the set of sequences one
  // edit away (within the length bounds), whatever the generator.
  const Parameter p = Abc(1, 3);
  for (uint64_t k = 0; k < p.Cardinality(); ++k) {
    const Value start = p.ValueAt(k);
    for (uint64_t seed : {1u, 2u}) {
      Rng rng(seed);
      ExpectValidNeighbors(p, start, rng);
      Rng again(seed);
      std::set<std::vector<int>> got;
      for (const auto& n : p.Neighbors(start, again)) got.insert(Items(n));
      const auto want = AllSingleEdits(p, Items(start));
      if (want.size() <= static_cast<size_t>(2 * p.size + 8)) {
        EXPECT_EQ(got, want) << ValueToString(start);
      }
    }
  }
  // Fixed length: no insertions or deletions.
  const Parameter fixed = Abc(2, 2);
  Rng rng(5);
  for (const auto& n : fixed.Neighbors(S({0, 1}), rng)) EXPECT_EQ(Items(n).size(), 2u);
  EXPECT_EQ(AllSingleEdits(fixed, {0, 1}).size(), 5u);  // 4 replacements and 1 swap
  Rng rng2(5);
  EXPECT_EQ(fixed.Neighbors(S({0, 1}), rng2).size(), 5u);
  // One name, fixed length: nothing to change.
  const Parameter one = Make({{"name", "o"},
                              {"type", "sequence"},
                              {"alphabet", {"x"}},
                              {"max_length", 3},
                              {"min_length", 3}});
  EXPECT_TRUE(one.Neighbors(S({0, 0, 0}), rng).empty());
}

TEST(SequenceTest, NeighborsOfALargeDomainAreABoundedMixOfEdits) {
  json spec = {{"name", "passes"}, {"type", "sequence"}, {"max_length", 40}};
  for (int i = 0; i < 120; ++i) spec["alphabet"].push_back("pass" + std::to_string(i));
  const Parameter p = Make(spec);
  Rng rng(17);
  std::map<Edit, int> kinds;
  for (int t = 0; t < 40; ++t) {
    const Value start = p.Sample(rng);
    ExpectValidNeighbors(p, start, rng, &kinds);
    Rng local(t);
    EXPECT_GE(p.Neighbors(start, local).size(), static_cast<size_t>(p.size)) << t;
  }
  // Every kind of edit shows up, none crowds the others out.
  for (Edit e : {Edit::kInsert, Edit::kDelete, Edit::kReplace, Edit::kSwap}) {
    EXPECT_GT(kinds[e], 200) << static_cast<int>(e);
  }
  // At the bounds: the empty sequence can only grow, a full one cannot.
  ExpectValidNeighbors(p, S({}), rng);
  for (const auto& n : p.Neighbors(S({}), rng)) EXPECT_EQ(Items(n).size(), 1u);
  const Value full = Value(Sequence{std::vector<int>(40, 7)});
  ExpectValidNeighbors(p, full, rng);
  for (const auto& n : p.Neighbors(full, rng)) EXPECT_LE(Items(n).size(), 40u);
  // Deterministic for a given generator state.
  Rng a(9), b(9);
  EXPECT_EQ(p.Neighbors(full, a), p.Neighbors(full, b));
}

// ---------------------------------------------------------------- encoding, defaults, names

TEST(SequenceTest, EncodeWritesPositionsThenCounts) {
  const Parameter p = Abc(0, 4);
  ASSERT_EQ(p.EncodedWidth(), 7);
  double out[7];
  p.Encode(S({2, 0, 2}), out);
  const double want[7] = {2, 0, 2, 3, 0.25, 0, 0.5};
  for (int i = 0; i < 7; ++i) EXPECT_DOUBLE_EQ(out[i], want[i]) << i;
  p.Encode(S({}), out);
  const double empty[7] = {3, 3, 3, 3, 0, 0, 0};
  for (int i = 0; i < 7; ++i) EXPECT_DOUBLE_EQ(out[i], empty[i]) << i;
  p.Encode(S({1, 1, 1, 1}), out);
  const double full[7] = {1, 1, 1, 1, 0, 1, 0};
  for (int i = 0; i < 7; ++i) EXPECT_DOUBLE_EQ(out[i], full[i]) << i;
}

TEST(SequenceTest, DefaultsAndNames) {
  EXPECT_EQ(Abc().Default(), S({}));
  EXPECT_EQ(Abc(2, 3).Default(), S({0, 0}));
  const Parameter p = Make(PassesSpec());
  EXPECT_EQ(p.SequenceNames(S({2, 0, 2})), (std::vector<std::string>{"licm", "sroa", "licm"}));
  EXPECT_TRUE(p.SequenceNames(S({})).empty());
  auto v = p.SequenceFromNames({"dce", "gvn"});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, S({3, 1}));
  auto unknown = p.SequenceFromNames({"gvn", "mem2reg"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(Contains(unknown.error().message(), "passes")) << unknown.error().message();
  EXPECT_TRUE(Contains(unknown.error().message(), "\"mem2reg\"")) << unknown.error().message();
  auto too_long = p.SequenceFromNames({"gvn", "gvn", "gvn", "gvn", "gvn", "gvn"});
  ASSERT_FALSE(too_long.ok());
  EXPECT_TRUE(Contains(too_long.error().message(), "6 items")) << too_long.error().message();
  auto too_short = p.SequenceFromNames({});
  ASSERT_FALSE(too_short.ok());
  EXPECT_TRUE(Contains(too_short.error().message(), "min_length 1")) << too_short.error().message();
  EXPECT_EQ(Abc().LogPrior(S({1})), 0.0);
}

// ---------------------------------------------------------------- in a space

Space SequenceAndInteger() {
  std::vector<Parameter> params = {
      Abc(0, 2), Make({{"name", "k"}, {"type", "integer"}, {"low", 1}, {"high", 3}})};
  auto space = Space::Create(params, {});
  EXPECT_TRUE(space.ok()) << space.error().message();
  return *space;
}

TEST(SequenceTest, SpaceLayoutEncodingAndCounts) {
  const Space space = SequenceAndInteger();
  const FeatureLayout& layout = space.layout();
  ASSERT_EQ(layout.groups.size(), 2u);
  EXPECT_EQ(layout.groups[0].kind, FeatureKind::kSequence);
  EXPECT_EQ(layout.groups[0].offset, 0);
  EXPECT_EQ(layout.groups[0].width, 5);
  EXPECT_EQ(layout.groups[0].max_length, 2);
  EXPECT_EQ(layout.groups[0].n_choices, 3);
  EXPECT_EQ(layout.groups[1].kind, FeatureKind::kNumeric);
  EXPECT_EQ(layout.groups[1].offset, 5);
  EXPECT_EQ(layout.width, 6);
  double row[6];
  space.Encode({S({1}), Value(int64_t{3})}, row);
  const double want[6] = {1, 3, 0, 0.5, 0, 1};
  for (int i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(row[i], want[i]) << i;
  // 13 sequences times 3 integers, every one reachable by rank.
  const FeasibleCount count = space.CountFeasible();
  EXPECT_TRUE(count.finite);
  EXPECT_TRUE(count.exact);
  EXPECT_EQ(count.value, 39.0L);
  std::set<size_t> hashes;
  for (uint64_t r = 0; r < 39; ++r) {
    const Config c = space.FeasibleAt(r);
    EXPECT_TRUE(space.Check(c).ok());
    hashes.insert(HashConfig(c));
  }
  EXPECT_EQ(hashes.size(), 39u);
  EXPECT_EQ(space.Default(), (Config{S({}), Value(int64_t{1})}));
  // A realistic pass-ordering space is counted approximately, at its real size.
  json big = {{"name", "passes"}, {"type", "sequence"}, {"max_length", 40}};
  for (int i = 0; i < 120; ++i) big["alphabet"].push_back("pass" + std::to_string(i));
  auto large = Space::Create({Make(big)}, {});
  ASSERT_TRUE(large.ok());
  const FeasibleCount large_count = large->CountFeasible();
  EXPECT_TRUE(large_count.finite);
  EXPECT_FALSE(large_count.exact);
  EXPECT_GT(large_count.value, 1e83L);
  EXPECT_LT(large_count.value, 1e84L);
}

TEST(SequenceTest, SpaceSamplesAndNeighborsStayValid) {
  const Space space = SequenceAndInteger();
  Rng rng(8);
  for (int t = 0; t < 200; ++t) {
    auto c = space.Sample(rng);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(space.Check(*c).ok());
    for (const auto& n : space.Neighbors(*c, rng)) {
      EXPECT_TRUE(space.Check(n).ok());
      // One parameter moves by one neighbourhood step.
      const bool seq_moved = n[0] != (*c)[0], int_moved = n[1] != (*c)[1];
      EXPECT_NE(seq_moved, int_moved);
      if (seq_moved) {
        EXPECT_NE(OneEditApart(Items((*c)[0]), Items(n[0])), Edit::kNone);
      }
    }
  }
}

TEST(SequenceTest, ConfigJsonUsesNames) {
  const Space space = SequenceAndInteger();
  const Config c = {S({2, 0}), Value(int64_t{2})};
  const json j = space.ConfigToJson(c);
  EXPECT_EQ(j, json({{"s", {"c", "a"}}, {"k", 2}}));
  auto back = space.ConfigFromJson(j);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, c);
  // The {"sequence": [...]} form of ValueToJson and the empty list are read too.
  auto object = space.ConfigFromJson({{"s", {{"sequence", {2, 0}}}}, {"k", 2}});
  ASSERT_TRUE(object.ok()) << object.error().message();
  EXPECT_EQ(*object, c);
  auto empty = space.ConfigFromJson({{"s", json::array()}, {"k", 1}});
  ASSERT_TRUE(empty.ok()) << empty.error().message();
  EXPECT_EQ((*empty)[0], S({}));
  auto unknown = space.ConfigFromJson({{"s", {"a", "z"}}, {"k", 2}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(Contains(unknown.error().message(), "'s'")) << unknown.error().message();
  EXPECT_TRUE(Contains(unknown.error().message(), "\"z\"")) << unknown.error().message();
  auto too_long = space.ConfigFromJson({{"s", {"a", "b", "c"}}, {"k", 2}});
  ASSERT_FALSE(too_long.ok());
  EXPECT_TRUE(Contains(too_long.error().message(), "max_length")) << too_long.error().message();
  auto numbers = space.ConfigFromJson({{"s", {0, 1}}, {"k", 2}});
  ASSERT_FALSE(numbers.ok());
  EXPECT_TRUE(Contains(numbers.error().message(), "names")) << numbers.error().message();
  auto out_of_range = space.ConfigFromJson({{"s", {{"sequence", {5}}}}, {"k", 2}});
  EXPECT_FALSE(out_of_range.ok());
}

TEST(SequenceTest, SpaceAndSpecJsonRoundTrip) {
  const json spec_json = {
      {"name", "order"},
      {"parameters",
       {PassesSpec(), {{"name", "opt"}, {"type", "ordinal"}, {"values", {0, 1, 2, 3}}}}},
      {"objectives", {{{"name", "size"}, {"goal", "minimize"}}}}};
  auto spec = ParseSpec(spec_json, "order.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->space.parameters()[0].kind, ParamKind::kSequence);
  auto again = Space::FromJson(spec->space.ToJson());
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->ToJson(), spec->space.ToJson());
  auto reparsed = ParseSpec(spec->ToJson(), "order.json");
  ASSERT_TRUE(reparsed.ok()) << reparsed.error().message();
  EXPECT_EQ(reparsed->ToJson(), spec->ToJson());
  EXPECT_EQ(again->Default(), (Config{S({0, 1}), Value(int64_t{0})}));
  EXPECT_TRUE(again->HasUserDefault());
}

TEST(SequenceTest, ConstraintsCannotReadASequence) {
  std::vector<Parameter> params = {
      Make(PassesSpec()), Make({{"name", "k"}, {"type", "integer"}, {"low", 0}, {"high", 9}})};
  auto bad = Space::Create(params, {"k < 5", "passes == 1 or k > 2"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::kInvalidInput);
  const std::string& m = bad.error().message();
  EXPECT_TRUE(Contains(m, "constraints[1]")) << m;
  EXPECT_TRUE(Contains(m, "'passes'")) << m;
  EXPECT_TRUE(Contains(m, "sequence")) << m;
  // Read by a constraint outside a space, a sequence is a runtime error that says what it is.
  auto e = Expression::Parse("passes == 1");
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Bind([](std::string_view) { return 0; }).ok());
  EXPECT_FALSE(e->Evaluate({S({1})}));
  auto checked = e->Check({S({1})});
  ASSERT_FALSE(checked.ok());
  EXPECT_TRUE(Contains(checked.error().message(), "'passes' is a sequence"))
      << checked.error().message();
  // Constraints on the other parameters are fine, and sampling keeps them.
  auto good = Space::Create(params, {"k < 5"});
  ASSERT_TRUE(good.ok()) << good.error().message();
  Rng rng(2);
  for (int t = 0; t < 50; ++t) {
    auto c = good->Sample(rng);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(good->Check(*c).ok());
    EXPECT_LT(std::get<int64_t>((*c)[1]), 5);
  }
}

}  // namespace
}  // namespace sysopt
