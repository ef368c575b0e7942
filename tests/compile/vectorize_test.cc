// Finding loops with libclang, annotating sources, and the pragmas reaching LLVM: the annotated
// source is compiled with clang-14 itself and its IR metadata and vectoriser remarks are read.
#include "sysopt/compile/vectorize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/run_process.h"
#include "common/temp_dir.h"

namespace {

using sysopt::AnnotateSource;
using sysopt::FindLoops;
using sysopt::LoopFactors;
using sysopt::SourceLoop;
using sysopt::testing::ReadFile;
using sysopt::testing::RunProcess;
using sysopt::testing::TempDir;
using sysopt::testing::WriteFile;

const std::string kDir = std::string(SYSOPT_SOURCE_DIR) + "/tests/compile/vectorize/";

std::vector<int> Lines(const std::vector<SourceLoop>& loops) {
  std::vector<int> lines;
  for (const auto& l : loops) lines.push_back(l.line);
  return lines;
}

TEST(VectorizeTest, FindsInnermostLoopsAtTheirLines) {
  auto scan = FindLoops({kDir + "loops.c"}, {});
  ASSERT_TRUE(scan.ok()) << scan.error().message();
  // Line 7: the inner loop of a nest (line 6 holds it); 14, 16, 23: a for, a while (with a
  // macro in its body) and a do in one function.
  EXPECT_EQ(Lines(scan->loops), (std::vector<int>{7, 14, 16, 23}));
  EXPECT_EQ(scan->loops[0].function, "nested");
  EXPECT_EQ(scan->loops[0].column, 5);
  EXPECT_EQ(scan->loops[1].kind, "for");
  EXPECT_EQ(scan->loops[2].kind, "while");
  EXPECT_EQ(scan->loops[3].kind, "do");
  EXPECT_EQ(scan->loops[3].function, "several");
  EXPECT_EQ(scan->outer_loops, 1);
  // Left alone: the header's loop, the loop a macro writes, the one under its own pragma.
  std::map<std::string, std::string> skipped;
  for (const auto& k : scan->skipped) {
    skipped[std::filesystem::path(k.file).filename().string() + ":" + std::to_string(k.line)] =
        k.reason;
  }
  ASSERT_EQ(skipped.size(), 3u);
  EXPECT_NE(skipped["loops_header.h:3"].find("header"), std::string::npos);
  EXPECT_NE(skipped["loops.c:20"].find("macro"), std::string::npos);
  EXPECT_NE(skipped["loops.c:22"].find("#pragma clang loop unroll(disable)"), std::string::npos);
}

TEST(VectorizeTest, SeveralSourcesAndFlags) {
  TempDir dir;
  WriteFile(dir.File("a.c"),
            "void f(int *a) {\n#ifdef WIDE\n  for (int i = 0; i < 64; ++i)"
            " a[i] = i;\n#endif\n}\n");
  WriteFile(dir.File("b.cc"),
            "#include <vector>\nint g(std::vector<int>& v) {\n  int s = 0;\n"
            "  for (int x : v) s += x;\n  return s;\n}\n");
  auto without = FindLoops({dir.File("a.c"), dir.File("b.cc")}, {});
  ASSERT_TRUE(without.ok()) << without.error().message();
  EXPECT_EQ(Lines(without->loops), (std::vector<int>{4}));
  EXPECT_EQ(without->loops[0].kind, "range-for");
  // System headers' loops are not listed at all.
  EXPECT_TRUE(without->skipped.empty());
  auto with = FindLoops({dir.File("a.c"), dir.File("b.cc")}, {"-DWIDE"});
  ASSERT_TRUE(with.ok());
  ASSERT_EQ(with->loops.size(), 2u);
  EXPECT_EQ(with->loops[0].file, dir.File("a.c"));
  EXPECT_EQ(with->loops[0].line, 3);
}

TEST(VectorizeTest, SourceThatDoesNotCompileGivesClangsMessage) {
  auto scan = FindLoops({kDir + "broken.c"}, {});
  ASSERT_FALSE(scan.ok());
  EXPECT_EQ(scan.error().kind(), sysopt::ErrorKind::kInvalidInput);
  EXPECT_NE(scan.error().message().find("broken.c:3"), std::string::npos) << scan.error().message();
  EXPECT_NE(scan.error().message().find("undeclared_thing"), std::string::npos);
  auto missing = FindLoops({kDir + "nothing-here.c"}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("nothing-here.c"), std::string::npos);
}

TEST(VectorizeTest, AnnotationInsertsOnlyPragmaLines) {
  const std::string text = ReadFile(kDir + "loops.c");
  auto scan = FindLoops({kDir + "loops.c"}, {});
  ASSERT_TRUE(scan.ok());
  const std::vector<LoopFactors> factors = {{8, 0}, {4, 2}, {0, 0}, {1, 16}};
  const std::string out = AnnotateSource(text, scan->loops, factors);
  std::istringstream in(out);
  std::string line, rest;
  std::vector<std::string> pragmas;
  while (std::getline(in, line)) {
    if (line.find("#pragma clang loop v") != std::string::npos ||
        line.find("#pragma clang loop i") != std::string::npos) {
      pragmas.push_back(line);
    } else {
      rest += line + "\n";
    }
  }
  EXPECT_EQ(rest, text);
  EXPECT_EQ(pragmas, (std::vector<std::string>{
                         "    #pragma clang loop vectorize_width(8)",
                         "  #pragma clang loop vectorize_width(4) interleave_count(2)",
                         "  #pragma clang loop vectorize_width(1) interleave_count(16)"}));
}

// Loop metadata of a textual module: for each loop id node, its named hints and its first
// DILocation's line.
struct LoopMd {
  int line = 0;
  std::map<std::string, int> hints;
};

std::vector<LoopMd> ReadLoopMetadata(const std::string& ir) {
  std::map<std::string, std::string> nodes;
  static const std::regex kNode(R"(^(![0-9]+) = (.*)$)");
  std::istringstream in(ir);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, kNode)) nodes[m[1]] = m[2];
  }
  std::vector<LoopMd> loops;
  static const std::regex kRef(R"(![0-9]+)");
  static const std::regex kHint(R"re(^!\{!"(llvm\.loop\.[a-z.]+)", i(?:32|1) ([0-9a-z]+)\}$)re");
  static const std::regex kLoc(R"(^!DILocation\(line: ([0-9]+))");
  for (const auto& [id, body] : nodes) {
    if (body.rfind("distinct !{" + id + ",", 0) != 0) continue;
    LoopMd md;
    for (auto it = std::sregex_iterator(body.begin(), body.end(), kRef);
         it != std::sregex_iterator(); ++it) {
      const std::string& ref = nodes[it->str()];
      std::smatch h;
      if (std::regex_search(ref, h, kLoc) && md.line == 0) md.line = std::stoi(h[1]);
      if (std::regex_match(ref, h, kHint)) {
        md.hints[h[1]] = h[2] == "true" ? 1 : h[2] == "false" ? 0 : std::stoi(h[2]);
      }
    }
    if (md.line > 0) loops.push_back(md);
  }
  return loops;
}

TEST(VectorizeTest, PragmasReachLlvmAsLoopMetadataAtTheLoopsLine) {
  TempDir dir;
  const std::string text = ReadFile(kDir + "kernel.c");
  auto scan = FindLoops({kDir + "kernel.c"}, {});
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(Lines(scan->loops), (std::vector<int>{6, 7, 9, 11, 13}));
  const std::vector<LoopFactors> factors = {{0, 0}, {0, 0}, {8, 2}, {0, 0}, {0, 4}};
  const std::string annotated = dir.File("kernel.c");
  WriteFile(annotated, AnnotateSource(text, scan->loops, factors));
  // The loops' lines in the annotated file: the line below each pragma.
  std::map<std::string, int> below;
  {
    std::istringstream in(ReadFile(annotated));
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.find("#pragma clang loop") != std::string::npos) below[line] = n + 1;
    }
  }
  const int loop9 = below["    #pragma clang loop vectorize_width(8) interleave_count(2)"];
  const int loop13 = below["  #pragma clang loop interleave_count(4)"];
  ASSERT_GT(loop9, 0);
  ASSERT_GT(loop13, 0);
  // What the front end hands LLVM.
  const std::string ll = dir.File("kernel.ll");
  const auto front =
      RunProcess("/usr/bin/env", {"clang-14", "-O1", "-Xclang", "-disable-llvm-passes", "-g", "-S",
                                  "-emit-llvm", annotated, "-o", ll});
  ASSERT_EQ(front.exit_code, 0) << front.err;
  int seen = 0;
  for (LoopMd md : ReadLoopMetadata(ReadFile(ll))) {
    if (md.line == loop9) {
      ++seen;
      EXPECT_EQ(md.hints["llvm.loop.vectorize.width"], 8);
      EXPECT_EQ(md.hints["llvm.loop.interleave.count"], 2);
    } else if (md.line == loop13) {
      ++seen;
      EXPECT_EQ(md.hints.count("llvm.loop.vectorize.width"), 0u);
      EXPECT_EQ(md.hints["llvm.loop.interleave.count"], 4);
    } else {
      EXPECT_EQ(md.hints.count("llvm.loop.vectorize.width"), 0u) << md.line;
      EXPECT_EQ(md.hints.count("llvm.loop.interleave.count"), 0u) << md.line;
    }
  }
  EXPECT_EQ(seen, 2);
  // And what the vectoriser does with them at -O3.
  const auto o3 = RunProcess("/usr/bin/env", {"clang-14", "-O3", "-Rpass=loop-vectorize", "-c",
                                              annotated, "-o", dir.File("kernel.o")});
  ASSERT_EQ(o3.exit_code, 0) << o3.err;
  EXPECT_NE(o3.err.find(":" + std::to_string(loop9) +
                        ":5: remark: vectorized loop (vectorization width: 8, interleaved "
                        "count: 2)"),
            std::string::npos)
      << o3.err;
}

TEST(VectorizeTest, ProbeReportsLoopsTheVectoriserCannotHandle) {
  TempDir dir;
  auto scan = FindLoops({kDir + "kernel.c"}, {});
  ASSERT_TRUE(scan.ok());
  auto probes = sysopt::ProbeLoops(scan->loops, {kDir + "kernel.c"}, {}, dir.path().string());
  ASSERT_TRUE(probes.ok()) << probes.error().message();
  ASSERT_EQ(probes->size(), 5u);
  // Line 11 is a recurrence through memory: x[i] reads x[i - 1] written one iteration before.
  for (int k : {0, 1, 2, 4}) EXPECT_TRUE((*probes)[k].vectorized) << scan->loops[k].line;
  EXPECT_FALSE((*probes)[3].vectorized);
  EXPECT_NE((*probes)[3].reason.find("loop not vectorized"), std::string::npos)
      << (*probes)[3].reason;
}

TEST(VectorizeTest, SpaceHasOneOrdinalPairPerLoopAndPerLoopConstraints) {
  auto spec = sysopt::VectorizeSpec("s", 2, {"vf * if <= 64"});
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->space.Names(), (std::vector<std::string>{"vf_1", "if_1", "vf_2", "if_2"}));
  EXPECT_EQ(spec->space.constraints().size(), 2u);
  const sysopt::Config big = {int64_t{64}, int64_t{2}, int64_t{0}, int64_t{0}};
  const sysopt::Config fine = {int64_t{32}, int64_t{2}, int64_t{64}, int64_t{1}};
  EXPECT_FALSE(spec->space.IsFeasible(big));
  EXPECT_TRUE(spec->space.IsFeasible(fine));
  EXPECT_EQ(spec->space.Default(),
            (sysopt::Config{int64_t{0}, int64_t{0}, int64_t{0}, int64_t{0}}));
  auto bad = sysopt::VectorizeSpec("s", 1, {"vf_7 > 2"});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
