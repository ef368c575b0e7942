// `sysopt llvm` end to end: the real binary on small C programs. The reported pipeline is fed to
// opt-14 and the result counted with llvm-dis-14, independently of sysopt.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/llvm_dis.h"
#include "common/run_process.h"
#include "common/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sysopt::testing::CountWithLlvmDis;
using sysopt::testing::RunProcess;
using sysopt::testing::TempDir;
using sysopt::testing::WriteFile;

const std::string kSysopt = std::string(SYSOPT_BINARY_DIR) + "/sysopt";

constexpr const char* kProgram = R"(
#include <stdio.h>
static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static unsigned mix(unsigned h, int v) { return (h ^ (unsigned)v) * 16777619u; }
int main(void) {
  int a[32];
  unsigned h = 2166136261u;
  for (int i = 0; i < 32; ++i) a[i] = fib(i % 12) * (i & 3);
  for (int i = 0; i < 32; ++i) h = mix(h, a[i]);
  printf("%u\n", h);
  return 0;
}
)";

TEST(LlvmCliTest, PassesReportsAPipelineThatOptReproduces) {
  TempDir dir;
  const std::string c = dir.File("prog.c");
  WriteFile(c, kProgram);
  const std::string db = dir.File("s.db");
  const auto r = RunProcess(kSysopt, {"llvm", "passes", c, "--budget", "60", "--sampler", "random",
                                      "--storage", db, "--json", "--out", dir.File("best.bc")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  for (const char* key : {"pipeline", "ir_count", "oz_ir_count", "o3_ir_count", "o0_ir_count",
                          "evaluations", "seconds"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["evaluations"], 60);
  // The unoptimised module, built the way the issue's users build it, counted independently.
  const std::string bc = dir.File("prog.bc");
  ASSERT_EQ(RunProcess("/usr/bin/env", {"clang-14", "-O1", "-Xclang", "-disable-llvm-passes",
                                        "-emit-llvm", "-c", c, "-o", bc})
                .exit_code,
            0);
  EXPECT_EQ(j["o0_ir_count"].get<int64_t>(), CountWithLlvmDis(bc));
  const std::string oz = dir.File("oz.bc");
  ASSERT_EQ(RunProcess("/usr/bin/env", {"opt-14", "-passes=default<Oz>", bc, "-o", oz}).exit_code,
            0);
  EXPECT_EQ(j["oz_ir_count"].get<int64_t>(), CountWithLlvmDis(oz));
  const std::string out = dir.File("opt.bc");
  const std::string pipeline = j["pipeline"];
  const auto opt = RunProcess("/usr/bin/env", {"opt-14", "-passes=" + pipeline, bc, "-o", out});
  ASSERT_EQ(opt.exit_code, 0) << opt.err << pipeline;
  EXPECT_EQ(j["ir_count"].get<int64_t>(), CountWithLlvmDis(out));
  // --out holds the optimised module itself.
  EXPECT_EQ(CountWithLlvmDis(dir.File("best.bc")), j["ir_count"].get<int64_t>());
  EXPECT_LT(j["ir_count"].get<int64_t>(), j["o0_ir_count"].get<int64_t>());

  // The study is stored: running again resumes it and adds to it.
  const auto again = RunProcess(kSysopt, {"llvm", "passes", c, "--budget", "20", "--sampler",
                                          "random", "--storage", db, "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const json k = json::parse(again.out);
  EXPECT_EQ(k["evaluations"], 80);
  EXPECT_LE(k["ir_count"].get<int64_t>(), j["ir_count"].get<int64_t>());
  const auto exported = RunProcess(kSysopt, {"export", "--storage", db, "--format", "csv"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("ir_count"), std::string::npos);

  // The same study on a changed program is refused: its measurements would mix two programs.
  WriteFile(c, std::string(kProgram) + "int unused_extra(int x) { return x * 3; }\n");
  const auto changed = RunProcess(kSysopt, {"llvm", "passes", c, "--budget", "5", "--sampler",
                                            "random", "--storage", db, "--json"});
  EXPECT_EQ(changed.exit_code, 2) << changed.err;
  EXPECT_NE(changed.err.find("another build of the program"), std::string::npos) << changed.err;
  const auto after = RunProcess(kSysopt, {"export", "--storage", db, "--format", "csv"});
  EXPECT_EQ(after.out, exported.out);
}

TEST(LlvmCliTest, GreedyImprovesOnNoPassesAndStops) {
  TempDir dir;
  const std::string c = dir.File("prog.c");
  WriteFile(c, kProgram);
  const auto r = RunProcess(
      kSysopt, {"llvm", "passes", c, "--sampler", "greedy", "--max-length", "3", "--budget", "2000",
                "--storage", "memory", "--json", "--actions", "compiler-gym", "--workers", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  // The greedy stops once no extension helps or at three passes: at most 1 + 3 * 118 trials.
  EXPECT_LE(j["evaluations"].get<int>(), 1 + 3 * 118);
  EXPECT_GE(j["evaluations"].get<int>(), 1 + 118);
  EXPECT_LT(j["ir_count"].get<int64_t>(), j["o0_ir_count"].get<int64_t>());
  EXPECT_LE(j["passes"].size(), 3u);
}

TEST(LlvmCliTest, BadInputExitsTwoAndStoresNothing) {
  TempDir dir;
  const std::string db = dir.File("s.db");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  WriteFile(dir.File("broken.c"), "int main(void) { return missing_thing; }\n");
  WriteFile(dir.File("notes.txt"), "hello\n");
  WriteFile(dir.File("empty.c"), "\n");
  WriteFile(dir.File("ok.c"), kProgram);
  const std::vector<Case> cases = {
      {{"llvm", "passes", dir.File("nope.c"), "--storage", db}, "no such file"},
      {{"llvm", "passes", dir.File("notes.txt"), "--storage", db}, "not a program"},
      {{"llvm", "passes", dir.File("broken.c"), "--storage", db}, "missing_thing"},
      {{"llvm", "passes", dir.File("empty.c"), "--storage", db}, "empty"},
      {{"llvm", "passes", dir.File("ok.c"), "--objective", "speed", "--storage", db}, "speed"},
      {{"llvm", "features", dir.File("ok.c"), "--pipeline", "function(no-such-pass)"},
       "no-such-pass"},
  };
  for (const auto& c : cases) {
    const auto r = RunProcess(kSysopt, c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[2] << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(db)) << c.args[2];
  }
}

TEST(LlvmCliTest, FeaturesPrintsBothVectors) {
  TempDir dir;
  WriteFile(dir.File("ok.c"), kProgram);
  const auto r = RunProcess(kSysopt, {"llvm", "features", dir.File("ok.c"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["InstCount"].size(), 70u);
  EXPECT_EQ(j["Autophase"].size(), 56u);
  EXPECT_EQ(j["InstCount"]["TotalInstsCount"], j["ir_count"]);
  // TotalFuncs counts declarations too, as CompilerGym's does: every define and declare line.
  const std::string bc = dir.File("ok.bc");
  ASSERT_EQ(RunProcess("/usr/bin/env", {"clang-14", "-O1", "-Xclang", "-disable-llvm-passes",
                                        "-emit-llvm", "-c", dir.File("ok.c"), "-o", bc})
                .exit_code,
            0);
  const auto dis = RunProcess("/usr/bin/env", {"llvm-dis-14", bc, "-o", "-"});
  int functions = 0;
  std::istringstream in(dis.out);
  std::string line;
  while (std::getline(in, line)) {
    functions += line.rfind("define ", 0) == 0 || line.rfind("declare ", 0) == 0;
  }
  EXPECT_GE(functions, 4);  // fib, mix, main, printf at least
  EXPECT_EQ(j["InstCount"]["TotalFuncsCount"], functions);
}

}  // namespace
