#include "sysopt/remat/graph.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "sysopt/remat/size.h"
#include "sysopt/remat/synthetic.h"

namespace sysopt::remat {
namespace {

using nlohmann::json;

json Node(int id, std::vector<int> inputs, int64_t bytes = 4, double cost = 1.0) {
  return {{"id", id},         {"name", "n" + std::to_string(id)},
          {"op", "x"},        {"inputs", inputs},
          {"bytes", bytes},   {"cost", cost},
          {"backward", false}};
}

json ValidGraph() {
  return {{"name", "g"},
          {"nodes", {Node(10, {}), Node(11, {10}), Node(12, {10, 11})}},
          {"outputs", {12}},
          {"fixed_bytes", 100}};
}

std::string ErrorOf(const json& j) {
  auto g = GraphFromJson(j, "g.json");
  EXPECT_FALSE(g.ok());
  if (g.ok()) return "";
  EXPECT_EQ(g.error().kind(), ErrorKind::kInvalidInput);
  return g.error().message();
}

TEST(GraphTest, ParsesIdsIntoIndicesAndUsers) {
  auto g = GraphFromJson(ValidGraph(), "g.json");
  ASSERT_TRUE(g.ok()) << g.error().message();
  ASSERT_EQ(g->size(), 3);
  EXPECT_EQ(g->nodes[2].inputs, (std::vector<int>{0, 1}));
  EXPECT_EQ(g->users[0], (std::vector<int>{1, 2}));
  EXPECT_EQ(g->outputs, (std::vector<int>{2}));
  EXPECT_EQ(g->fixed_bytes, 100);
  EXPECT_EQ(g->IndexOf(11), 1);
  EXPECT_DOUBLE_EQ(g->TotalCost(), 3.0);
}

TEST(GraphTest, RejectsDanglingInput) {
  json j = ValidGraph();
  j["nodes"][1]["inputs"] = {99};
  const std::string m = ErrorOf(j);
  EXPECT_NE(m.find("g.json"), std::string::npos);
  EXPECT_NE(m.find("99"), std::string::npos);
}

TEST(GraphTest, RejectsCycleNamingItsNodes) {
  json j = ValidGraph();
  j["nodes"][0]["inputs"] = {12};
  const std::string m = ErrorOf(j);
  EXPECT_NE(m.find("cycle"), std::string::npos) << m;
  EXPECT_NE(m.find("10"), std::string::npos);
  EXPECT_NE(m.find("12"), std::string::npos);
}

TEST(GraphTest, RejectsSelfLoop) {
  json j = ValidGraph();
  j["nodes"][1]["inputs"] = {11};
  EXPECT_NE(ErrorOf(j).find("cycle"), std::string::npos);
}

TEST(GraphTest, RejectsNodesOutOfTopologicalOrder) {
  json j = {{"name", "g"}, {"nodes", {Node(1, {2}), Node(2, {})}}, {"outputs", {1}}};
  EXPECT_NE(ErrorOf(j).find("topological"), std::string::npos);
}

TEST(GraphTest, RejectsNegativeSizeAndCost) {
  json j = ValidGraph();
  j["nodes"][1]["bytes"] = -5;
  const std::string m = ErrorOf(j);
  EXPECT_NE(m.find("bytes"), std::string::npos);
  EXPECT_NE(m.find("-5"), std::string::npos);
  j = ValidGraph();
  j["nodes"][1]["cost"] = -1.5;
  EXPECT_NE(ErrorOf(j).find("cost"), std::string::npos);
  j = ValidGraph();
  j["fixed_bytes"] = -1;
  EXPECT_NE(ErrorOf(j).find("fixed_bytes"), std::string::npos);
}

TEST(GraphTest, RejectsDuplicateIdsMissingFieldsAndBadOutputs) {
  json j = ValidGraph();
  j["nodes"][1]["id"] = 10;
  EXPECT_NE(ErrorOf(j).find("duplicate id 10"), std::string::npos);
  j = ValidGraph();
  j["nodes"][0].erase("bytes");
  EXPECT_NE(ErrorOf(j).find("'bytes'"), std::string::npos);
  j = ValidGraph();
  j["outputs"] = {42};
  EXPECT_NE(ErrorOf(j).find("42"), std::string::npos);
  j = ValidGraph();
  j["outputs"] = json::array();
  EXPECT_NE(ErrorOf(j).find("outputs"), std::string::npos);
  j = ValidGraph();
  j.erase("nodes");
  EXPECT_NE(ErrorOf(j).find("nodes"), std::string::npos);
  j = ValidGraph();
  j["nodes"][2]["backward"] = "yes";
  EXPECT_NE(ErrorOf(j).find("backward"), std::string::npos);
}

TEST(GraphTest, JsonRoundTripPreservesEverything) {
  auto g = MakeTrainingGraph("res", ResidualOps(7, 3, 5, 2.0), 17, 8);
  ASSERT_TRUE(g.ok());
  auto back = GraphFromJson(GraphToJson(*g), "mem");
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->size(), g->size());
  for (int i = 0; i < g->size(); ++i) {
    EXPECT_EQ(back->nodes[i].id, g->nodes[i].id);
    EXPECT_EQ(back->nodes[i].inputs, g->nodes[i].inputs);
    EXPECT_EQ(back->nodes[i].bytes, g->nodes[i].bytes);
    EXPECT_EQ(back->nodes[i].backward, g->nodes[i].backward);
  }
  EXPECT_EQ(back->outputs, g->outputs);
  EXPECT_EQ(back->fixed_bytes, 17);
  EXPECT_EQ(back->batch_size, 8);
}

TEST(GraphTest, ScaleMultipliesActivationsNotFixedBytes) {
  auto g = MakeTrainingGraph("c", ChainOps(3, 10, 1.5), 1000, 4);
  ASSERT_TRUE(g.ok());
  const Graph s = ScaleGraph(*g, 2.5);
  EXPECT_EQ(s.fixed_bytes, 1000);
  EXPECT_EQ(s.nodes[0].bytes, 25);
  EXPECT_DOUBLE_EQ(s.nodes[0].cost, 3.75);
  EXPECT_DOUBLE_EQ(s.TotalCost(), 2.5 * g->TotalCost());
}

TEST(GraphTest, LoadGraphReportsMissingFileAndBadJson) {
  auto missing = LoadGraph("/nonexistent/graph.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(missing.error().message().find("/nonexistent/graph.json"), std::string::npos);
}

TEST(GraphTest, SizesBeyondTheLimitAreRefusedNotWrapped) {
  json j = ValidGraph();
  j["nodes"][1]["bytes"] = json::parse("18446744073709551615");
  EXPECT_EQ(ErrorOf(j),
            "g.json: nodes[1] (id 11): field 'bytes' (18446744073709551615) is above the limit of "
            "4611686018427387904 bytes");
  j = ValidGraph();
  j["fixed_bytes"] = json::parse("9223372036854775808");
  EXPECT_NE(ErrorOf(j).find("field 'fixed_bytes' must be an integer of at most 2^62"),
            std::string::npos);
  j = ValidGraph();
  j["nodes"][2]["bytes"] = int64_t{1} << 62;
  EXPECT_NE(ErrorOf(j).find("nodes[2] (id 12): field 'bytes' (4611686018427387904) brings"),
            std::string::npos);
}

TEST(GraphTest, LoadGraphRefusesDeepNesting) {
  const std::string path = ::testing::TempDir() + "/sysopt_deep_graph.json";
  std::ofstream(path) << "{\"nodes\": " << std::string(100'000, '[') << std::string(100'000, ']')
                      << "}";
  auto g = LoadGraph(path);
  std::remove(path.c_str());
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(g.error().message(), path + ": JSON nested deeper than 64 levels at byte 73");
}

TEST(SizeTest, ParsesUnits) {
  EXPECT_EQ(*ParseSize("6GiB"), int64_t{6} << 30);
  EXPECT_EQ(*ParseSize("512MB"), 512000000);
  EXPECT_EQ(*ParseSize("1.5G"), int64_t{3} << 29);
  EXPECT_EQ(*ParseSize("1048576"), 1048576);
  EXPECT_EQ(*ParseSize(" 2 kib "), 2048);
  EXPECT_EQ(*ParseSize("3B"), 3);
}

TEST(SizeTest, RejectsGarbage) {
  for (const char* bad : {"", "GiB", "6XB", "-5", "1e99TB"}) {
    auto s = ParseSize(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_EQ(s.error().kind(), ErrorKind::kInvalidInput);
    }
  }
}

TEST(SizeTest, FormatsBinaryUnits) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(int64_t{3} << 29), "1.5 GiB");
}

}  // namespace
}  // namespace sysopt::remat
