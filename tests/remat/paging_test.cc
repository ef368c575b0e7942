// Paging (POET): the simulator's page-out and page-in steps, the paging parameters of graphs,
// and the two planners that use them. Expected figures are worked out by hand in the comments.
#include "sysopt/remat/paging.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "sysopt/remat/formulation.h"
#include "sysopt/remat/planner.h"
#include "sysopt/remat/size.h"
#include "sysopt/remat/solver.h"
#include "sysopt/remat/synthetic.h"

namespace sysopt::remat {
namespace {

using nlohmann::json;

Step C(int v) { return {Step::Kind::kCompute, v}; }
Step F(int v) { return {Step::Kind::kFree, v}; }
Step Out(int v) { return {Step::Kind::kPageOut, v}; }
Step In(int v) { return {Step::Kind::kPageIn, v}; }

PagingParams Link(double bandwidth, double latency = 0, double energy_per_byte = 0,
                  double power = kDefaultComputePowerW) {
  PagingParams p;
  p.bandwidth_bytes_per_s = bandwidth;
  p.latency_s = latency;
  p.energy_per_byte_j = energy_per_byte;
  p.compute_power_w = power;
  return p;
}

// a(3 bytes, cost 1) -> b(5, 2) -> c(7, 4), a -> c; output c; fixed 100.
Graph Triangle() {
  std::vector<Node> nodes(3);
  nodes[0] = {0, "a", "x", {}, 3, 1.0, false, ""};
  nodes[1] = {1, "b", "x", {0}, 5, 2.0, false, ""};
  nodes[2] = {2, "c", "x", {0, 1}, 7, 4.0, false, ""};
  return *MakeGraph("tri", nodes, {2}, 100);
}

// The training chain of four forward ops of 1000 bytes (cost 1) and their gradients (cost 2):
// f0..f3 are nodes 0..3, g3, g2, g1, g0 nodes 4..7 (g_k reads f_{k-1}, f_k and g_{k+1}; g0 is
// the output). Keeping everything needs five tensors at once (f0..f3 and g3, when g3 is
// computed), at cost 12. With room for four, some forward tensor must leave before g3 and come
// back: a recomputation costs at least 1 (cost 13 is optimal without paging), a page-out and a
// page-in of 1000 bytes cost 2 * (latency + 1000 / bandwidth).
Graph Chain4(std::optional<PagingParams> paging) {
  Graph g = *MakeTrainingGraph("chain4", ChainOps(4, 1000, 1.0));
  g.paging = paging;
  return g;
}
constexpr int64_t kFourTensors = 4000;

// ---------------------------------------------------------------------------------------------
// The simulator.

TEST(PagingSimulateTest, PageOutFreesAndPageInTakesMemoryAndTime) {
  Graph g = Triangle();
  // 2 bytes/s and 0.5 s latency: a transfer of a (3 bytes) takes 0.5 + 1.5 = 2 s; 1 J/byte.
  g.paging = Link(2.0, 0.5, 1.0, 10.0);
  std::vector<int64_t> memory;
  auto sim = Simulate(g, {{C(0), C(1), Out(0), In(0), C(2), F(0), F(1)}}, &memory);
  ASSERT_TRUE(sim.ok()) << sim.error().message();
  // 100 + a, + b, - a (paged out), + a (paged in), + c, - a, - b.
  EXPECT_EQ(memory, (std::vector<int64_t>{103, 108, 105, 108, 115, 112, 107}));
  EXPECT_EQ(sim->peak_bytes, 115);
  EXPECT_DOUBLE_EQ(sim->compute_cost, 7.0);
  EXPECT_DOUBLE_EQ(sim->paging_seconds, 4.0);
  EXPECT_DOUBLE_EQ(sim->cost, 11.0);
  // Compute energy: cost * 10 W = 70 J; transfers 6 bytes * 1 J.
  EXPECT_DOUBLE_EQ(sim->energy, 76.0);
  EXPECT_EQ(sim->page_outs, 1);
  EXPECT_EQ(sim->page_ins, 1);
  EXPECT_EQ(sim->paged_bytes, 6);
  EXPECT_EQ(sim->recomputes, 0);
  EXPECT_DOUBLE_EQ(ObjectiveValue(*sim, Objective::kTime), 11.0);
  EXPECT_DOUBLE_EQ(ObjectiveValue(*sim, Objective::kEnergy), 76.0);
}

TEST(PagingSimulateTest, AHostCopyServesSeveralPageInsAndARecomputeIsStillAllowed) {
  Graph g = Triangle();
  g.paging = Link(3.0);  // a's transfer: 1 s
  auto sim = Simulate(g, {{C(0), Out(0), In(0), C(1), F(0), In(0), C(2), F(1), F(0)}});
  ASSERT_TRUE(sim.ok()) << sim.error().message();
  EXPECT_EQ(sim->page_outs, 1);
  EXPECT_EQ(sim->page_ins, 2);
  EXPECT_DOUBLE_EQ(sim->cost, 7.0 + 3.0);
  auto again = Simulate(g, {{C(0), Out(0), C(0), C(1), C(2), F(0), F(1)}});
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->recomputes, 1);
  EXPECT_DOUBLE_EQ(again->cost, 8.0 + 1.0);
}

TEST(PagingSimulateTest, NodeEnergiesReplaceTheDefault) {
  Graph g = Triangle();
  g.nodes[1].energy_j = 0.5;
  auto sim = Simulate(g, {{C(0), C(1), C(2), F(0), F(1)}});
  ASSERT_TRUE(sim.ok());
  // No paging parameters: a and c at the default power (10 W), b its own 0.5 J.
  EXPECT_DOUBLE_EQ(sim->energy, 1.0 * kDefaultComputePowerW + 0.5 + 4.0 * kDefaultComputePowerW);
  EXPECT_DOUBLE_EQ(g.TotalEnergy(), sim->energy);
}

struct BadPaging {
  const char* label;
  Schedule schedule;
  std::string expected;
};

TEST(PagingSimulateTest, RejectsInvalidPagingSchedules) {
  Graph g = Triangle();
  g.paging = Link(1e3);
  const std::vector<BadPaging> cases = {
      {"use of a paged-out tensor",
       {{C(0), Out(0), C(1)}},
       "schedule step 2: computes node id 1 ('b') but its input id 0 is not resident (it is "
       "paged out; page it in first)"},
      {"page-in of a tensor never paged out",
       {{C(0), F(0), In(0)}},
       "schedule step 2: pages in node id 0 ('a'), which was never paged out"},
      {"page-in of a resident tensor",
       {{C(0), Out(0), In(0), In(0)}},
       "schedule step 3: pages in node id 0 ('a'), which is already resident"},
      {"page-out of a tensor not resident",
       {{C(0), F(0), Out(0)}},
       "schedule step 2: pages out node id 0 ('a'), which is not resident"},
      {"page-out of a tensor never computed",
       {{Out(1)}},
       "schedule step 0: pages out node id 1 ('b'), which is not resident"},
      {"second page-out",
       {{C(0), Out(0), In(0), Out(0)}},
       "schedule step 3: pages out node id 0 ('a'), which already has a host copy (free it "
       "instead)"},
      {"free of a paged-out tensor",
       {{C(0), Out(0), F(0)}},
       "schedule step 2: frees node id 0 ('a'), which is not resident"},
      {"compute of a paged-in tensor",
       {{C(0), Out(0), In(0), C(0)}},
       "schedule step 3: computes node id 0 ('a'), which is already resident"},
      {"output paged out at the end",
       {{C(0), C(1), C(2), F(0), F(1), Out(2)}},
       "schedule: output node id 2 ('c') is not resident at the end (it is paged out)"},
  };
  for (const BadPaging& c : cases) {
    SCOPED_TRACE(c.label);
    auto sim = Simulate(g, c.schedule);
    ASSERT_FALSE(sim.ok());
    EXPECT_EQ(sim.error().message(), c.expected);
  }
  // Without paging parameters no schedule may page.
  auto off = Simulate(Triangle(), {{C(0), Out(0), In(0), C(1), C(2), F(0), F(1)}});
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().message(),
            "schedule step 1: pages out node id 0 ('a'), but the graph has no paging parameters "
            "(give the graph a 'paging' field or --page-bandwidth)");
}

TEST(PagingScheduleTest, JsonNamesPagingStepsAndRoundTrips) {
  Graph g = Triangle();
  g.paging = Link(1e3);
  const Schedule schedule{{C(0), C(1), Out(0), In(0), C(2), F(0), F(1)}};
  const json j = ScheduleToJson(g, schedule);
  EXPECT_EQ(j["steps"][2], (json{{"page_out", 0}}));
  EXPECT_EQ(j["steps"][3], (json{{"page_in", 0}}));
  auto back = ScheduleFromJson(g, j, "s.json");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->steps, schedule.steps);
  auto bad = ScheduleFromJson(g, json::parse(R"({"steps": [{"page": 0}]})"), "s.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "s.json: steps[0] must be {\"compute\": id}, {\"free\": id}, {\"page_out\": id} or "
            "{\"page_in\": id}, got {\"page\":0}");
}

TEST(PagingScheduleTest, MaterializationsEndInstancesByPageOutWhereFlagged) {
  const Graph g = Chain4(Link(1e4));
  // f0 paged out after its last read (f1) and paged in for g1; everything else as liveness has
  // it: f1, f2, f3 freed after their last gradient readers, g's after the next g.
  const std::vector<Materialization> order = {{0, false, true}, {1}, {2}, {3}, {4}, {5},
                                              {0, true},        {6}, {7}};
  const Schedule s = ScheduleFromMaterializations(g, order);
  const std::vector<Step> expected = {C(0), C(1),  Out(0), C(2), C(3), C(4), F(3), C(5), F(2),
                                      F(4), In(0), C(6),   F(1), F(5), C(7), F(0), F(6)};
  EXPECT_EQ(s.steps, expected);
  EXPECT_EQ(MaterializationsOf(s, g.size()), order);
  // Without flags it is the compute-order schedule.
  EXPECT_EQ(ScheduleFromMaterializations(g, {{0}, {1}, {2}}).steps,
            ScheduleFromComputeOrder(g, {0, 1, 2}).steps);
}

// ---------------------------------------------------------------------------------------------
// Paging parameters.

TEST(PagingParamsTest, ParsesRatesAndDefaults) {
  auto p = PagingFromJson(json{{"bandwidth_bytes_per_s", "12GB/s"}}, "g.json");
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_DOUBLE_EQ(p->bandwidth_bytes_per_s, 12e9);
  EXPECT_DOUBLE_EQ(p->latency_s, 0.0);
  EXPECT_DOUBLE_EQ(p->energy_per_byte_j, kDefaultPageEnergyPerByteJ);
  EXPECT_DOUBLE_EQ(p->compute_power_w, kDefaultComputePowerW);
  EXPECT_DOUBLE_EQ(p->TransferSeconds(6'000'000'000), 0.5);
  auto q = PagingFromJson(json{{"bandwidth_bytes_per_s", 1.5e9},
                               {"latency_s", 1e-5},
                               {"energy_per_byte_j", 0},
                               {"compute_power_w", 300}},
                          "g.json");
  ASSERT_TRUE(q.ok()) << q.error().message();
  EXPECT_DOUBLE_EQ(q->TransferSeconds(1'500'000), 1e-5 + 1e-3);
  EXPECT_DOUBLE_EQ(q->compute_power_w, 300.0);
  EXPECT_EQ(*ParseBandwidth("900 MiB/s"), 900.0 * 1024 * 1024);
  EXPECT_EQ(*ParseBandwidth("1.5e9"), 1.5e9);
  EXPECT_EQ(*ParseBandwidth("2kb/S"), 2000.0);
}

TEST(PagingParamsTest, BadValuesNameTheFieldAndValue) {
  const std::vector<std::pair<json, std::string>> cases = {
      {json{{"bandwidth_bytes_per_s", -5}},
       "g.json: field 'paging.bandwidth_bytes_per_s' must be a positive number of bytes per "
       "second or a rate such as \"12GB/s\", got -5"},
      {json{{"bandwidth_bytes_per_s", 0}},
       "g.json: field 'paging.bandwidth_bytes_per_s' must be a positive number of bytes per "
       "second or a rate such as \"12GB/s\", got 0"},
      {json{{"bandwidth_bytes_per_s", "12GB"}},
       "g.json: field 'paging.bandwidth_bytes_per_s': rate '12GB': expected a unit per second "
       "such as GB/s, got 'gb'"},
      {json{{"bandwidth_bytes_per_s", "12XB/s"}},
       "g.json: field 'paging.bandwidth_bytes_per_s': rate '12XB/s': unknown unit 'xb/s' (use "
       "B/s, KB/s, MB/s, GB/s, MiB/s, GiB/s)"},
      {json{{"bandwidth_bytes_per_s", "fast"}},
       "g.json: field 'paging.bandwidth_bytes_per_s': rate 'fast': expected a number of bytes "
       "per second such as 12GB/s"},
      {json{{"bandwidth_bytes_per_s", "-1GB/s"}},
       "g.json: field 'paging.bandwidth_bytes_per_s': rate '-1GB/s': must be positive and "
       "finite"},
      {json{{"bandwidth_bytes_per_s", 1e9}, {"bandwith", 1}},
       "g.json: field 'paging.bandwith' is unknown (known: bandwidth_bytes_per_s, latency_s, "
       "energy_per_byte_j, compute_power_w)"},
      {json{{"latency_s", 1}}, "g.json: field 'paging.bandwidth_bytes_per_s' is missing"},
      {json{{"bandwidth_bytes_per_s", 1e9}, {"latency_s", -1}},
       "g.json: field 'paging.latency_s' must be a finite number >= 0, got -1"},
      {json{{"bandwidth_bytes_per_s", 1e9}, {"energy_per_byte_j", "1pJ"}},
       "g.json: field 'paging.energy_per_byte_j' must be a finite number >= 0, got \"1pJ\""},
      {json::array({1}),
       "g.json: field 'paging' must be an object such as {\"bandwidth_bytes_per_s\": 12e9}, got "
       "[1]"},
  };
  for (const auto& [value, expected] : cases) {
    SCOPED_TRACE(value.dump());
    auto p = PagingFromJson(value, "g.json");
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().message(), expected);
    EXPECT_EQ(p.error().kind(), ErrorKind::kInvalidInput);
  }
}

TEST(PagingParamsTest, GraphsReadAndWriteTheirPagingAndNodeEnergies) {
  json j = GraphToJson(Chain4(std::nullopt));
  EXPECT_FALSE(j.contains("paging"));
  j["paging"] = {{"bandwidth_bytes_per_s", "1MB/s"}, {"latency_s", 0.25}};
  j["nodes"][2]["energy_j"] = 3.5;
  auto g = GraphFromJson(j, "chain.json");
  ASSERT_TRUE(g.ok()) << g.error().message();
  ASSERT_TRUE(g->paging.has_value());
  EXPECT_DOUBLE_EQ(g->paging->bandwidth_bytes_per_s, 1e6);
  EXPECT_DOUBLE_EQ(g->paging->latency_s, 0.25);
  EXPECT_DOUBLE_EQ(g->NodeEnergy(2), 3.5);
  EXPECT_DOUBLE_EQ(g->NodeEnergy(1), 1.0 * kDefaultComputePowerW);
  const json back = GraphToJson(*g);
  EXPECT_DOUBLE_EQ(back["paging"]["bandwidth_bytes_per_s"].get<double>(), 1e6);
  EXPECT_DOUBLE_EQ(back["nodes"][2]["energy_j"].get<double>(), 3.5);
  EXPECT_FALSE(back["nodes"][1].contains("energy_j"));
  auto again = GraphFromJson(back, "back.json");
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_DOUBLE_EQ(again->paging->latency_s, 0.25);

  j["paging"] = {{"bandwidth_bytes_per_s", 0}};
  auto zero = GraphFromJson(j, "chain.json");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message().find("chain.json: field 'paging.bandwidth_bytes_per_s'"),
            std::string::npos)
      << zero.error().message();
  j["paging"] = {{"bandwidth_bytes_per_s", 1e6}};
  j["nodes"][2]["energy_j"] = -1;
  auto negative = GraphFromJson(j, "chain.json");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().message(),
            "chain.json: nodes[2] (id 2): field 'energy_j' must be a finite number >= 0, got -1");
}

// ---------------------------------------------------------------------------------------------
// The paging heuristic.

// A plan for Chain4 within four tensors that recomputes f0 twice and f1 once (cost 15): f0
// and f1 are dropped in the forward pass; f0 and f1 are recomputed for g2 (f0 only to
// recompute f1), and f0 once more for g1.
Schedule RecomputingChainPlan() {
  return {{C(0), C(1), F(0), C(2), F(1), C(3), C(4), F(3), C(0), C(1), F(0),
           C(5), F(2), F(4), C(0), C(6), F(1), F(5), C(7), F(0), F(6)}};
}

TEST(PageRecomputationsTest, FastLinkPagesEveryRecomputationAway) {
  // Transfers of 0.1 s. By hand: f0 first (all nodes have the same compute per transfer, ties
  // go by index): its two recomputations become page-ins (13.3: f1 is still recomputed, from
  // the paged-in f0); then f1's recomputation becomes a page-in, which leaves the first page-in
  // of f0 unread, so it goes too: 12 + two page-outs + two page-ins = 12.4.
  const Graph g = Chain4(Link(1e4));
  const PagingPass pass =
      PageRecomputations(g, RecomputingChainPlan(), kFourTensors, Objective::kTime, Deadline());
  EXPECT_EQ(pass.recomputations, 3);
  EXPECT_EQ(pass.replaced, 2);
  EXPECT_NEAR(pass.sim.cost, 12.4, 1e-9);
  EXPECT_EQ(pass.sim.recomputes, 0);
  EXPECT_EQ(pass.sim.page_outs, 2);
  EXPECT_EQ(pass.sim.page_ins, 2);
  EXPECT_LE(pass.sim.peak_bytes, kFourTensors);
  auto check = Simulate(g, pass.schedule);
  ASSERT_TRUE(check.ok()) << check.error().message();
  EXPECT_DOUBLE_EQ(check->cost, pass.sim.cost);
}

TEST(PageRecomputationsTest, PagingPaysForARecomputationChain) {
  // Transfers of 0.8 s: paging f0 (1.6 for one page-out and page-in) costs more than one
  // recomputation of it, and paging f0 for both of its recomputations (2.4) more than both (2);
  // but paging f1 (1.6) saves f1's recomputation and the recomputation of f0 that only served
  // it (2): cost 15 - 0.4 = 14.6, f0 still recomputed once for g1.
  const Graph g = Chain4(Link(1000.0 / 0.8));
  const PagingPass pass =
      PageRecomputations(g, RecomputingChainPlan(), kFourTensors, Objective::kTime, Deadline());
  EXPECT_NEAR(pass.sim.cost, 14.6, 1e-9);
  EXPECT_EQ(pass.sim.recomputes, 1);
  EXPECT_EQ(pass.sim.page_outs, 1);
  EXPECT_EQ(pass.sim.page_ins, 1);
  EXPECT_LE(pass.sim.peak_bytes, kFourTensors);
}

TEST(PageRecomputationsTest, SlowLinkOrNoPagingLeavesThePlanAsItIs) {
  // Transfers of 1 s: paging f1 costs 2 and saves 2; nothing is strictly cheaper.
  const Schedule start = RecomputingChainPlan();
  for (const std::optional<PagingParams>& link :
       {std::optional<PagingParams>(Link(1000.0)), std::optional<PagingParams>()}) {
    const Graph g = Chain4(link);
    const PagingPass pass =
        PageRecomputations(g, start, kFourTensors, Objective::kTime, Deadline());
    EXPECT_EQ(pass.schedule.steps, start.steps);
    EXPECT_EQ(pass.replaced, 0);
    EXPECT_DOUBLE_EQ(pass.sim.cost, 15.0);
  }
}

// ---------------------------------------------------------------------------------------------
// POET's program.

// Whether `x` satisfies every row, bound and integrality of `model`.
bool FeasiblePoint(const CheckmateModel& model, const std::vector<double>& x) {
  std::vector<double> activity(model.row_lb.size(), 0.0);
  model.matrix.times(x.data(), activity.data());
  for (size_t r = 0; r < activity.size(); ++r) {
    if (activity[r] < model.row_lb[r] - 1e-9 || activity[r] > model.row_ub[r] + 1e-9) return false;
  }
  for (size_t c = 0; c < x.size(); ++c) {
    if (x[c] < model.col_lb[c] - 1e-9 || x[c] > model.col_ub[c] + 1e-9) return false;
    if (model.integer[c] && std::fabs(x[c] - std::round(x[c])) > 1e-9) return false;
  }
  return true;
}

TEST(PagingMilpTest, TheHandDerivedPagingPlanIsAPointOfTheProgramAtItsCost) {
  const Graph g = Chain4(Link(1e4));
  auto model = BuildPagingModel(g, kFourTensors, Objective::kTime);
  ASSERT_TRUE(model.has_value());
  EXPECT_FALSE(BuildPagingModel(Chain4(std::nullopt), kFourTensors, Objective::kTime));
  // f0 paged out after f1 and back in for g1 (as in MaterializationsEndInstancesByPageOut...).
  const Schedule paged{{C(0), C(1), Out(0), C(2), C(3), C(4), F(3), C(5), F(2), F(4), In(0), C(6),
                        F(1), F(5), C(7), F(0), F(6)}};
  auto x = EncodePagingSchedule(g, *model, paged);
  ASSERT_TRUE(x.has_value());
  EXPECT_TRUE(FeasiblePoint(*model, *x));
  double objective = 0;
  for (size_t c = 0; c < x->size(); ++c) objective += (*x)[c] * model->objective[c];
  // In units of the keep-everything cost (12): 12.2 / 12.
  EXPECT_NEAR(objective, 12.2 / 12.0, 1e-12);
  // The same plan without its page-out and page-in does not fit: f0 held through g3 makes five
  // tensors, and the program's memory rows see it.
  const Schedule kept{
      {C(0), C(1), C(2), C(3), C(4), F(3), C(5), F(2), F(4), C(6), F(1), F(5), C(7), F(0), F(6)}};
  EXPECT_FALSE(EncodePagingSchedule(g, *model, kept).has_value());
  auto roomy = BuildPagingModel(g, 5000, Objective::kTime);
  auto x_kept = EncodePagingSchedule(g, *roomy, kept);
  ASSERT_TRUE(x_kept.has_value());
  EXPECT_TRUE(FeasiblePoint(*roomy, *x_kept));
  // Not in stage form: a node computed for the first time out of order.
  EXPECT_FALSE(EncodePagingSchedule(g, *roomy, {{C(1)}}).has_value());
}

// ---------------------------------------------------------------------------------------------
// The planners, on Chain4 within four tensors: 13 without paging; 12.2 with transfers of 0.1 s
// (one tensor out and back in); 13 with transfers of 1 s (paging costs 2, a recomputation 1).

struct ChainCase {
  double bandwidth;
  double expected_cost;
  int expected_page_ins;
};

TEST(PagingPlannerTest, BothPlannersFindTheHandDerivedOptimumOnFastAndSlowLinks) {
  for (const ChainCase& c : {ChainCase{1e4, 12.2, 1}, ChainCase{1e3, 13.0, 0}}) {
    SCOPED_TRACE(c.bandwidth);
    const Graph g = Chain4(Link(c.bandwidth));
    auto result = RunPlanner(g, {kFourTensors, {"stage-search", "paging", "milp-paging"}, 30, 1});
    ASSERT_TRUE(result.ok()) << result.error().message();
    ASSERT_EQ(result->entries.size(), 3u);
    const PlanEntry& search = result->entries[0];
    const PlanEntry& heuristic = result->entries[1];
    const PlanEntry& milp = result->entries[2];
    EXPECT_NEAR(search.sim.cost, 13.0, 1e-9);
    EXPECT_EQ(search.sim.page_ins, 0);
    for (const PlanEntry* e : {&heuristic, &milp}) {
      SCOPED_TRACE(e->solver);
      ASSERT_TRUE(e->plan.feasible) << e->plan.status;
      EXPECT_LE(e->sim.peak_bytes, kFourTensors);
      EXPECT_NEAR(e->sim.cost, c.expected_cost, 1e-9);
      EXPECT_EQ(e->sim.page_ins, c.expected_page_ins);
      EXPECT_EQ(e->sim.page_outs, c.expected_page_ins);
    }
    // On the slow link the heuristic returns the plan it started from, step for step.
    if (c.expected_page_ins == 0) {
      EXPECT_EQ(heuristic.plan.schedule.steps, search.plan.schedule.steps);
    }
    EXPECT_TRUE(milp.plan.proven_optimal) << milp.plan.status;
    EXPECT_NEAR(milp.plan.lower_bound, c.expected_cost, 1e-4);
    EXPECT_NEAR(result->paging_lower_bound, c.expected_cost, 1e-4);
    EXPECT_EQ(result->paging_bound_source, "milp-paging");
    EXPECT_NEAR(result->entries[result->best].sim.cost, c.expected_cost, 1e-9);
  }
}

TEST(PagingPlannerTest, EnergyObjectivePagesWhereTimeDoesNot) {
  // Transfers of 1 s and 1 J (1 mJ per byte); compute 10 W, so recomputing f0 costs 1 s and
  // 10 J. Time: 13 s without paging beats 14 s with. Energy: 120 J + 2 J with paging beats
  // 130 J without.
  const Graph g = Chain4(Link(1e3, 0, 1e-3, 10.0));
  for (Objective objective : {Objective::kTime, Objective::kEnergy}) {
    PlannerOptions options{kFourTensors, {"stage-search", "paging", "milp-paging"}, 30, 1};
    options.objective = objective;
    auto result = RunPlanner(g, options);
    ASSERT_TRUE(result.ok()) << result.error().message();
    ASSERT_GE(result->best, 0);
    const PlanEntry& best = result->entries[result->best];
    if (objective == Objective::kTime) {
      EXPECT_NEAR(best.sim.cost, 13.0, 1e-9);
      EXPECT_EQ(best.sim.page_ins, 0);
      EXPECT_NEAR(best.sim.energy, 130.0, 1e-9);
    } else {
      EXPECT_NEAR(best.sim.energy, 122.0, 1e-9);
      EXPECT_EQ(best.sim.page_ins, 1);
      EXPECT_NEAR(best.sim.cost, 14.0, 1e-9);
      EXPECT_NEAR(result->paging_lower_bound, 122.0, 1e-3);
    }
  }
}

TEST(PagingPlannerTest, PagingSolversNeedPagingParameters) {
  const Graph g = Chain4(std::nullopt);
  for (const char* name : {"paging", "milp-paging"}) {
    auto result = RunPlanner(g, {kFourTensors, {name}, 5, 1});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind(), ErrorKind::kInvalidInput);
    EXPECT_EQ(result.error().message(),
              fmt::format("solver {}: graph 'chain4' has no paging parameters (give it a "
                          "'paging' field or use --page-bandwidth)",
                          name));
  }
  // "auto" and "all" leave them out without paging and take them with it.
  auto has = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  EXPECT_FALSE(has(AutoSolvers(g), "paging"));
  EXPECT_FALSE(has(AllSolvers(g), "milp-paging"));
  const Graph paged = Chain4(Link(1e4));
  EXPECT_TRUE(has(AutoSolvers(paged), "paging"));
  EXPECT_TRUE(has(AutoSolvers(paged), "milp-paging"));
  // Paging improves the stage search's plan, so it runs right after it, then its program.
  {
    const std::vector<std::string> names = AutoSolvers(paged);
    const auto search = std::find(names.begin(), names.end(), "stage-search");
    ASSERT_NE(search, names.end());
    ASSERT_LT(search + 2, names.end());
    EXPECT_EQ(*(search + 1), "paging");
    EXPECT_EQ(*(search + 2), "milp-paging");
  }
  EXPECT_TRUE(has(AllSolvers(paged), "milp-paging"));
  // The baselines run as they do without paging.
  for (const std::string& name : BaselineNames()) {
    auto with = RunPlanner(paged, {kFourTensors, {name}, 5, 1});
    auto without = RunPlanner(g, {kFourTensors, {name}, 5, 1});
    ASSERT_TRUE(with.ok() && without.ok());
    EXPECT_EQ(with->entries[0].plan.schedule.steps, without->entries[0].plan.schedule.steps)
        << name;
  }
}

TEST(PagingPlannerTest, OnLargerGraphsFastLinksBeatRecomputationAndSlowLinksChangeNothing) {
  // Started from the greedy baseline's plans (fast and deterministic).
  const std::vector<Graph> graphs = {
      *MakeTrainingGraph("res", ResidualOps(16, 3, 1000, 1.0)),
      *MakeTrainingGraph("unet", UNetOps(5, 64000, 1.0)),
      *MakeTrainingGraph("random", RandomNetworkOps(24, 5, 1 << 16))};
  int checked = 0;
  for (const Graph& base : graphs) {
    for (double fraction : {0.8, 0.6}) {
      SCOPED_TRACE(base.name + " " + std::to_string(fraction));
      const int64_t budget = BudgetAtFraction(base, fraction);
      auto plain = RunPlanner(base, {budget, {"greedy-recompute"}, 2, 2});
      ASSERT_TRUE(plain.ok());
      const PlanEntry& recompute = plain->entries[0];
      if (!recompute.plan.feasible || recompute.sim.recomputes == 0) continue;
      // Fast: each transfer far cheaper than any op's compute. Slow: far dearer than all of it.
      Graph fast = base;
      fast.paging = Link(1e15);
      Graph slow = base;
      slow.paging = Link(1e-3);
      PagingPass fast_pass =
          PageRecomputations(fast, recompute.plan.schedule, budget, Objective::kTime, Deadline());
      PagingPass slow_pass =
          PageRecomputations(slow, recompute.plan.schedule, budget, Objective::kTime, Deadline());
      EXPECT_LT(fast_pass.sim.cost, recompute.sim.cost);
      EXPECT_GT(fast_pass.replaced, 0);
      EXPECT_LE(fast_pass.sim.peak_bytes, budget);
      auto valid = Simulate(fast, fast_pass.schedule);
      ASSERT_TRUE(valid.ok()) << valid.error().message();
      EXPECT_EQ(slow_pass.schedule.steps, recompute.plan.schedule.steps);
      ++checked;
    }
  }
  EXPECT_GE(checked, 5);
}

}  // namespace
}  // namespace sysopt::remat
