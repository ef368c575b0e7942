// Expected values are counted by hand from the IR text of each module (the comments show the
// count), never computed with the code under test.
#include "sysopt/compile/features.h"

#include <gtest/gtest.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sysopt {
namespace {

std::unique_ptr<llvm::Module> ParseVerified(llvm::LLVMContext& context, const char* ir) {
  llvm::SMDiagnostic diagnostic;
  std::unique_ptr<llvm::Module> module = llvm::parseAssemblyString(ir, diagnostic, context);
  if (module == nullptr) {
    ADD_FAILURE() << "line " << diagnostic.getLineNo() << ": " << diagnostic.getMessage().str();
    return nullptr;
  }
  std::string errors;
  llvm::raw_string_ostream stream(errors);
  if (llvm::verifyModule(*module, &stream)) {
    ADD_FAILURE() << "module does not verify: " << stream.str();
    return nullptr;
  }
  return module;
}

// Checks every feature of `actual`: the ones in `nonzero` must have the given value, all others
// must be 0, so that a test states the whole vector.
void ExpectFeatures(const FeatureVector& actual, const std::map<std::string, int64_t>& nonzero) {
  ASSERT_EQ(actual.names.size(), actual.values.size());
  for (const auto& [name, value] : nonzero) {
    EXPECT_NE(std::find(actual.names.begin(), actual.names.end(), name), actual.names.end())
        << "no feature named " << name;
  }
  for (size_t i = 0; i < actual.names.size(); ++i) {
    const auto it = nonzero.find(actual.names[i]);
    EXPECT_EQ(actual.values[i], it == nonzero.end() ? 0 : it->second) << actual.names[i];
  }
}

int64_t Feature(const FeatureVector& features, const std::string& name) {
  const auto it = std::find(features.names.begin(), features.names.end(), name);
  EXPECT_NE(it, features.names.end()) << "no feature named " << name;
  if (it == features.names.end()) return -1;
  return features.values[it - features.names.begin()];
}

// A diamond with a freeze, and a straight-line function with memory operations.
constexpr const char* kSmallModule = R"IR(
declare i32 @ext(i32)

define i32 @f(i32 %a, i32 %b) {
entry:
  %fr = freeze i32 %a
  %c = icmp slt i32 %fr, %b
  br i1 %c, label %then, label %join
then:
  %s = add i32 %a, 1
  br label %join
join:
  %p = phi i32 [ %s, %then ], [ %b, %entry ]
  %r = call i32 @ext(i32 %p)
  ret i32 %r
}

define void @g(i32* %ptr) {
entry:
  %x = alloca i32
  store i32 0, i32* %x
  %v = load i32, i32* %x
  store i32 %v, i32* %ptr
  ret void
}
)IR";

// A switch fanning out to four blocks that all join in one block with four 4-input phis.
constexpr const char* kSwitchModule = R"IR(
define i32 @cfg(i32 %x) {
entry:
  switch i32 %x, label %d [ i32 1, label %a
                            i32 2, label %b ]
a:
  br label %m
b:
  %cb = icmp ult i32 %x, 7
  br i1 %cb, label %m, label %c
c:
  br label %m
d:
  br label %m
m:
  %p1 = phi i32 [ 10, %a ], [ 20, %b ], [ 30, %c ], [ 40, %d ]
  %p2 = phi i32 [ 1, %a ], [ 2, %b ], [ 3, %c ], [ 4, %d ]
  %p3 = phi i32 [ 0, %a ], [ 0, %b ], [ 0, %c ], [ 0, %d ]
  %p4 = phi i32 [ %x, %a ], [ %x, %b ], [ %x, %c ], [ %x, %d ]
  %s1 = add i32 %p1, %p2
  %s2 = add i32 %p3, %p4
  %s = add i32 %s1, %s2
  ret i32 %s
}
)IR";

// One 15-instruction block of casts, memory and binary operations with constants, then calls.
constexpr const char* kStraightModule = R"IR(
declare i32 @ext(i32)
declare void @sink(i64)
declare i64 @wide(i64, i64)

define i64 @ops(i32 %a, i64 %b, i32* %p) {
entry:
  %buf = alloca [4 x i64]
  %g = getelementptr [4 x i64], [4 x i64]* %buf, i64 0, i64 1
  store i64 %b, i64* %g
  %l = load i64, i64* %g
  %t = trunc i64 %l to i32
  %s = sext i32 %t to i64
  %z = zext i32 %a to i64
  %bc = bitcast i32* %p to i8*
  %m = mul i64 %s, 64
  %sub = sub i64 %m, %z
  %sh = ashr i64 %sub, 2
  %lsh = lshr i64 %sh, 1
  %an = and i64 %lsh, %b
  %o = or i64 %an, 0
  br label %next
next:
  %c = call i32 @ext(i32 %a)
  call void @sink(i64 %o)
  %w = call i64 @wide(i64 %o, i64 -1)
  %cmp = icmp sgt i32 %c, 0
  %sel = select i1 %cmp, i64 %w, i64 %o
  %fn = fneg double 1.0
  ret i64 %sel
}
)IR";

// A guarded loop: entry -> (exit | ph), ph -> loop, loop -> (exit | loop), exit -> done.
constexpr const char* kLoopModule = R"IR(
declare i32 @ext(i32)
declare void @sink(i64)

define i32 @f(i32 %n, i64 %m) {
entry:
  %cmp = icmp eq i32 %n, 0
  br i1 %cmp, label %exit, label %ph
ph:
  br label %loop
loop:
  %i = phi i32 [ 0, %ph ], [ %inc, %loop ]
  %acc = phi i64 [ %m, %ph ], [ %acc2, %loop ]
  %inc = add i32 %i, 1
  %sh = shl i64 %acc, 3
  %acc2 = xor i64 %sh, %acc
  %stop = icmp sge i32 %inc, %n
  br i1 %stop, label %exit, label %loop
exit:
  %res = phi i32 [ 1, %entry ], [ %inc, %loop ]
  %z = zext i32 %res to i64
  call void @sink(i64 %z)
  %r = call i32 @ext(i32 %res)
  br label %done
done:
  ret i32 %r
}
)IR";

// A conditional branch whose two edges go to the same block.
constexpr const char* kDuplicateEdgeModule = R"IR(
define i32 @dup(i1 %c) {
entry:
  br i1 %c, label %j, label %j
j:
  %p = phi i32 [ 0, %entry ], [ 0, %entry ]
  ret i32 %p
}
)IR";

TEST(FeaturesTest, InstCountNamesMatchCompilerGym) {
  // CompilerGym's INST_COUNT_FEATURE_NAMES (LLVM 10's Instruction.def, which LLVM 14 keeps
  // unchanged) with "Count" appended, as in its InstCountDict observation.
  const std::vector<std::string> expected = {
      "TotalInstsCount",
      "TotalBlocksCount",
      "TotalFuncsCount",
      "RetCount",
      "BrCount",
      "SwitchCount",
      "IndirectBrCount",
      "InvokeCount",
      "ResumeCount",
      "UnreachableCount",
      "CleanupRetCount",
      "CatchRetCount",
      "CatchSwitchCount",
      "CallBrCount",
      "FNegCount",
      "AddCount",
      "FAddCount",
      "SubCount",
      "FSubCount",
      "MulCount",
      "FMulCount",
      "UDivCount",
      "SDivCount",
      "FDivCount",
      "URemCount",
      "SRemCount",
      "FRemCount",
      "ShlCount",
      "LShrCount",
      "AShrCount",
      "AndCount",
      "OrCount",
      "XorCount",
      "AllocaCount",
      "LoadCount",
      "StoreCount",
      "GetElementPtrCount",
      "FenceCount",
      "AtomicCmpXchgCount",
      "AtomicRMWCount",
      "TruncCount",
      "ZExtCount",
      "SExtCount",
      "FPToUICount",
      "FPToSICount",
      "UIToFPCount",
      "SIToFPCount",
      "FPTruncCount",
      "FPExtCount",
      "PtrToIntCount",
      "IntToPtrCount",
      "BitCastCount",
      "AddrSpaceCastCount",
      "CleanupPadCount",
      "CatchPadCount",
      "ICmpCount",
      "FCmpCount",
      "PHICount",
      "CallCount",
      "SelectCount",
      "UserOp1Count",
      "UserOp2Count",
      "VAArgCount",
      "ExtractElementCount",
      "InsertElementCount",
      "ShuffleVectorCount",
      "ExtractValueCount",
      "InsertValueCount",
      "LandingPadCount",
      "FreezeCount",
  };
  ASSERT_EQ(expected.size(), 70u);
  llvm::LLVMContext context;
  llvm::Module module("empty", context);
  const FeatureVector features = InstCountFeatures(module);
  EXPECT_EQ(features.names, expected);
  EXPECT_EQ(features.values.size(), 70u);
}

TEST(FeaturesTest, AutophaseNamesMatchCompilerGym) {
  // CompilerGym's AUTOPHASE_FEATURE_NAMES, in order.
  const std::vector<std::string> expected = {
      "BBNumArgsHi",  "BBNumArgsLo",    "onePred",       "onePredOneSuc",  "onePredTwoSuc",
      "oneSuccessor", "twoPred",        "twoPredOneSuc", "twoEach",        "twoSuccessor",
      "morePreds",    "BB03Phi",        "BBHiPhi",       "BBNoPhi",        "BeginPhi",
      "BranchCount",  "returnInt",      "CriticalCount", "NumEdges",       "const32Bit",
      "const64Bit",   "numConstZeroes", "numConstOnes",  "UncondBranches", "binaryConstArg",
      "NumAShrInst",  "NumAddInst",     "NumAllocaInst", "NumAndInst",     "BlockMid",
      "BlockLow",     "NumBitCastInst", "NumBrInst",     "NumCallInst",    "NumGetElementPtrInst",
      "NumICmpInst",  "NumLShrInst",    "NumLoadInst",   "NumMulInst",     "NumOrInst",
      "NumPHIInst",   "NumRetInst",     "NumSExtInst",   "NumSelectInst",  "NumShlInst",
      "NumStoreInst", "NumSubInst",     "NumTruncInst",  "NumXorInst",     "NumZExtInst",
      "TotalBlocks",  "TotalInsts",     "TotalMemInst",  "TotalFuncs",     "ArgsPhi",
      "testUnary",
  };
  ASSERT_EQ(expected.size(), 56u);
  llvm::LLVMContext context;
  llvm::Module module("empty", context);
  const FeatureVector features = AutophaseFeatures(module);
  EXPECT_EQ(features.names, expected);
  EXPECT_EQ(features.values.size(), 56u);
}

TEST(FeaturesTest, EmptyModuleIsAllZeros) {
  llvm::LLVMContext context;
  llvm::Module module("empty", context);
  ExpectFeatures(InstCountFeatures(module), {});
  ExpectFeatures(AutophaseFeatures(module), {});
  EXPECT_EQ(IrInstructionCount(module), 0);
}

TEST(FeaturesTest, InstCountCountsOpcodesBlocksAndDeclarations) {
  llvm::LLVMContext context;
  const auto module = ParseVerified(context, kSmallModule);
  ASSERT_NE(module, nullptr);
  // @f: freeze icmp br | add br | phi call ret = 8; @g: alloca store load store ret = 5.
  // Blocks: 3 in @f, 1 in @g. Functions: @ext, @f, @g (the declaration counts).
  const std::map<std::string, int64_t> expected = {
      {"TotalInstsCount", 13}, {"TotalBlocksCount", 4}, {"TotalFuncsCount", 3}, {"RetCount", 2},
      {"BrCount", 2},          {"AddCount", 1},         {"AllocaCount", 1},     {"LoadCount", 1},
      {"StoreCount", 2},       {"ICmpCount", 1},        {"PHICount", 1},        {"CallCount", 1},
      {"FreezeCount", 1},
  };
  ExpectFeatures(InstCountFeatures(*module), expected);
  // Defined functions only: 8 + 5.
  EXPECT_EQ(IrInstructionCount(*module), 13);
}

TEST(FeaturesTest, InstCountCoversCastsMemoryAndFNeg) {
  llvm::LLVMContext context;
  const auto module = ParseVerified(context, kStraightModule);
  ASSERT_NE(module, nullptr);
  // entry has 15 instructions, next has 7: call call call icmp select fneg ret.
  const std::map<std::string, int64_t> expected = {
      {"TotalInstsCount", 22},
      {"TotalBlocksCount", 2},
      {"TotalFuncsCount", 4},  // 3 declarations, @ops
      {"RetCount", 1},
      {"BrCount", 1},
      {"FNegCount", 1},
      {"SubCount", 1},
      {"MulCount", 1},
      {"LShrCount", 1},
      {"AShrCount", 1},
      {"AndCount", 1},
      {"OrCount", 1},
      {"AllocaCount", 1},
      {"LoadCount", 1},
      {"StoreCount", 1},
      {"GetElementPtrCount", 1},
      {"TruncCount", 1},
      {"ZExtCount", 1},
      {"SExtCount", 1},
      {"BitCastCount", 1},
      {"ICmpCount", 1},
      {"CallCount", 3},
      {"SelectCount", 1},
  };
  ExpectFeatures(InstCountFeatures(*module), expected);
  EXPECT_EQ(IrInstructionCount(*module), 22);
}

TEST(FeaturesTest, InstCountCountsSwitch) {
  llvm::LLVMContext context;
  const auto module = ParseVerified(context, kSwitchModule);
  ASSERT_NE(module, nullptr);
  // switch | br | icmp br | br | br | 4 phi, 3 add, ret.
  const std::map<std::string, int64_t> expected = {
      {"TotalInstsCount", 14}, {"TotalBlocksCount", 6}, {"TotalFuncsCount", 1},
      {"RetCount", 1},         {"BrCount", 4},          {"SwitchCount", 1},
      {"AddCount", 3},         {"ICmpCount", 1},        {"PHICount", 4},
  };
  ExpectFeatures(InstCountFeatures(*module), expected);
}

TEST(FeaturesTest, AutophaseSwitchFanOutWithFourWayJoin) {
  llvm::LLVMContext context;
  const auto module = ParseVerified(context, kSwitchModule);
  ASSERT_NE(module, nullptr);
  // Blocks (preds, succs): entry (0, 3), a (1, 1), b (1, 2), c (1, 1), d (1, 1), m (4, 0).
  const std::map<std::string, int64_t> expected = {
      {"BBNumArgsHi", 1},    // m: 4 phis x 4 incoming = 16 > 5
      {"onePred", 4},        // a b c d
      {"onePredOneSuc", 3},  // a c d
      {"onePredTwoSuc", 1},  // b
      {"oneSuccessor", 3},   // a c d
      {"twoSuccessor", 1},   // b; the 3-way switch counts in no output counter
      {"morePreds", 1},      // m
      {"BBHiPhi", 1},        // m has 4 > 3 phis
      {"BBNoPhi", 5},        // entry a b c d
      {"BeginPhi", 1},       // m
      {"BranchCount", 4},    // br in a b c d; a switch is not a branch
      // Edges: entry->{d,a,b}, a->m, b->{m,c}, c->m, d->m = 8. Only b->m is
      // critical: b has 2 successors and m 4 predecessors; a, b, c, d have one
      // predecessor each.
      {"CriticalCount", 1},
      {"NumEdges", 8},
      // i32 constants: switch cases 1 2, icmp 7, phi values 10 20 30 40, 1 2 3 4,
      // 0 0 0 0 = 15; ones: case 1 and phi 1; zeroes: the four phi 0s.
      {"const32Bit", 15},
      {"numConstZeroes", 4},
      {"numConstOnes", 2},
      {"UncondBranches", 3},  // a c d
      {"NumAddInst", 3},      // no add has a constant operand
      {"BlockLow", 6},        // every block has under 15 instructions
      {"NumBrInst", 4},
      {"NumICmpInst", 1},
      {"NumPHIInst", 4},
      {"NumRetInst", 1},
      {"TotalBlocks", 6},
      {"TotalInsts", 14},
      {"TotalFuncs", 1},
      {"ArgsPhi", 16},
  };
  ExpectFeatures(AutophaseFeatures(*module), expected);
}

TEST(FeaturesTest, AutophaseConstantsCallsAndBlockSizes) {
  llvm::LLVMContext context;
  const auto module = ParseVerified(context, kStraightModule);
  ASSERT_NE(module, nullptr);
  const std::map<std::string, int64_t> expected = {
      {"onePred", 1},       // next
      {"oneSuccessor", 1},  // entry
      {"BBNoPhi", 2},
      {"BranchCount", 1},
      {"returnInt", 2},  // @ext (i32) and @wide (i64); @sink returns void
      {"NumEdges", 1},   // entry->next, not critical
      // i32: the implicit array size `i32 1` of the alloca, icmp's 0 = 2.
      {"const32Bit", 2},
      // i64: gep 0 and 1, mul 64, ashr 2, lshr 1, or 0, call's -1 = 7.
      {"const64Bit", 7},
      {"numConstZeroes", 3},  // gep 0, or 0, icmp 0
      {"numConstOnes", 3},    // alloca size 1, gep 1, lshr 1
      {"UncondBranches", 1},
      {"binaryConstArg", 4},  // mul ashr lshr or; fneg is unary
      {"NumAShrInst", 1},
      {"NumAllocaInst", 1},
      {"NumAndInst", 1},
      {"BlockMid", 1},  // entry has exactly 15 instructions
      {"BlockLow", 1},  // next has 7
      {"NumBitCastInst", 1},
      {"NumBrInst", 1},
      {"NumCallInst", 3},
      {"NumGetElementPtrInst", 1},
      {"NumICmpInst", 1},
      {"NumLShrInst", 1},
      {"NumLoadInst", 1},
      {"NumMulInst", 1},
      {"NumOrInst", 1},
      {"NumRetInst", 1},
      {"NumSExtInst", 1},
      {"NumSelectInst", 1},
      {"NumStoreInst", 1},
      {"NumSubInst", 1},
      {"NumTruncInst", 1},
      {"NumZExtInst", 1},
      {"TotalBlocks", 2},
      {"TotalInsts", 22},
      {"TotalMemInst", 7},  // alloca gep store load + 3 calls
      {"TotalFuncs", 4},
      {"testUnary", 7},  // alloca load trunc sext zext bitcast fneg
  };
  ExpectFeatures(AutophaseFeatures(*module), expected);
}

TEST(FeaturesTest, AutophaseLoopWithPhisAndCriticalEdges) {
  llvm::LLVMContext context;
  const auto module = ParseVerified(context, kLoopModule);
  ASSERT_NE(module, nullptr);
  // Blocks (preds, succs): entry (0, 2), ph (1, 1), loop (2, 2), exit (2, 1), done (1, 0).
  const std::map<std::string, int64_t> expected = {
      {"BBNumArgsLo", 2},    // loop: 2 phis x 2 = 4; exit: 1 phi x 2 = 2
      {"onePred", 2},        // ph done
      {"onePredOneSuc", 1},  // ph
      {"oneSuccessor", 2},   // ph exit
      {"twoPred", 2},        // loop exit
      {"twoPredOneSuc", 1},  // exit
      {"twoEach", 1},        // loop
      {"twoSuccessor", 2},   // entry loop
      {"BB03Phi", 2},        // loop exit
      {"BBNoPhi", 3},        // entry ph done
      {"BeginPhi", 2},       // loop exit
      {"BranchCount", 4},    // entry ph loop exit
      {"returnInt", 1},      // @ext; @sink returns void
      // Edges: entry->{exit,ph}, ph->loop, loop->{exit,loop}, exit->done = 6.
      // Critical: entry->exit, loop->exit, loop->loop (a 2-successor source and a
      // 2-predecessor target); entry->ph is not, ph has one predecessor.
      {"CriticalCount", 3},
      {"NumEdges", 6},
      // i32: icmp 0, phi 0, add 1, phi 1 = 4; i64: shl 3 = 1.
      {"const32Bit", 4},
      {"const64Bit", 1},
      {"numConstZeroes", 2},
      {"numConstOnes", 2},
      {"UncondBranches", 2},  // ph exit
      {"binaryConstArg", 2},  // add 1, shl 3
      {"NumAddInst", 1},
      {"BlockLow", 5},
      {"NumBrInst", 4},
      {"NumCallInst", 2},
      {"NumICmpInst", 2},
      {"NumPHIInst", 3},
      {"NumRetInst", 1},
      {"NumShlInst", 1},
      {"NumXorInst", 1},
      {"NumZExtInst", 1},
      {"TotalBlocks", 5},
      {"TotalInsts", 16},   // 2 + 1 + 7 + 5 + 1
      {"TotalMemInst", 2},  // the two calls
      {"TotalFuncs", 3},    // @ext @sink @f
      {"ArgsPhi", 6},
      {"testUnary", 1},  // zext
  };
  ExpectFeatures(AutophaseFeatures(*module), expected);
  EXPECT_EQ(IrInstructionCount(*module), 16);
}

TEST(FeaturesTest, AutophaseCountsDuplicateEdgesWithMultiplicity) {
  llvm::LLVMContext context;
  const auto module = ParseVerified(context, kDuplicateEdgeModule);
  ASSERT_NE(module, nullptr);
  // j is reached twice from entry, so it has 2 predecessors and its phi 2 incoming values.
  const std::map<std::string, int64_t> expected = {
      {"BBNumArgsLo", 1},    // j: 1 phi x 2 = 2
      {"twoPred", 1},        // j
      {"twoSuccessor", 1},   // entry
      {"BB03Phi", 1},        // j
      {"BBNoPhi", 1},        // entry
      {"BeginPhi", 1},       // j
      {"BranchCount", 1},    // conditional
      {"CriticalCount", 2},  // identical edges are not exempt: j has a second predecessor entry
      {"NumEdges", 2},       // entry->j twice
      {"const32Bit", 2},     // the phi's two i32 0s
      {"numConstZeroes", 2}, {"BlockLow", 2},   {"NumBrInst", 1},
      {"NumPHIInst", 1},     {"NumRetInst", 1}, {"TotalBlocks", 2},
      {"TotalInsts", 3},     {"TotalFuncs", 1}, {"ArgsPhi", 2},
  };
  ExpectFeatures(AutophaseFeatures(*module), expected);
}

TEST(FeaturesTest, AutophaseTestUnaryLeavesOutFreeze) {
  llvm::LLVMContext context;
  const auto module = ParseVerified(context, kSmallModule);
  ASSERT_NE(module, nullptr);
  const FeatureVector features = AutophaseFeatures(*module);
  // alloca and load are unary instructions; LLVM's UnaryInstruction::classof excludes freeze.
  EXPECT_EQ(Feature(features, "testUnary"), 2);
  // alloca, load, 2 stores, 1 call (no gep).
  EXPECT_EQ(Feature(features, "TotalMemInst"), 5);
  // i32 constants: add 1, alloca size 1, store 0 = 3.
  EXPECT_EQ(Feature(features, "const32Bit"), 3);
  EXPECT_EQ(Feature(features, "numConstOnes"), 2);
  EXPECT_EQ(Feature(features, "numConstZeroes"), 1);
  // entry -> {then, join}: entry->join is critical (join has 2 predecessors), entry->then is not.
  EXPECT_EQ(Feature(features, "CriticalCount"), 1);
  EXPECT_EQ(Feature(features, "NumEdges"), 3);
  EXPECT_EQ(Feature(features, "returnInt"), 1);
}

}  // namespace
}  // namespace sysopt
