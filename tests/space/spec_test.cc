#include "sysopt/space/spec.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace sysopt {
namespace {

using nlohmann::json;

// The format's example: a tiled matrix multiplication.
const char* kExample = R"({
  "name": "matmul",
  "parameters": [
    {"name": "tile_i", "type": "ordinal", "values": [4, 8, 16, 32, 64, 128, 384], "default": 384},
    {"name": "tile_j", "type": "ordinal", "values": [4, 8, 16, 32, 64, 128, 384], "default": 384},
    {"name": "tile_k", "type": "ordinal", "values": [4, 8, 16, 32, 64, 128, 384], "default": 384},
    {"name": "order",  "type": "permutation", "size": 3, "default": [0, 1, 2]},
    {"name": "unroll", "type": "ordinal", "values": [1, 2, 4, 8], "default": 1},
    {"name": "vec",    "type": "ordinal", "values": [1, 4, 8, 16], "default": 1},
    {"name": "alpha",  "type": "real", "low": 0.5, "high": 2.0, "log": true},
    {"name": "sched",  "type": "categorical", "values": ["static", "dynamic"]},
    {"name": "chunk",  "type": "integer", "low": 1, "high": 64, "step": 1}
  ],
  "constraints": ["tile_j % vec == 0", "tile_i * tile_k <= 16384 or tile_i == 384"],
  "objectives": [{"name": "time", "goal": "minimize"}, {"name": "gflops", "goal": "maximize"}],
  "run": {"command": ["sh", "measure.sh", "{tile_i}", "{order}"],
          "timeout_s": 60, "repeat": 3, "aggregate": "min", "working_dir": "work"}
})";

json Example() { return json::parse(kExample); }

std::string ErrorOf(const json& j) {
  auto spec = ParseSpec(j, "tune.json");
  EXPECT_FALSE(spec.ok()) << j.dump();
  if (spec.ok()) return "";
  EXPECT_EQ(spec.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(spec.error().message().find("tune.json"), std::string::npos)
      << spec.error().message();
  return spec.error().message();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(SpecTest, ExampleParses) {
  auto spec = ParseSpec(Example(), "matmul.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->name, "matmul");
  EXPECT_FALSE(spec->from_t1);
  EXPECT_FALSE(spec->budget.has_value());
  ASSERT_EQ(spec->space.size(), 9u);
  EXPECT_EQ(spec->space.parameters()[3].kind, ParamKind::kPermutation);
  EXPECT_EQ(spec->space.parameters()[6].kind, ParamKind::kReal);
  EXPECT_TRUE(spec->space.parameters()[6].log);
  EXPECT_EQ(spec->space.parameters()[7].kind, ParamKind::kCategorical);
  EXPECT_EQ(spec->space.constraints().size(), 2u);
  ASSERT_EQ(spec->objectives.size(), 2u);
  EXPECT_EQ(spec->objectives[0].name, "time");
  EXPECT_TRUE(spec->objectives[0].minimize);
  EXPECT_EQ(spec->objectives[1].name, "gflops");
  EXPECT_FALSE(spec->objectives[1].minimize);
  ASSERT_TRUE(spec->run.has_value());
  EXPECT_EQ(spec->run->command,
            (std::vector<std::string>{"sh", "measure.sh", "{tile_i}", "{order}"}));
  EXPECT_EQ(spec->run->timeout_s, 60);
  EXPECT_EQ(spec->run->repeat, 3);
  EXPECT_EQ(spec->run->aggregate, "min");
  EXPECT_EQ(spec->run->working_dir, "work");
  EXPECT_TRUE(spec->space.HasUserDefault());
  EXPECT_TRUE(spec->space.IsFeasible(spec->space.Default()));
  // The spec as a study stores it reads back to the same spec.
  auto again = ParseSpec(spec->ToJson(), "stored");
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->ToJson(), spec->ToJson());
}

TEST(SpecTest, ExampleFeasibleCountMatchesBruteForce) {
  // Without the real, categorical and integer extras: tiles, order, unroll and vec.
  json j = Example();
  j["parameters"] = json(std::vector<json>(j["parameters"].begin(), j["parameters"].begin() + 6));
  auto spec = ParseSpec(j, "matmul.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  const std::vector<int> tiles = {4, 8, 16, 32, 64, 128, 384};
  const std::vector<int> vecs = {1, 4, 8, 16};
  uint64_t count = 0;
  for (int ti : tiles) {
    for (int tj : tiles) {
      for (int tk : tiles) {
        for (int v : vecs) count += tj % v == 0 && (ti * tk <= 16384 || ti == 384);
      }
    }
  }
  count *= 6 * 4;  // orders of 3 elements, unroll factors
  EXPECT_EQ(static_cast<uint64_t>(spec->space.CountFeasible().value), count);
}

TEST(SpecTest, DefaultsWhenOptionalSectionsAreMissing) {
  auto spec = ParseSpec(
      {{"parameters", {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 3}}}}},
      "dir/my_spec.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->name, "my_spec");
  ASSERT_EQ(spec->objectives.size(), 1u);
  EXPECT_TRUE(spec->objectives[0].minimize);
  EXPECT_FALSE(spec->run.has_value());
  EXPECT_EQ(spec->space.constraints().size(), 0u);
}

TEST(SpecTest, ErrorsNameTheField) {
  json j = Example();
  j["paramters"] = json::array();
  std::string m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"paramters\"")) << m;

  j = Example();
  j["run"]["timeout"] = 5;
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "run")) << m;
  EXPECT_TRUE(Contains(m, "\"timeout\"")) << m;

  j = Example();
  j["name"] = 7;
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"name\"")) << m;

  j = Example();
  j["parameters"] = json::object();
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"parameters\"")) << m;

  j = Example();
  j["parameters"] = json::array();
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"parameters\"")) << m;

  j = Example();
  j["parameters"][2]["values"] = "big";
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "parameters[2]")) << m;
  EXPECT_TRUE(Contains(m, "\"values\"")) << m;
  EXPECT_TRUE(Contains(m, "\"big\"")) << m;

  j = Example();
  j["parameters"][4]["name"] = "tile_i";
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "tile_i")) << m;
  EXPECT_TRUE(Contains(m, "twice")) << m;

  j = Example();
  j["constraints"] = json::array({"tile_j % vec == 0", "tile_q < 8"});
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "tile_q < 8")) << m;
  EXPECT_TRUE(Contains(m, "'tile_q'")) << m;

  j = Example();
  j["constraints"] = json::array({"tile_j %% vec == 0"});
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "column 9")) << m;
  EXPECT_TRUE(Contains(m, "constraints[0]")) << m;

  j = Example();
  j["constraints"] = "tile_j > 4";
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"constraints\"")) << m;

  j = Example();
  j["constraints"] = json::array({5});
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"constraints\"")) << m;

  j = Example();
  j["run"]["aggregate"] = "max";
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"aggregate\"")) << m;
  EXPECT_TRUE(Contains(m, "\"max\"")) << m;

  j = Example();
  j["objectives"][1]["goal"] = "fastest";
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "objectives[1]")) << m;
  EXPECT_TRUE(Contains(m, "\"goal\"")) << m;
  EXPECT_TRUE(Contains(m, "\"fastest\"")) << m;

  j = Example();
  j["objectives"] = json::array();
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"objectives\"")) << m;

  j = Example();
  j["objectives"][1]["name"] = "time";
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"time\"")) << m;

  j = Example();
  j["run"]["repeat"] = 0;
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"repeat\"")) << m;
  EXPECT_TRUE(Contains(m, "got 0")) << m;

  j = Example();
  j["run"]["repeat"] = 2.5;
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"repeat\"")) << m;

  j = Example();
  j["run"]["timeout_s"] = "1m";
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"timeout_s\"")) << m;
  EXPECT_TRUE(Contains(m, "\"1m\"")) << m;

  j = Example();
  j["run"]["command"] = json::array();
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"command\"")) << m;

  j = Example();
  j["run"]["command"] = json::array({"sh", 3});
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"command\"")) << m;

  j = Example();
  j["run"]["working_dir"] = false;
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"working_dir\"")) << m;

  m = ErrorOf(json::array());
  EXPECT_TRUE(Contains(m, "object")) << m;
}

// A small T1 document: two numeric parameters with their values written both ways, a string
// parameter, conditions as objects and as a bare string, and the sections this tool ignores.
const char* kT1 = R"({
  "General": {"BenchmarkName": "gemm_small", "OutputFormat": "JSON"},
  "ConfigurationSpace": {
    "TuningParameters": [
      {"Name": "MWG", "Type": "int", "Values": "[16, 32, 64]", "Default": 32},
      {"Name": "MDIMC", "Type": "int", "Values": [8, 16, 32], "Default": 8},
      {"Name": "VWM", "Type": "int", "Values": "[1, 2, 4, 8]", "Default": 1},
      {"Name": "LAYOUT", "Type": "string", "Values": "['row', 'col']", "Default": "row"}
    ],
    "Conditions": [
      {"Expression": "MWG % (MDIMC * VWM) == 0", "Parameters": ["MWG", "MDIMC", "VWM"]},
      {"Expression": "LAYOUT == 'row' or VWM <= 2", "Parameters": ["LAYOUT", "VWM"]}
    ]
  },
  "KernelSpecification": {"Language": "OpenCL", "KernelName": "gemm", "KernelFile": "gemm.cl",
                          "GlobalSize": {"X": "1024"}, "LocalSize": {"X": "MDIMC"}},
  "Search": {"Name": "Random"},
  "Budget": [{"Type": "ConfigurationCount", "BudgetValue": 40}]
})";

TEST(SpecTest, T1DocumentParses) {
  auto spec = ParseSpec(json::parse(kT1), "dir/gemm.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_TRUE(spec->from_t1);
  EXPECT_EQ(spec->name, "gemm_small");
  ASSERT_EQ(spec->space.size(), 4u);
  const auto& ps = spec->space.parameters();
  EXPECT_EQ(ps[0].name, "MWG");
  EXPECT_EQ(ps[0].kind, ParamKind::kOrdinal);
  EXPECT_EQ(ps[0].values, (std::vector<Value>{Value(int64_t{16}), Value(int64_t{32}),
                                              Value(int64_t{64})}));
  EXPECT_EQ(ps[1].values, (std::vector<Value>{Value(int64_t{8}), Value(int64_t{16}),
                                              Value(int64_t{32})}));
  EXPECT_EQ(ps[3].kind, ParamKind::kCategorical);
  EXPECT_EQ(ps[3].values,
            (std::vector<Value>{Value(std::string("row")), Value(std::string("col"))}));
  EXPECT_EQ(spec->space.Default(),
            (Config{Value(int64_t{32}), Value(int64_t{8}), Value(int64_t{1}),
                    Value(std::string("row"))}));
  ASSERT_EQ(spec->objectives.size(), 1u);
  EXPECT_TRUE(spec->objectives[0].minimize);
  EXPECT_EQ(spec->budget, 40);
  // The budget written as a single object rather than the schema's list is read too.
  json single = json::parse(kT1);
  single["Budget"] = {{"Type", "ConfigurationCount"}, {"BudgetValue", 25}};
  auto other = ParseSpec(single, "gemm.json");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->budget, 25);
  uint64_t count = 0;
  for (int mwg : {16, 32, 64}) {
    for (int mdimc : {8, 16, 32}) {
      for (int vwm : {1, 2, 4, 8}) {
        for (bool row : {true, false}) count += mwg % (mdimc * vwm) == 0 && (row || vwm <= 2);
      }
    }
  }
  EXPECT_EQ(static_cast<uint64_t>(spec->space.CountFeasible().value), count);
}

TEST(SpecTest, T1ErrorsNameTheField) {
  json j = json::parse(kT1);
  j["ConfigurationSpace"]["TuningParameters"][1]["Values"] = "[8, 16";
  std::string m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "TuningParameters[1]")) << m;
  EXPECT_TRUE(Contains(m, "\"Values\"")) << m;

  j = json::parse(kT1);
  j["ConfigurationSpace"]["TuningParameters"][0]["Type"] = "complex";
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"Type\"")) << m;
  EXPECT_TRUE(Contains(m, "complex")) << m;

  j = json::parse(kT1);
  j["ConfigurationSpace"]["TuningParameters"][0]["Type"] = 3;
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"Type\"")) << m;

  j = json::parse(kT1);
  j["ConfigurationSpace"]["TuningParameters"][0]["Default"] = 48;
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "TuningParameters[0]")) << m;
  EXPECT_TRUE(Contains(m, "48")) << m;

  j = json::parse(kT1);
  j["ConfigurationSpace"]["Conditions"][0]["Expression"] = "MWG % WPT == 0";
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "'WPT'")) << m;

  j = json::parse(kT1);
  j["ConfigurationSpace"]["TuningParameters"][0]["Range"] = "[1, 2]";
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"Range\"")) << m;

  j = json::parse(kT1);
  j["ConfigurationSpace"]["TuningParameters"] = json::array();
  m = ErrorOf(j);
  EXPECT_TRUE(Contains(m, "\"TuningParameters\"")) << m;
}

class SpecFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sysopt_spec_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(SpecFileTest, LoadSpecResolvesTheWorkingDirectory) {
  auto spec = LoadSpec(Write("matmul.json", kExample));
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  ASSERT_TRUE(spec->run.has_value());
  EXPECT_EQ(spec->run->working_dir, (std::filesystem::absolute(dir_) / "work").lexically_normal());
  json no_dir = Example();
  no_dir["run"].erase("working_dir");
  auto plain = LoadSpec(Write("plain.json", no_dir.dump()));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->run->working_dir, std::filesystem::absolute(dir_).lexically_normal());
}

TEST_F(SpecFileTest, LoadSpecReportsMissingAndInvalidFiles) {
  const std::string missing = (dir_ / "absent.json").string();
  auto a = LoadSpec(missing);
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(Contains(a.error().message(), missing)) << a.error().message();
  const std::string broken = Write("broken.json", "{\"name\": \"x\",, }");
  auto b = LoadSpec(broken);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(Contains(b.error().message(), broken)) << b.error().message();
  EXPECT_TRUE(Contains(b.error().message(), "JSON")) << b.error().message();
  const std::string wrong = Write("wrong.json", "{\"parameters\": []}");
  auto c = LoadSpec(wrong);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Contains(c.error().message(), wrong)) << c.error().message();
}

TEST_F(SpecFileTest, DeeplyNestedSpecIsRefusedWithTheFileNamed) {
  // A parameter's values nested 100,000 deep used to overflow the stack in the error message.
  const std::string deep =
      "{\"parameters\": [{\"name\": \"a\", \"type\": \"ordinal\", \"values\": " +
      std::string(100'000, '[') + std::string(100'000, ']') + "}]}";
  const std::string path = Write("deep.json", deep);
  auto spec = LoadSpec(path);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(spec.error().message(), path + ": JSON nested deeper than 64 levels at byte 120");
  // Inside a T1 "Values" string too.
  const json t1 = json::parse(
      "{\"ConfigurationSpace\": {\"TuningParameters\": [{\"Name\": \"a\", "
      "\"Values\": \"" +
      std::string(100'000, '[') + std::string(100'000, ']') + "\"}]}}");
  auto t = ParseSpec(t1, "t1.json");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(Contains(t.error().message(), "nested deeper than 64 levels")) << t.error().message();
}

}  // namespace
}  // namespace sysopt

namespace sysopt {
namespace {

TEST(SpecTest, RunSectionTimingFields) {
  json j = {{"parameters", {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 3}}}},
            {"run",
             {{"command", {"./prog", "{x}"}},
              {"objective", "wall-time"},
              {"warmup", 2},
              {"check", {"cmp", "out.txt", "expected.txt"}}}}};
  auto spec = ParseSpec(j, "t.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->run->objective, "wall-time");
  EXPECT_EQ(spec->run->warmup, 2);
  EXPECT_EQ(spec->run->check, (std::vector<std::string>{"cmp", "out.txt", "expected.txt"}));
  EXPECT_FALSE(spec->run->timeout_s.has_value());  // absent: the default derived at run time
  // A wall-time run measures one objective, named "time" unless declared.
  ASSERT_EQ(spec->objectives.size(), 1u);
  EXPECT_EQ(spec->objectives[0].name, "time");
  EXPECT_EQ(spec->ToJson()["run"]["objective"], "wall-time");
  EXPECT_FALSE(spec->ToJson()["run"].contains("timeout_s"));

  j["run"]["timeout_s"] = 0;  // explicitly no limit
  EXPECT_EQ(ParseSpec(j, "t.json")->run->timeout_s, std::optional<double>(0));

  json bad = j;
  bad["run"]["objective"] = "cpu-time";
  auto e = ParseSpec(bad, "t.json");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message().find("\"objective\""), std::string::npos) << e.error().message();
  EXPECT_NE(e.error().message().find("cpu-time"), std::string::npos) << e.error().message();
  bad = j;
  bad["objectives"] = {{{"name", "a"}}, {{"name", "b"}}};
  EXPECT_FALSE(ParseSpec(bad, "t.json").ok());
  bad = j;
  bad["run"]["check"] = "cmp a b";
  EXPECT_FALSE(ParseSpec(bad, "t.json").ok());
  bad = j;
  bad["run"]["warmup"] = -1;
  EXPECT_FALSE(ParseSpec(bad, "t.json").ok());
}

TEST(SpecTest, FloatAndIntAreDocumentedAliasesOfRealAndInteger) {
  json j = {{"parameters",
             {{{"name", "a"}, {"type", "float"}, {"low", 0.5}, {"high", 2.0}},
              {{"name", "b"}, {"type", "int"}, {"low", 1}, {"high", 4}}}}};
  auto spec = ParseSpec(j, "t.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->space.parameters()[0].kind, ParamKind::kReal);
  EXPECT_EQ(spec->space.parameters()[1].kind, ParamKind::kInteger);
  // Stored under the canonical names, so a spec written either way resumes the same study.
  EXPECT_EQ(spec->ToJson()["parameters"][0]["type"], "real");
  EXPECT_EQ(spec->ToJson()["parameters"][1]["type"], "integer");
}

TEST(SpecTest, T1BenchmarkSettingsGiveRepeatsTimeoutAndTimeLimit) {
  json j = {{"ConfigurationSpace",
             {{"TuningParameters", {{{"Name", "a"}, {"Type", "int"}, {"Values", "[1, 2]"}}}}}},
            {"KernelSpecification",
             {{"KernelName", "k"},
              {"BenchmarkConfig", {{"Iterations", 3}, {"Timeout", 60}, {"WarmupIterations", 1}}}}},
            {"Budget",
             {{{"Type", "ConfigurationCount"}, {"BudgetValue", 20}},
              {{"Type", "TuningDuration"}, {"BudgetValue", 600}}}}};
  auto spec = ParseSpec(j, "t1.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  ASSERT_TRUE(spec->run.has_value());
  EXPECT_TRUE(spec->run->command.empty());  // the command comes after --
  EXPECT_EQ(spec->run->repeat, 3);
  EXPECT_EQ(spec->run->timeout_s, std::optional<double>(60));
  EXPECT_EQ(spec->run->warmup, 1);
  EXPECT_EQ(spec->budget, 20);
  EXPECT_EQ(spec->time_limit_s, std::optional<double>(600));

  json bad = j;
  bad["KernelSpecification"]["BenchmarkConfig"]["Iterations"] = 0;
  auto e = ParseSpec(bad, "t1.json");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message().find("t1.json: KernelSpecification.BenchmarkConfig"),
            std::string::npos)
      << e.error().message();
  EXPECT_NE(e.error().message().find("\"Iterations\""), std::string::npos) << e.error().message();
  bad = j;
  bad["KernelSpecification"]["BenchmarkConfig"]["Repeats"] = 2;
  e = ParseSpec(bad, "t1.json");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message().find("\"Repeats\""), std::string::npos) << e.error().message();
}

}  // namespace
}  // namespace sysopt
