#include "sysopt/remat/schedule.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "sysopt/remat/synthetic.h"

namespace sysopt::remat {
namespace {

using nlohmann::json;

// a(3 bytes) -> b(5) -> c(7), a -> c; output c; fixed 100.
Graph Triangle() {
  std::vector<Node> nodes(3);
  nodes[0] = {0, "a", "x", {}, 3, 1.0, false, ""};
  nodes[1] = {1, "b", "x", {0}, 5, 2.0, false, ""};
  nodes[2] = {2, "c", "x", {0, 1}, 7, 4.0, false, ""};
  return *MakeGraph("tri", nodes, {2}, 100);
}

Step C(int v) { return {Step::Kind::kCompute, v}; }
Step F(int v) { return {Step::Kind::kFree, v}; }

TEST(SimulateTest, ComputesExactPeakAndCost) {
  const Graph g = Triangle();
  // a, b, free? no: c needs a and b. Peak at c: 100 + 3 + 5 + 7 = 115.
  auto sim = Simulate(g, {{C(0), C(1), C(2), F(0), F(1)}});
  ASSERT_TRUE(sim.ok()) << sim.error().message();
  EXPECT_EQ(sim->peak_bytes, 115);
  EXPECT_DOUBLE_EQ(sim->cost, 7.0);
  EXPECT_EQ(sim->computes, 3);
  EXPECT_EQ(sim->recomputes, 0);
}

TEST(SimulateTest, RecordsTheMemoryAfterEachStep) {
  const Graph g = Triangle();
  std::vector<int64_t> memory;
  auto sim = Simulate(g, {{C(0), C(1), C(2), F(0), F(1)}}, &memory);
  ASSERT_TRUE(sim.ok());
  // Fixed 100, then + a(3), + b(5), + c(7), - a, - b.
  EXPECT_EQ(memory, (std::vector<int64_t>{103, 108, 115, 112, 107}));
}

TEST(SimulateTest, SizesNearTheInt64LimitAreRefusedNotWrapped) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<Node> nodes(2);
  nodes[0] = {0, "a", "x", {}, kMax / 2 + 1, 1.0, false, ""};
  nodes[1] = {1, "b", "x", {0}, kMax / 2 + 1, 1.0, false, ""};
  // The reader refuses such a graph, naming the node that crosses the limit...
  auto refused = MakeGraph("big", nodes, {1}, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message(),
            "graph 'big': nodes[1] (id 1): field 'bytes' (4611686018427387904) brings the graph's "
            "total size above the limit of 4611686018427387904 bytes");
  EXPECT_FALSE(MakeGraph("big", {nodes[0]}, {0}, kMax).ok());
  // ...and the simulator, given one built by hand, reports the overflow instead of a peak.
  Graph g = Triangle();
  g.nodes[1].bytes = kMax - 50;
  auto sim = Simulate(g, {{C(0), C(1), C(2), F(0), F(1)}});
  ASSERT_FALSE(sim.ok());
  EXPECT_EQ(sim.error().message(),
            "schedule step 1: computing node id 1 ('b', 9223372036854775757 bytes) overflows the "
            "memory count");
  // The limit itself is fine.
  nodes[0].bytes = kMaxGraphBytes - 10;
  auto at_limit = MakeGraph("edge", {nodes[0]}, {0}, 10);
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message();
  auto peak = Simulate(*at_limit, {{C(0)}});
  ASSERT_TRUE(peak.ok());
  EXPECT_EQ(peak->peak_bytes, kMaxGraphBytes);
}

TEST(SimulateTest, CountsRecomputationCostAndLowerPeak) {
  const Graph g = Triangle();
  // Compute a, b, drop a, recompute a, then c: peak = 100 + 5 + 3 + 7 = 115 again, cost 8.
  auto sim = Simulate(g, {{C(0), C(1), F(0), C(0), C(2), F(0), F(1)}});
  ASSERT_TRUE(sim.ok());
  EXPECT_DOUBLE_EQ(sim->cost, 8.0);
  EXPECT_EQ(sim->recomputes, 1);
}

TEST(SimulateTest, CatchesMissingInput) {
  auto sim = Simulate(Triangle(), {{C(0), C(2)}});
  ASSERT_FALSE(sim.ok());
  EXPECT_NE(sim.error().message().find("input id 1 is not resident"), std::string::npos)
      << sim.error().message();
}

TEST(SimulateTest, CatchesInputFreedBeforeUse) {
  auto sim = Simulate(Triangle(), {{C(0), C(1), F(0), C(2)}});
  ASSERT_FALSE(sim.ok());
  EXPECT_NE(sim.error().message().find("step 3"), std::string::npos);
}

TEST(SimulateTest, CatchesDoubleCompute) {
  auto sim = Simulate(Triangle(), {{C(0), C(0)}});
  ASSERT_FALSE(sim.ok());
  EXPECT_NE(sim.error().message().find("already resident"), std::string::npos);
}

TEST(SimulateTest, CatchesFreeOfAbsentTensor) {
  auto sim = Simulate(Triangle(), {{C(0), F(1)}});
  ASSERT_FALSE(sim.ok());
  EXPECT_NE(sim.error().message().find("not resident"), std::string::npos);
  auto twice = Simulate(Triangle(), {{C(0), F(0), F(0)}});
  ASSERT_FALSE(twice.ok());
}

TEST(SimulateTest, CatchesMissingOutputAtEnd) {
  auto freed = Simulate(Triangle(), {{C(0), C(1), C(2), F(2)}});
  ASSERT_FALSE(freed.ok());
  EXPECT_NE(freed.error().message().find("output node id 2"), std::string::npos);
  auto never = Simulate(Triangle(), {{C(0), C(1)}});
  ASSERT_FALSE(never.ok());
}

TEST(SimulateTest, CatchesOutOfRangeNode) {
  auto sim = Simulate(Triangle(), {{C(0), C(7)}});
  ASSERT_FALSE(sim.ok());
  EXPECT_EQ(sim.error().kind(), ErrorKind::kInvalidInput);
}

TEST(ScheduleTest, ComputeOrderFreesAtLastUse) {
  const Graph g = Triangle();
  const Schedule s = ScheduleFromComputeOrder(g, {0, 1, 2});
  // a and b are last read by c; c is an output and stays.
  EXPECT_EQ(s.steps, (std::vector<Step>{C(0), C(1), C(2), F(0), F(1)}));
  const Schedule r = ScheduleFromComputeOrder(g, {0, 1, 0, 2});
  EXPECT_EQ(r.steps, (std::vector<Step>{C(0), C(1), F(0), C(0), C(2), F(0), F(1)}));
  EXPECT_TRUE(Simulate(g, r).ok());
}

TEST(ScheduleTest, KeepEverythingOnChainMatchesHandCount) {
  // Chain f0..f3 then g3..g0 (unit sizes): at g3, f0..f3 and g3 are resident: peak 5.
  auto g = MakeTrainingGraph("chain4", ChainOps(4));
  ASSERT_TRUE(g.ok());
  auto sim = Simulate(*g, KeepEverythingSchedule(*g));
  ASSERT_TRUE(sim.ok());
  EXPECT_EQ(sim->peak_bytes, 5);
  EXPECT_DOUBLE_EQ(sim->cost, 12.0);
}

TEST(ScheduleTest, JsonRoundTripUsesIds) {
  const Graph g = Triangle();
  const Schedule s = ScheduleFromComputeOrder(g, {0, 1, 2});
  const json j = ScheduleToJson(g, s);
  EXPECT_EQ(j["steps"][0], (json{{"compute", 0}}));
  EXPECT_EQ(j["steps"][3], (json{{"free", 0}}));
  auto back = ScheduleFromJson(g, j, "s.json");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->steps, s.steps);
}

TEST(ScheduleTest, JsonRejectsMalformedSteps) {
  const Graph g = Triangle();
  for (const json& bad :
       {json{{"steps", {{{"compute", 99}}}}}, json{{"steps", {{{"compute", 0}, {"free", 0}}}}},
        json{{"steps", {{{"run", 0}}}}}, json{{"steps", {{{"compute", "a"}}}}}, json::array()}) {
    auto s = ScheduleFromJson(g, bad, "s.json");
    EXPECT_FALSE(s.ok()) << bad.dump();
    if (!s.ok()) {
      EXPECT_NE(s.error().message().find("s.json"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace sysopt::remat
