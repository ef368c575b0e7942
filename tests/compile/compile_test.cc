// The compiler job's parts on real LLVM 14: the action set, pipelines and their nesting, parity
// with opt-14 processes, the worker pool (crashes, hangs, prefix reuse), program loading and
// its errors, and the runtime objective's miscompile check.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "common/llvm_dis.h"
#include "common/run_process.h"
#include "common/temp_dir.h"
#include "sysopt/compile/actions.h"
#include "sysopt/compile/pass_pool.h"
#include "sysopt/compile/pass_runner.h"
#include "sysopt/compile/program.h"

namespace sysopt {
namespace {

using testing::CountWithLlvmDis;
using testing::ReadFile;
using testing::RunProcess;
using testing::TempDir;
using testing::WriteFile;

// A small program with loops, calls, a switch, floating point and memory: enough for every
// kind of pass to find something to do.
constexpr const char* kSmallProgram = R"(
#include <stdio.h>
#include <string.h>
struct item { int key; double weight; struct item* next; };
static int table[64];
static int classify(int x) {
  switch (x & 7) { case 0: return 3; case 1: return 5; case 2: return 7; case 5: return 11;
                   default: return x % 13; }
}
static double accumulate(struct item* head) {
  double s = 0;
  for (struct item* p = head; p; p = p->next) s += p->weight * p->key;
  return s;
}
int main(int argc, char** argv) {
  struct item items[16];
  for (int i = 0; i < 16; ++i) {
    items[i].key = classify(i * 7 + argc);
    items[i].weight = 0.5 * i;
    items[i].next = i + 1 < 16 ? &items[i + 1] : 0;
  }
  unsigned h = 2166136261u;
  for (int i = 0; i < 64; ++i) { table[i] = classify(i) * i; h = (h ^ (unsigned)table[i]) * 16777619u; }
  char buf[32];
  strcpy(buf, argc > 1 ? argv[1] : "none");
  printf("%u %.3f %zu\n", h, accumulate(items), strlen(buf));
  return 0;
}
)";

std::string CompileToBitcode(const TempDir& dir, const std::string& name, const char* source) {
  const std::string c = dir.File(name + ".c");
  WriteFile(c, source);
  const std::string bc = dir.File(name + ".bc");
  const auto r = RunProcess("/usr/bin/env", {"clang-14", "-O1", "-Xclang", "-disable-llvm-passes",
                                             "-emit-llvm", "-c", c, "-o", bc});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return bc;
}

Program LoadOrDie(const std::vector<std::string>& paths) {
  auto p = LoadProgram(paths, ProgramOptions{});
  if (!p.ok()) throw std::runtime_error(p.error().message());
  return *p;
}

std::unique_ptr<PassPool> PoolFor(const Program& program, int workers = 1, double timeout = 60) {
  PassPoolOptions options;
  options.workers = workers;
  options.timeout_s = timeout;
  auto pool = PassPool::Create(program.bitcode, options);
  if (!pool.ok()) throw std::runtime_error(pool.error().message());
  return std::move(*pool);
}

TEST(ActionsTest, CoversTheSharedMappingExceptTheDuplicateUnswitch) {
  // The shared table lists CompilerGym's 119 passes that LLVM 14 has; `loop-unswitch` and
  // `simple-loop-unswitch` map to the same LLVM 14 pass, which the action set holds once.
  std::ifstream tsv(std::string(SYSOPT_SOURCE_DIR) + "/../shared/compiler/cg_to_llvm14.tsv");
  ASSERT_TRUE(tsv.good());
  std::set<std::pair<std::string, std::string>> shared;
  std::string cg, name, level;
  int rows = 0;
  while (tsv >> cg >> name >> level) {
    ++rows;
    shared.insert({name, level});
    const auto index = FindPassAction(cg);
    ASSERT_TRUE(index.has_value()) << cg;
  }
  EXPECT_EQ(rows, 119);
  std::set<std::pair<std::string, std::string>> ours;
  for (int i = 0; i < CompilerGymActionCount(); ++i) {
    const PassAction& a = PassActions()[i];
    ours.insert({std::string(a.name), std::string(PassLevelName(a.level))});
  }
  EXPECT_EQ(ours, shared);
  EXPECT_EQ(CompilerGymActionCount(), 118);
  // After them, the five standard pipelines.
  ASSERT_EQ(PassActions().size(), 123u);
  EXPECT_EQ(PassActions()[118].name, "default<O1>");
  EXPECT_EQ(PassActions()[122].name, "default<Oz>");
  // Every action has a distinct id; guard-widening runs at two levels.
  std::set<std::string_view> ids;
  for (int i = 0; i < static_cast<int>(PassActions().size()); ++i) ids.insert(ActionId(i));
  EXPECT_EQ(ids.size(), PassActions().size());
  EXPECT_EQ(PassActions()[*FindPassAction("loop-guard-widening")].level, PassLevel::kLoop);
  EXPECT_EQ(PassActions()[*FindPassAction("guard-widening")].level, PassLevel::kFunction);
}

TEST(ActionsTest, EachLevelIsWrappedInItsPassManager) {
  EXPECT_EQ(WrappedPass(PassActions()[*FindPassAction("sroa")]), "function(sroa)");
  EXPECT_EQ(WrappedPass(PassActions()[*FindPassAction("inline")]), "cgscc(inline)");
  EXPECT_EQ(WrappedPass(PassActions()[*FindPassAction("licm")]), "function(loop-mssa(licm))");
  EXPECT_EQ(WrappedPass(PassActions()[*FindPassAction("indvars")]), "function(loop(indvars))");
  EXPECT_EQ(WrappedPass(PassActions()[*FindPassAction("globaldce")]), "globaldce");
  EXPECT_EQ(WrappedPass(PassActions()[*FindPassAction("early-cse-memssa")]),
            "function(early-cse<memssa>)");
  EXPECT_EQ(PipelineText({*FindPassAction("sroa"), *FindPassAction("inline")}),
            "function(sroa),cgscc(inline)");
  EXPECT_EQ(PipelineText({}), "");
}

TEST(ActionsTest, EveryActionRunsAloneAndAtTheWrongLevelIsRejected) {
  TempDir dir;
  const Program program = LoadOrDie({CompileToBitcode(dir, "small", kSmallProgram)});
  auto pool = PoolFor(program);
  for (size_t i = 0; i < PassActions().size(); ++i) {
    PassRequest request;
    request.actions = {static_cast<int>(i)};
    const PassResult r = pool->Evaluate(request);
    EXPECT_TRUE(r.ok) << PassActions()[i].name << ": " << r.failure_reason;
    EXPECT_GT(r.ir_count, 0) << PassActions()[i].name;
  }
  // A module pass nested in a function pass manager, or a cgscc pass in a function pass
  // manager, does not parse: the nesting of the table matters.
  for (const char* wrong : {"function(globaldce)", "function(inline)", "cgscc(globalopt)"}) {
    PassRequest request;
    request.pipeline = wrong;
    const PassResult r = pool->Evaluate(request);
    EXPECT_FALSE(r.ok) << wrong;
    EXPECT_NE(r.failure_reason.find("pass pipeline"), std::string::npos) << r.failure_reason;
    EXPECT_FALSE(r.crashed);
  }
  EXPECT_EQ(pool->replaced(), 0);
}

TEST(ParityTest, CountsMatchOpt14OnTheSamePipelines) {
  TempDir dir;
  const std::string src = std::string(SYSOPT_SOURCE_DIR) + "/bench/compile/programs/";
  std::vector<std::string> programs = {CompileToBitcode(dir, "small", kSmallProgram)};
  for (const char* p : {"sha256/sha256.c", "dijkstra/dijkstra.c", "nbody/nbody.c"}) {
    if (std::filesystem::exists(src + p)) {
      auto loaded = LoadProgram({src + p}, ProgramOptions{});
      ASSERT_TRUE(loaded.ok()) << loaded.error().message();
      const std::string bc = dir.File(std::filesystem::path(p).stem().string() + ".bc");
      std::ofstream(bc, std::ios::binary) << loaded->bitcode;
      programs.push_back(bc);
    }
  }
  ASSERT_GE(programs.size(), 3u);
  const std::vector<std::vector<std::string>> sequences = {
      {"sroa", "instcombine", "simplifycfg", "gvn", "licm", "loop-rotate", "inline", "dse"},
      {"mem2reg", "loop-unroll", "early-cse-memssa", "jump-threading", "adce", "globaldce"},
      {"inline", "sroa", "sccp", "loop-deletion", "indvars", "instcombine", "mergefunc",
       "reassociate", "newgvn", "simplifycfg", "function-attrs", "deadargelim"},
  };
  for (const std::string& bc : programs) {
    const Program program = LoadOrDie({bc});
    auto pool = PoolFor(program);
    EXPECT_EQ(program.ir_count, CountWithLlvmDis(bc)) << bc;
    for (const auto& names : sequences) {
      std::vector<int> actions;
      for (const auto& n : names) actions.push_back(*FindPassAction(n));
      const std::string pipeline = PipelineText(actions);
      const std::string out = dir.File("opt.bc");
      const auto opt = RunProcess("/usr/bin/env", {"opt-14", "-passes=" + pipeline, bc, "-o", out});
      ASSERT_EQ(opt.exit_code, 0) << opt.err;
      const int64_t expected = CountWithLlvmDis(out);
      PassRequest request;
      request.actions = actions;
      const PassResult r = pool->Evaluate(request);
      ASSERT_TRUE(r.ok) << r.failure_reason;
      EXPECT_EQ(r.ir_count, expected) << bc << " " << pipeline;
      // The whole sequence as one pipeline text, as the CLI reports it, counts the same.
      PassRequest whole;
      whole.pipeline = pipeline;
      EXPECT_EQ(pool->Evaluate(whole).ir_count, expected) << pipeline;
    }
    PassRequest oz;
    oz.pipeline = "default<Oz>";
    const std::string out = dir.File("oz.bc");
    ASSERT_EQ(
        RunProcess("/usr/bin/env", {"opt-14", "-passes=default<Oz>", bc, "-o", out}).exit_code, 0);
    EXPECT_EQ(pool->Evaluate(oz).ir_count, CountWithLlvmDis(out)) << bc;
  }
}

TEST(PoolTest, ASequenceSharingAHeldPrefixAppliesOnlyItsNewPasses) {
  TempDir dir;
  const Program program = LoadOrDie({CompileToBitcode(dir, "small", kSmallProgram)});
  auto pool = PoolFor(program);
  auto fresh = PoolFor(program);
  const std::vector<int> prefix = {*FindPassAction("sroa"), *FindPassAction("inline"),
                                   *FindPassAction("instcombine")};
  std::vector<int> longer = prefix;
  longer.push_back(*FindPassAction("simplifycfg"));
  longer.push_back(*FindPassAction("gvn"));
  PassRequest a;
  a.actions = prefix;
  const PassResult first = pool->Evaluate(a);
  ASSERT_TRUE(first.ok);
  EXPECT_EQ(first.applied, 3);
  PassRequest b;
  b.actions = longer;
  const PassResult second = pool->Evaluate(b);
  ASSERT_TRUE(second.ok);
  EXPECT_EQ(second.applied, 2);
  const PassResult from_scratch = fresh->Evaluate(b);
  EXPECT_EQ(from_scratch.applied, 5);
  EXPECT_EQ(second.ir_count, from_scratch.ir_count);
}

TEST(PoolTest, AHangingEvaluationIsKilledAndTheWorkerReplaced) {
  TempDir dir;
  const std::string src =
      std::string(SYSOPT_SOURCE_DIR) + "/bench/compile/programs/sha256/sha256.c";
  const Program program =
      LoadOrDie({std::filesystem::exists(src) ? src : CompileToBitcode(dir, "s", kSmallProgram)});
  // A limit far below what -O3 takes on this program: the worker is killed mid-pipeline.
  auto pool = PoolFor(program, 1, 0.002);
  PassRequest o3;
  o3.pipeline = "default<O3>,default<O3>,default<O3>";
  const PassResult r = pool->Evaluate(o3);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.crashed);
  EXPECT_NE(r.failure_reason.find("did not finish within"), std::string::npos) << r.failure_reason;
  EXPECT_EQ(pool->replaced(), 1);
}

TEST(PoolTest, TheCommandsDeadlineCutsAnEvaluationShort) {
  const std::string src =
      std::string(SYSOPT_SOURCE_DIR) + "/bench/compile/programs/sha256/sha256.c";
  const Program program = LoadOrDie({src});
  auto pool = PoolFor(program, 1, 60);
  const double now =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  pool->SetDeadline(now + 0.002);
  PassRequest o3;
  o3.pipeline = "default<O3>,default<O3>,default<O3>";
  const PassResult cut = pool->Evaluate(o3);
  EXPECT_FALSE(cut.ok);
  EXPECT_NE(cut.failure_reason.find("time limit"), std::string::npos) << cut.failure_reason;
  EXPECT_LT(cut.seconds, 1.0);
  pool->SetDeadline(std::numeric_limits<double>::infinity());
  EXPECT_TRUE(pool->Evaluate(o3).ok);
}

TEST(PoolTest, APassOrderThatCrashesLlvmIsAFailureAndThePoolGoesOn) {
  // A real LLVM 14 abort: loop-reroll in a loop pass manager with MemorySSA (which it does not
  // preserve) after loop-rotate, indvars and gvn: "LLVM ERROR: Loop pass manager using
  // MemorySSA contains a pass that does not preserve MemorySSA". Found by random search over
  // the action set before the action set stopped nesting every loop pass in loop-mssa.
  const std::string src = std::string(SYSOPT_SOURCE_DIR) + "/bench/compile/programs/nbody/nbody.c";
  ASSERT_TRUE(std::filesystem::exists(src));
  const Program program = LoadOrDie({src});
  auto pool = PoolFor(program, 2);
  PassRequest crash;
  crash.pipeline =
      "function(sroa),function(loop-mssa(loop-rotate)),function(loop-mssa(indvars)),"
      "function(gvn),function(loop-mssa(loop-reroll))";
  const PassResult r = pool->Evaluate(crash);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.crashed);
  EXPECT_NE(r.failure_reason.find("LLVM crashed"), std::string::npos) << r.failure_reason;
  EXPECT_NE(r.failure_reason.find("does not preserve MemorySSA"), std::string::npos)
      << r.failure_reason;
  EXPECT_EQ(pool->replaced(), 1);
  // Both workers still answer, the replaced one included.
  for (int i = 0; i < 4; ++i) {
    PassRequest oz;
    oz.pipeline = "default<Oz>";
    const PassResult after = pool->Evaluate(oz);
    EXPECT_TRUE(after.ok) << after.failure_reason;
    EXPECT_LT(after.ir_count, program.ir_count);
  }
  // A failure inside a worker that does not kill it is a plain failure.
  PassRequest bad_path;
  bad_path.bitcode_path = "/nonexistent-folder/out.bc";
  const PassResult written = pool->Evaluate(bad_path);
  EXPECT_FALSE(written.ok);
  EXPECT_FALSE(written.crashed);
  EXPECT_NE(written.failure_reason.find("cannot write"), std::string::npos);
  EXPECT_EQ(pool->replaced(), 1);
}

TEST(ProgramTest, BadInputsAreClearErrors) {
  TempDir dir;
  auto missing = LoadProgram({dir.File("nope.c")}, ProgramOptions{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(missing.error().message().find("no such file"), std::string::npos);

  WriteFile(dir.File("notes.txt"), "this is not a program\n");
  auto text = LoadProgram({dir.File("notes.txt")}, ProgramOptions{});
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(text.error().message().find("not a program sysopt can read"), std::string::npos);

  WriteFile(dir.File("broken.c"), "int main(void) { return undeclared_name; }\n");
  auto broken = LoadProgram({dir.File("broken.c")}, ProgramOptions{});
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().kind(), ErrorKind::kInvalidInput);
  // clang's own message comes through.
  EXPECT_NE(broken.error().message().find("undeclared identifier 'undeclared_name'"),
            std::string::npos)
      << broken.error().message();

  WriteFile(dir.File("empty.c"), "extern int f(int);\n");
  auto empty = LoadProgram({dir.File("empty.c")}, ProgramOptions{});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message().find("empty"), std::string::npos);
}

TEST(ProgramTest, SeveralSourcesAreLinkedIntoOneModule) {
  TempDir dir;
  WriteFile(dir.File("a.c"), "int twice(int x);\nint main(void) { return twice(21) - 42; }\n");
  WriteFile(dir.File("b.c"), "int twice(int x) { return 2 * x; }\n");
  auto program = LoadProgram({dir.File("a.c"), dir.File("b.c")}, ProgramOptions{});
  ASSERT_TRUE(program.ok()) << program.error().message();
  EXPECT_EQ(program->functions, 2);
  // Two definitions of one symbol do not link.
  WriteFile(dir.File("c.c"), "int twice(int x) { return x + x; }\n");
  auto clash = LoadProgram({dir.File("b.c"), dir.File("c.c")}, ProgramOptions{});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message().find("cannot link"), std::string::npos);
}

// Signed overflow is undefined: unoptimised code wraps and prints "wrapped", while instcombine
// folds `x + 1 < x` (with nsw) to false. The optimised program's output differs from the
// reference, which the runtime objective must treat as a miscompile.
constexpr const char* kOverflowProgram = R"(
#include <stdio.h>
#include <limits.h>
int check(int x) { return x + 1 < x; }
int main(int argc, char** argv) {
  (void)argv;
  printf("%s\n", check(INT_MAX - 1 + argc) ? "wrapped" : "fine");
  return 0;
}
)";

TEST(RuntimeTest, AWrongOutputFailsAsAMiscompileAndARightOneIsTimed) {
  TempDir dir;
  const Program program = LoadOrDie({CompileToBitcode(dir, "ovf", kOverflowProgram)});
  auto pool = PoolFor(program);
  RuntimeOptions runtime;
  runtime.repeat = 2;
  auto runner = PassRunner::Create(*pool, CompileObjective::kRuntime, runtime, dir.path().string());
  ASSERT_TRUE(runner.ok()) << runner.error().message();
  const RunResult plain = (*runner)->RunPipeline("");
  ASSERT_TRUE(plain.ok) << plain.failure_reason;
  EXPECT_EQ(plain.samples.size(), 2u);
  EXPECT_GT(plain.values.at(0), 0);
  const RunResult folded = (*runner)->RunPipeline("function(sroa,instcombine)");
  EXPECT_FALSE(folded.ok);
  EXPECT_NE(folded.failure_reason.find("miscompile"), std::string::npos) << folded.failure_reason;
}

TEST(RuntimeTest, TextSizeIsMeasuredOnTheObjectFile) {
  TempDir dir;
  const Program program = LoadOrDie({CompileToBitcode(dir, "small", kSmallProgram)});
  auto pool = PoolFor(program);
  auto runner = PassRunner::Create(*pool, CompileObjective::kTextSize, {}, dir.path().string());
  ASSERT_TRUE(runner.ok());
  const RunResult o0 = (*runner)->RunPipeline("");
  const RunResult oz = (*runner)->RunPipeline("default<Oz>");
  ASSERT_TRUE(o0.ok && oz.ok);
  // The object file of the module as llc-14 writes it, measured by binutils' size: the same.
  PassRequest request;
  request.pipeline = "default<Oz>";
  request.bitcode_path = dir.File("oz.bc");
  ASSERT_TRUE(pool->Evaluate(request).ok);
  ASSERT_EQ(RunProcess("/usr/bin/env",
                       {"llc-14", "-filetype=obj", dir.File("oz.bc"), "-o", dir.File("oz.o")})
                .exit_code,
            0);
  const auto size = RunProcess("/usr/bin/env", {"size", "-A", dir.File("oz.o")});
  ASSERT_EQ(size.exit_code, 0);
  int64_t text = 0;
  std::istringstream in(size.out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string section;
    int64_t bytes = 0;
    if (fields >> section >> bytes && (section == ".text" || section.rfind(".text.", 0) == 0)) {
      text += bytes;
    }
  }
  EXPECT_EQ(oz.values.at(0), static_cast<double>(text));
  EXPECT_LT(oz.values.at(0), o0.values.at(0));
}

}  // namespace
}  // namespace sysopt
