// `sysopt llvm vectorize` end to end: the real binary finds the loops, builds and times the
// program with clang-14, and writes the annotated source, which is compiled again here.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/run_process.h"
#include "common/temp_dir.h"

namespace {

using nlohmann::json;
using sysopt::testing::ReadFile;
using sysopt::testing::RunProcess;
using sysopt::testing::TempDir;

const std::string kSysopt = std::string(SYSOPT_BINARY_DIR) + "/sysopt";
const std::string kDir = std::string(SYSOPT_SOURCE_DIR) + "/tests/compile/vectorize/";

std::string WithoutLoopPragmas(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.find("#pragma clang loop") == std::string::npos) out += line + "\n";
  }
  return out;
}

TEST(VectorizeCliTest, TunesReportsAndWritesTheAnnotatedSource) {
  TempDir dir;
  const std::string out = dir.File("annotated.c");
  const auto r =
      RunProcess(kSysopt,
                 {"llvm", "vectorize", kDir + "kernel.c", "--run", "", "--budget", "6", "--repeat",
                  "1", "--sampler", "random", "--storage", "memory", "--out", out, "--json"},
                 dir.path(), 240);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  for (const char* key : {"loops", "speedup_vs_o3", "o3_seconds", "best_seconds", "evaluations"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["evaluations"], 6);
  // The four loops the vectoriser can handle are tuned; the recurrence at line 11 is reported.
  std::vector<int> lines;
  for (const auto& l : j["loops"]) {
    lines.push_back(l["line"]);
    EXPECT_EQ(l["file"], kDir + "kernel.c");
    EXPECT_TRUE(l["vf"].is_null() || l["vf"].is_number_integer());
    EXPECT_TRUE(l["if"].is_null() || l["if"].is_number_integer());
  }
  EXPECT_EQ(lines, (std::vector<int>{6, 7, 9, 13}));
  ASSERT_EQ(j["not_tuned"].size(), 1u);
  EXPECT_EQ(j["not_tuned"][0]["line"], 11);
  EXPECT_NE(j["not_tuned"][0]["reason"].get<std::string>().find("not vectorized"),
            std::string::npos);
  // Never slower than -O3 as reported.
  EXPECT_GE(j["speedup_vs_o3"].get<double>(), 1.0);
  EXPECT_LE(j["best_seconds"].get<double>(), j["o3_seconds"].get<double>());
  // The annotated source is the original plus the reported pragmas, and it builds and runs
  // with the same output.
  const std::string annotated = ReadFile(out);
  EXPECT_EQ(WithoutLoopPragmas(annotated), ReadFile(kDir + "kernel.c"));
  for (const auto& l : j["loops"]) {
    const std::string pragma = l["pragma"];
    if (!pragma.empty()) {
      EXPECT_NE(annotated.find(pragma + "\n"), std::string::npos) << pragma;
    }
  }
  ASSERT_EQ(RunProcess("/usr/bin/env", {"clang-14", "-O3", out, "-o", dir.File("a")}).exit_code, 0);
  ASSERT_EQ(RunProcess("/usr/bin/env", {"clang-14", "-O3", kDir + "kernel.c", "-o", dir.File("b")})
                .exit_code,
            0);
  EXPECT_EQ(RunProcess(dir.File("a"), {}).out, RunProcess(dir.File("b"), {}).out);
}

TEST(VectorizeCliTest, HumanOutputListsEveryLoop) {
  TempDir dir;
  const auto r = RunProcess(kSysopt,
                            {"llvm", "vectorize", kDir + "kernel.c", "--run", "", "--budget", "2",
                             "--repeat", "1", "--storage", "memory", "-q"},
                            dir.path(), 240);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* at : {"kernel.c:6 ", "kernel.c:7 ", "kernel.c:9 ", "kernel.c:13 "}) {
    EXPECT_NE(r.out.find(at), std::string::npos) << at << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("kernel.c:11"), std::string::npos);
  EXPECT_NE(r.out.find("not tuned"), std::string::npos);
  EXPECT_NE(r.out.find("speedup over clang-14 -O3"), std::string::npos);
}

TEST(VectorizeCliTest, MiscompileByFloatReassociationIsCaught) {
  TempDir dir;
  // Two configurations: -O3 itself and the sum at line 8 forced to VF 4, which reorders the
  // float additions (the pragma permits it) and so changes the printed sum.
  const auto r = RunProcess(kSysopt,
                            {"llvm", "vectorize", kDir + "reassoc.c", "--run", "", "--sampler",
                             "exhaustive", "--constraint", "vf_1 == 0 and if_1 == 0",
                             "--constraint", "if_2 == 0 and (vf_2 == 0 or vf_2 == 4)", "--repeat",
                             "1", "--storage", "memory", "--json", "-q"},
                            dir.path(), 240);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["evaluations"], 2);
  EXPECT_EQ(j["miscompiles"], 1);
  EXPECT_EQ(j["kept_o3"], true);
  ASSERT_EQ(j["loops"].size(), 2u);
  EXPECT_EQ(j["loops"][1]["line"], 8);
  EXPECT_TRUE(j["loops"][1]["vf"].is_null());
  EXPECT_DOUBLE_EQ(j["speedup_vs_o3"].get<double>(), 1.0);
}

TEST(VectorizeCliTest, BadInputFailsWithExitCode2) {
  TempDir dir;
  auto run = [&](const std::string& file, const std::string& args) {
    return RunProcess(kSysopt,
                      {"llvm", "vectorize", kDir + file, "--run", args, "--budget", "2",
                       "--storage", "memory", "-q"},
                      dir.path(), 120);
  };
  const auto broken = run("broken.c", "");
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.err.find("broken.c:3"), std::string::npos) << broken.err;
  EXPECT_NE(broken.err.find("undeclared_thing"), std::string::npos) << broken.err;
  const auto none = run("noloops.c", "");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no loop"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("noloops.c"), std::string::npos) << none.err;
  const auto fails = run("fails.c", "missing.txt");
  EXPECT_EQ(fails.exit_code, 2);
  EXPECT_NE(fails.err.find("exit code 3"), std::string::npos) << fails.err;
  EXPECT_NE(fails.err.find("cannot open missing.txt"), std::string::npos) << fails.err;
  const auto unstable = run("unstable.c", "");
  EXPECT_EQ(unstable.exit_code, 2);
  EXPECT_NE(unstable.err.find("something else each run"), std::string::npos) << unstable.err;
  const auto missing = run("no-such-file.c", "");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no-such-file.c"), std::string::npos) << missing.err;
  // A study file in the folder stays untouched by runs that fail before measuring.
  EXPECT_FALSE(std::filesystem::exists(dir.File("sysopt.db")));
}

}  // namespace
