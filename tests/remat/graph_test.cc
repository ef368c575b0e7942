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

TEST(GraphTest, ModulePathAndUnknownOptionalFieldsAreAccepted) {
  json j = ValidGraph();
  j["nodes"][1]["module"] = "layer1.0.conv1";
  j["nodes"][2]["extra_note"] = {{"anything", 1}};  // unknown optional fields are ignored
  auto g = GraphFromJson(j, "g.json");
  ASSERT_TRUE(g.ok()) << g.error().message();
  EXPECT_EQ(g->nodes[0].module, "");
  EXPECT_EQ(g->nodes[1].module, "layer1.0.conv1");
  // Written back, and only where a node has one.
  const json out = GraphToJson(*g);
  EXPECT_EQ(out["nodes"][1]["module"], "layer1.0.conv1");
  EXPECT_FALSE(out["nodes"][0].contains("module"));
  auto again = GraphFromJson(out, "out.json");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->nodes[1].module, "layer1.0.conv1");

  j["nodes"][1]["module"] = 7;
  const std::string message = ErrorOf(j);
  EXPECT_NE(message.find("g.json"), std::string::npos) << message;
  EXPECT_NE(message.find("'module'"), std::string::npos) << message;
  EXPECT_NE(message.find("id 11"), std::string::npos) << message;
}

TEST(GraphTest, LoadGraphRecordsTheFilesContentHash) {
  const std::string path = ::testing::TempDir() + "/hash_graph.json";
  const std::string text = ValidGraph().dump();
  {
    std::ofstream out(path);
    out << text;
  }
  auto g = LoadGraph(path);
  ASSERT_TRUE(g.ok()) << g.error().message();
  // FNV-1a 64 of the file's bytes, computed here independently.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  char expected[17];
  std::snprintf(expected, sizeof expected, "%016llx", static_cast<unsigned long long>(h));
  EXPECT_EQ(g->content_hash, expected);
  // One byte more (a space: the same graph) gives another hash.
  {
    std::ofstream out(path);
    out << text << " ";
  }
  auto g2 = LoadGraph(path);
  ASSERT_TRUE(g2.ok());
  EXPECT_NE(g2->content_hash, g->content_hash);
  std::remove(path.c_str());
}

TEST(GraphTest, RandomNetworksAreSeededAndShapedLikeTrainingGraphs) {
  const std::vector<ForwardOp> a = RandomNetworkOps(400, 5);
  const std::vector<ForwardOp> b = RandomNetworkOps(400, 5);
  const std::vector<ForwardOp> c = RandomNetworkOps(400, 6);
  ASSERT_EQ(a.size(), 400u);
  int skips = 0, dense = 0, views = 0, differ = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].inputs, b[k].inputs);
    EXPECT_EQ(a[k].bytes, b[k].bytes);
    if (a[k].inputs != c[k].inputs || a[k].bytes != c[k].bytes) ++differ;
    if (k > 0) {
      ASSERT_FALSE(a[k].inputs.empty());
      EXPECT_EQ(a[k].inputs[0], static_cast<int>(k) - 1);  // the chain
    }
    for (int input : a[k].inputs) EXPECT_LT(input, static_cast<int>(k));
    if (a[k].inputs.size() == 2) ++skips;
    if (a[k].inputs.size() > 2) ++dense;
    if (a[k].bytes == 0) ++views;
    EXPECT_GE(a[k].cost, 0.0);
  }
  EXPECT_GT(skips, 40);
  EXPECT_GT(dense, 5);
  EXPECT_GT(views, 10);
  EXPECT_GT(differ, 100);
  // Sizes fall from the first stage to the last.
  double first = 0, last = 0;
  for (int k = 0; k < 80; ++k) first += static_cast<double>(a[k].bytes);
  for (int k = 320; k < 400; ++k) last += static_cast<double>(a[k].bytes);
  EXPECT_GT(first, 4 * last);
  auto g = MakeTrainingGraph("random", a);
  ASSERT_TRUE(g.ok()) << g.error().message();
  EXPECT_EQ(g->size(), 800);
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
