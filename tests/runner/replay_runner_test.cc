#include "sysopt/runner/replay_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "../common/temp_dir.h"

namespace sysopt {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::WriteFile;

// bx in {1, 2, 4, 8}, by in {1, 2, 4} with bx * by <= 8, mode in {a, b}: (3 + 3 + 2 + 1) * 2 = 18
// configurations.
Spec SmallSpec() {
  auto spec = ParseSpec(json::parse(R"({
    "General": {"BenchmarkName": "small"},
    "ConfigurationSpace": {
      "TuningParameters": [
        {"Name": "bx", "Type": "int", "Values": "[1, 2, 4, 8]"},
        {"Name": "by", "Type": "int", "Values": "[1, 2, 4]"},
        {"Name": "mode", "Type": "string", "Values": "['a', 'b']"}],
      "Conditions": [{"Expression": "bx * by <= 8", "Parameters": ["bx", "by"]}]}})"),
                        "small.t1.json");
  EXPECT_TRUE(spec.ok()) << spec.error().message();
  return std::move(*spec);
}

void WriteGzip(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  gzclose(f);
}

json SmallCache() {
  json cache = json::object();
  // Times written by hand: the optimum is (4, 2, 'b') at 0.5 ms.
  cache["1,1,a"] = {{"bx", 1}, {"by", 1}, {"mode", "a"}, {"time", 4.0}, {"times", {4.0, 4.2}}};
  cache["1,2,a"] = {{"bx", 1}, {"by", 2}, {"mode", "a"}, {"time", 2.0}};
  cache["4,2,b"] = {{"bx", 4}, {"by", 2}, {"mode", "b"}, {"time", 0.5}};
  cache["4,2,a"] = {{"bx", 4}, {"by", 2}, {"mode", "a"}, {"time", 0.75}};
  cache["8,1,a"] = {{"bx", 8}, {"by", 1}, {"mode", "a"}, {"time", "CompileFailedConfig"}};
  cache["2,4,b"] = {{"bx", 2}, {"by", 4}, {"mode", "b"}, {"time", "RuntimeFailedConfig"}};
  // Outside the space: 8 * 4 > 8, and a value the space does not have.
  cache["8,4,a"] = {{"bx", 8}, {"by", 4}, {"mode", "a"}, {"time", 0.1}};
  cache["3,1,a"] = {{"bx", 3}, {"by", 1}, {"mode", "a"}, {"time", 0.1}};
  // No parameter fields: the values come from the key.
  cache["2,2,a"] = {{"time", 1.5}};
  return {{"tune_params_keys", {"bx", "by", "mode"}},
          {"tune_params", {{"bx", {1, 2, 4, 8}}, {"by", {1, 2, 4}}, {"mode", {"a", "b"}}}},
          {"objective", "time"},
          {"cache", cache}};
}

Config Make(int64_t bx, int64_t by, const std::string& mode) {
  return Config{Value(bx), Value(by), Value(mode)};
}

TEST(ReplayRunner, KernelTunerCacheAnswersRecordedTimesFailuresAndGaps) {
  TempDir dir;
  const Spec spec = SmallSpec();
  WriteGzip(dir.File("cache.json.gz"), SmallCache().dump());
  auto table = LoadReplayTable(dir.File("cache.json.gz"), spec);
  ASSERT_TRUE(table.ok()) << table.error().message();
  EXPECT_EQ(table->format, "kernel-tuner");
  EXPECT_EQ(table->entries.size(), 7u);
  EXPECT_EQ(table->failed, 2);
  EXPECT_EQ(table->outside, 2);
  ASSERT_NE(table->Best(true), nullptr);
  EXPECT_EQ(table->Best(true)->config, Make(4, 2, "b"));

  auto runner = MakeReplayRunner(std::make_shared<const ReplayTable>(std::move(*table)));
  RunResult r = runner->Run(Make(1, 1, "a"), 0);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.values, std::vector<double>{4.0});
  EXPECT_EQ(r.samples, (std::vector<std::vector<double>>{{4.0}, {4.2}}));
  r = runner->Run(Make(2, 2, "a"), 1);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.values, std::vector<double>{1.5});
  r = runner->Run(Make(8, 1, "a"), 2);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.failure_reason, HasSubstr("CompileFailedConfig"));
  r = runner->Run(Make(1, 4, "b"), 3);  // feasible, never recorded
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.failure_reason, HasSubstr("not in the recording"));
}

TEST(ReplayRunner, PlainT4ResultsFileIsReadToo) {
  TempDir dir;
  const Spec spec = SmallSpec();
  json results = json::array();
  results.push_back({{"configuration", {{"bx", 2}, {"by", 1}, {"mode", "b"}}},
                     {"invalidity", "correct"},
                     {"measurements", {{{"name", "time"}, {"value", 3.0}, {"unit", "ms"}}}},
                     {"times", {{"runtimes", {3.0, 3.1, 2.9}}}}});
  results.push_back({{"configuration", {{"bx", 4}, {"by", 1}, {"mode", "a"}}},
                     {"invalidity", "compile"},
                     {"measurements", json::array()}});
  WriteFile(dir.File("results.json"),
            json{{"schema_version", "1.0.0"}, {"results", results}}.dump());
  auto table = LoadReplayTable(dir.File("results.json"), spec);
  ASSERT_TRUE(table.ok()) << table.error().message();
  EXPECT_EQ(table->format, "t4");
  EXPECT_EQ(table->entries.size(), 2u);
  EXPECT_EQ(table->failed, 1);
  const ReplayEntry* e = table->Find(Make(2, 1, "b"));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->values, std::vector<double>{3.0});
  EXPECT_EQ(e->samples.size(), 3u);
  e = table->Find(Make(4, 1, "a"));
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->ok);
  EXPECT_THAT(e->failure, HasSubstr("compile"));
}

TEST(ReplayRunner, BadRecordingsNameTheFileAndTheField) {
  TempDir dir;
  const Spec spec = SmallSpec();
  struct Case {
    std::string text;
    std::string message;
  };
  json wrong_keys = SmallCache();
  wrong_keys["tune_params_keys"] = {"bx", "by"};
  json unknown_key = SmallCache();
  unknown_key["tune_params_keys"] = {"bx", "by", "mode", "extra"};
  json no_time = SmallCache();
  no_time["cache"]["1,1,a"].erase("time");
  json bad_time = SmallCache();
  bad_time["cache"]["1,1,a"]["time"] = json::array({1});
  json none_inside = SmallCache();
  none_inside["cache"] = {{"3,1,a", {{"time", 1.0}}}};
  const std::vector<Case> cases = {
      {"not json", "not valid JSON"},
      {std::string(100, '[') + std::string(100, ']'), "nested deeper than 64"},
      {"[1, 2]", "must be a JSON object"},
      {R"({"something": 1})", "neither a Kernel Tuner cache file"},
      {R"({"cache": []})", "\"cache\" must be an object"},
      {R"({"results": {}})", "\"results\" must be a list"},
      {R"({"results": [{"invalidity": "correct"}]})", "results[0] has no \"configuration\""},
      {wrong_keys.dump(), "lacks the space's parameter 'mode'"},
      {unknown_key.dump(), "names 'extra', which the space does not have"},
      {no_time.dump(), "cache[\"1,1,a\"] has no \"time\""},
      {bad_time.dump(), "cache[\"1,1,a\"].time must be a number or a failure name"},
      {none_inside.dump(), "no recorded configuration belongs to the space"},
  };
  for (const auto& c : cases) {
    WriteFile(dir.File("bad.json"), c.text);
    auto table = LoadReplayTable(dir.File("bad.json"), spec);
    ASSERT_FALSE(table.ok()) << c.text;
    EXPECT_EQ(table.error().kind(), ErrorKind::kInvalidInput);
    EXPECT_THAT(table.error().message(), HasSubstr("bad.json")) << c.text;
    EXPECT_THAT(table.error().message(), HasSubstr(c.message)) << c.text;
  }
  auto missing = LoadReplayTable(dir.File("absent.json"), spec);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message(), HasSubstr("absent.json"));
}

}  // namespace
}  // namespace sysopt
