// End-to-end tests of `sysopt tune --replay`: a recorded space answered from a Kernel Tuner cache
// file, through the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/run_process.h"
#include "common/temp_dir.h"

namespace {

using nlohmann::json;
using sysopt::testing::TempDir;
using sysopt::testing::WriteFile;
using ::testing::HasSubstr;

const std::string kSysopt = std::string(SYSOPT_BINARY_DIR) + "/sysopt";

sysopt::testing::ProcessResult Sysopt(const std::vector<std::string>& args) {
  return sysopt::testing::RunProcess(kSysopt, args, {}, 60);
}

// A T1 space of 5 x 4 x 2 = 40 combinations, 34 of them feasible (bx * by <= 32 excludes
// (16, 4) and (16, 8) for both u and (8, 8) for both u).
const char* kSpace = R"({
  "General": {"BenchmarkName": "replayed"},
  "ConfigurationSpace": {
    "TuningParameters": [
      {"Name": "bx", "Type": "int", "Values": "[1, 2, 4, 8, 16]"},
      {"Name": "by", "Type": "int", "Values": "[1, 2, 4, 8]"},
      {"Name": "u", "Type": "int", "Values": "[0, 1]"}],
    "Conditions": [{"Expression": "bx * by <= 32", "Parameters": ["bx", "by"]}]}})";

// Every feasible configuration but (16, 2, 1) is recorded; (16, 1, *) failed to compile; one
// record lies outside the space. The times are a formula written out here; its optimum over the
// recorded successes is bx = 4, by = 8, u = 1: 10 / 32 + 0.5 + 0 = 0.8125.
json Cache() {
  json cache = json::object();
  for (int bx : {1, 2, 4, 8, 16}) {
    for (int by : {1, 2, 4, 8}) {
      for (int u : {0, 1}) {
        if (bx * by > 32 || (bx == 16 && by == 2 && u == 1)) continue;
        const std::string key =
            std::to_string(bx) + "," + std::to_string(by) + "," + std::to_string(u);
        json time = 10.0 / (bx * by) + (u ? 0.5 : 1.0) + 0.3 * std::abs(bx - 4);
        if (bx == 16 && by == 1) time = "CompileFailedConfig";
        cache[key] = {{"bx", bx}, {"by", by}, {"u", u}, {"time", time}};
      }
    }
  }
  cache["32,1,0"] = {{"bx", 32}, {"by", 1}, {"u", 0}, {"time", 0.1}};
  return {{"tune_params_keys", {"bx", "by", "u"}}, {"objective", "time"}, {"cache", cache}};
}

TEST(E2eReplay, ExhaustiveReplayFindsTheRecordedOptimumAndCountsFailures) {
  TempDir dir;
  WriteFile(dir.File("space.t1.json"), kSpace);
  WriteFile(dir.File("cache.json"), Cache().dump());
  const auto p =
      Sysopt({"tune", dir.File("space.t1.json"), "--replay", dir.File("cache.json"), "--sampler",
              "exhaustive", "--budget", "100", "--storage", dir.File("s.db"), "--json"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_THAT(p.err, HasSubstr("33 recorded configurations of the space, 2 of them failed, 1 not "
                               "recorded; 1 outside the space left out"));
  const json j = json::parse(p.out);
  EXPECT_EQ(j["finished"], 34);
  EXPECT_EQ(j["failed"], 3);  // two recorded failures and the missing configuration
  EXPECT_EQ(j["exhausted"], true);
  EXPECT_DOUBLE_EQ(j["best"]["values"]["time"].get<double>(), 0.8125);
  EXPECT_EQ(j["best"]["config"], (json{{"bx", 4}, {"by", 8}, {"u", 1}}));
}

TEST(E2eReplay, DefaultSamplerRunsOnAReplayedSpace) {
  TempDir dir;
  WriteFile(dir.File("space.t1.json"), kSpace);
  WriteFile(dir.File("cache.json"), Cache().dump());
  const auto p = Sysopt({"tune", dir.File("space.t1.json"), "--replay", dir.File("cache.json"),
                         "--budget", "20", "--storage", "memory", "--json", "--quiet"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const json j = json::parse(p.out);
  EXPECT_EQ(j["finished"], 20);
  EXPECT_GE(j["best"]["values"]["time"].get<double>(), 0.8125);
}

TEST(E2eReplay, BadRecordingsExitWithCode2AndNameTheFile) {
  TempDir dir;
  WriteFile(dir.File("space.t1.json"), kSpace);
  WriteFile(dir.File("bad.json"), R"({"cache": {"1,1,0": {"bx": 1, "by": 1, "u": 0}}})");
  auto p = Sysopt(
      {"tune", dir.File("space.t1.json"), "--replay", dir.File("bad.json"), "--storage", "memory"});
  EXPECT_EQ(p.exit_code, 2) << p.err;
  EXPECT_THAT(p.err, HasSubstr("bad.json: cache[\"1,1,0\"] has no \"time\""));
  WriteFile(dir.File("t4.json"), R"({"results": [{"configuration": {"bx": 1, "by": 1}}]})");
  p = Sysopt(
      {"tune", dir.File("space.t1.json"), "--replay", dir.File("t4.json"), "--storage", "memory"});
  EXPECT_EQ(p.exit_code, 2) << p.err;
  EXPECT_THAT(p.err, HasSubstr("t4.json"));
}

}  // namespace
