// CompilerGym's InstCount and Autophase features, reimplemented over a const module.
//
// The reference definitions are CompilerGym's compiler_gym/third_party/llvm/InstCount.{h,cc}
// (InstCount) and compiler_gym/third_party/autophase/InstCount.{h,cc} (Autophase). Both run an
// InstVisitor over every function of the module, declarations included; the counting rules below
// follow theirs one for one, including the quirks that a faithful copy has to keep:
//  - TotalFuncs counts declarations, although the counter's own description says
//    "non-external functions": the passes are driven by a loop over all functions, not by a pass
//    manager that would skip declarations.
//  - Predecessors and CFG edges are counted with multiplicity (a switch with two cases to one
//    block gives that block two predecessors and makes two edges, both critical).
//  - Constants are counted per operand use and only when they are scalar ConstantInts; the
//    implicit `i32 1` size operand of every `alloca` counts as a 32-bit constant one.
//  - testUnary is isa<UnaryInstruction>, whose classof leaves `freeze` out even though FreezeInst
//    derives from UnaryInstruction.
// Walking the module directly, instead of deriving from llvm::InstVisitor and FunctionPass, keeps
// the module const and avoids subclassing LLVM's RTTI-less polymorphic classes.
#include "sysopt/compile/features.h"

#include <llvm/ADT/APInt.h>
#include <llvm/Analysis/CFG.h>
#include <llvm/IR/BasicBlock.h>
#include <llvm/IR/CFG.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/InstrTypes.h>
#include <llvm/IR/Instruction.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Casting.h>

#include <array>
#include <cstddef>
#include <iterator>
#include <utility>

namespace sysopt {

namespace {

// LLVM numbers opcodes densely from 1, so an opcode indexes a count array directly.
#define HANDLE_INST(N, OPCODE, CLASS) +1
constexpr unsigned kNumOpcodes = 0
#include <llvm/IR/Instruction.def>
    ;

// CompilerGym's InstCount has 3 totals plus one counter per opcode of LLVM 10, and LLVM 14 has
// exactly the same 67 opcodes in the same order; a different LLVM would change the vector.
static_assert(kNumOpcodes == 67, "InstCount expects the 67 opcodes of LLVM 10 and 14");
static_assert(llvm::Instruction::OtherOpsEnd == kNumOpcodes + 1, "opcodes are not dense");

struct OpcodeName {
  unsigned opcode;
  const char* name;
};

constexpr OpcodeName kOpcodeNames[] = {
#define HANDLE_INST(N, OPCODE, CLASS) {llvm::Instruction::OPCODE, #OPCODE},
#include <llvm/IR/Instruction.def>
};
static_assert(std::size(kOpcodeNames) == kNumOpcodes);

using OpcodeCounts = std::array<int64_t, kNumOpcodes + 1>;

// The totals both vectors share.
struct ModuleCounts {
  int64_t funcs = 0;
  int64_t blocks = 0;
  int64_t insts = 0;
  OpcodeCounts by_opcode{};

  int64_t Of(unsigned opcode) const { return by_opcode[opcode]; }
};

ModuleCounts CountModule(const llvm::Module& module) {
  ModuleCounts counts;
  for (const llvm::Function& function : module) {
    ++counts.funcs;
    for (const llvm::BasicBlock& block : function) {
      ++counts.blocks;
      for (const llvm::Instruction& inst : block) {
        ++counts.insts;
        ++counts.by_opcode[inst.getOpcode()];
      }
    }
  }
  return counts;
}

// The Autophase counters that are not plain opcode counts.
struct AutophaseCounts {
  int64_t bb_num_args_hi = 0;
  int64_t bb_num_args_lo = 0;
  int64_t one_pred = 0;
  int64_t one_pred_one_suc = 0;
  int64_t one_pred_two_suc = 0;
  int64_t one_successor = 0;
  int64_t two_pred = 0;
  int64_t two_pred_one_suc = 0;
  int64_t two_each = 0;
  int64_t two_successor = 0;
  int64_t more_preds = 0;
  int64_t bb_03_phi = 0;
  int64_t bb_hi_phi = 0;
  int64_t bb_no_phi = 0;
  int64_t begin_phi = 0;
  int64_t branch_count = 0;
  int64_t return_int = 0;
  int64_t critical_count = 0;
  int64_t num_edges = 0;
  int64_t const_32_bit = 0;
  int64_t const_64_bit = 0;
  int64_t num_const_zeroes = 0;
  int64_t num_const_ones = 0;
  int64_t uncond_branches = 0;
  int64_t binary_const_arg = 0;
  int64_t block_mid = 0;
  int64_t block_low = 0;
  int64_t args_phi = 0;
  int64_t test_unary = 0;
};

// Autophase's block-size classes: fewer than 15 instructions is low, 15 to 500 is mid (larger
// blocks are counted as "high" by CompilerGym but that counter is not in the vector).
constexpr size_t kBlockMidMin = 15;
constexpr size_t kBlockMidMax = 500;
// More than this many phi incoming values in a block makes it BBNumArgsHi, 1 up to it Lo.
constexpr unsigned kPhiArgsLoMax = 5;
// Up to this many phi nodes in a block makes it BB03Phi, more BBHiPhi.
constexpr unsigned kPhiCountLoMax = 3;

void CountOperandConstants(const llvm::Instruction& inst, AutophaseCounts& counts) {
  for (const llvm::Use& operand : inst.operands()) {
    const auto* constant = llvm::dyn_cast<llvm::ConstantInt>(operand.get());
    if (constant == nullptr) continue;
    const llvm::APInt& value = constant->getValue();
    if (value.getBitWidth() == 32) {
      ++counts.const_32_bit;
    } else if (value.getBitWidth() == 64) {
      ++counts.const_64_bit;
    }
    if (value == 1) {
      ++counts.num_const_ones;
    } else if (value == 0) {
      ++counts.num_const_zeroes;
    }
  }
}

void CountInstruction(const llvm::Instruction& inst, AutophaseCounts& counts) {
  if (const auto* branch = llvm::dyn_cast<llvm::BranchInst>(&inst)) {
    ++counts.branch_count;
    if (branch->isUnconditional()) ++counts.uncond_branches;
  }
  CountOperandConstants(inst, counts);
  // Only direct calls whose callee's type matches the call are seen; invokes are not calls here.
  if (const auto* call = llvm::dyn_cast<llvm::CallInst>(&inst)) {
    const llvm::Function* callee = call->getCalledFunction();
    if (callee != nullptr && callee->getReturnType()->isIntegerTy()) ++counts.return_int;
  }
  if (llvm::isa<llvm::UnaryInstruction>(inst)) ++counts.test_unary;
  if (llvm::isa<llvm::BinaryOperator>(inst) && (llvm::isa<llvm::Constant>(inst.getOperand(0)) ||
                                                llvm::isa<llvm::Constant>(inst.getOperand(1)))) {
    ++counts.binary_const_arg;
  }
}

void CountBlock(const llvm::BasicBlock& block, AutophaseCounts& counts) {
  // A verified module has a terminator in every block; tolerate one that does not.
  const llvm::Instruction* terminator = block.getTerminator();
  const unsigned num_successors = terminator == nullptr ? 0 : terminator->getNumSuccessors();
  for (unsigned i = 0; i < num_successors; ++i) {
    ++counts.num_edges;
    if (llvm::isCriticalEdge(terminator, i)) ++counts.critical_count;
  }
  const size_t num_preds = llvm::pred_size(&block);

  if (num_successors == 1) {
    ++counts.one_successor;
  } else if (num_successors == 2) {
    ++counts.two_successor;
  }
  if (num_preds == 1) {
    ++counts.one_pred;
  } else if (num_preds == 2) {
    ++counts.two_pred;
  } else if (num_preds > 2) {
    ++counts.more_preds;
  }
  if (num_preds == 1 && num_successors == 1) {
    ++counts.one_pred_one_suc;
  } else if (num_preds == 2 && num_successors == 1) {
    ++counts.two_pred_one_suc;
  } else if (num_preds == 1 && num_successors == 2) {
    ++counts.one_pred_two_suc;
  } else if (num_preds == 2 && num_successors == 2) {
    ++counts.two_each;
  }

  unsigned phi_count = 0;
  unsigned phi_args = 0;
  size_t size = 0;
  for (const llvm::Instruction& inst : block) {
    if (const auto* phi = llvm::dyn_cast<llvm::PHINode>(&inst)) {
      if (size == 0) ++counts.begin_phi;
      ++phi_count;
      phi_args += phi->getNumIncomingValues();
    }
    CountInstruction(inst, counts);
    ++size;
  }
  counts.args_phi += phi_args;

  if (phi_count == 0) {
    ++counts.bb_no_phi;
  } else if (phi_count <= kPhiCountLoMax) {
    ++counts.bb_03_phi;
  } else {
    ++counts.bb_hi_phi;
  }
  if (phi_args > kPhiArgsLoMax) {
    ++counts.bb_num_args_hi;
  } else if (phi_args >= 1) {
    ++counts.bb_num_args_lo;
  }
  if (size < kBlockMidMin) {
    ++counts.block_low;
  } else if (size <= kBlockMidMax) {
    ++counts.block_mid;
  }
}

class FeatureVectorBuilder {
 public:
  explicit FeatureVectorBuilder(size_t size) {
    vector_.names.reserve(size);
    vector_.values.reserve(size);
  }

  void Add(std::string name, int64_t value) {
    vector_.names.push_back(std::move(name));
    vector_.values.push_back(value);
  }

  FeatureVector Take() { return std::move(vector_); }

 private:
  FeatureVector vector_;
};

}  // namespace

FeatureVector InstCountFeatures(const llvm::Module& module) {
  const ModuleCounts counts = CountModule(module);
  FeatureVectorBuilder features(3 + kNumOpcodes);
  features.Add("TotalInstsCount", counts.insts);
  features.Add("TotalBlocksCount", counts.blocks);
  features.Add("TotalFuncsCount", counts.funcs);
  for (const OpcodeName& opcode : kOpcodeNames) {
    features.Add(std::string(opcode.name) + "Count", counts.Of(opcode.opcode));
  }
  return features.Take();
}

FeatureVector AutophaseFeatures(const llvm::Module& module) {
  const ModuleCounts ops = CountModule(module);
  AutophaseCounts c;
  for (const llvm::Function& function : module) {
    for (const llvm::BasicBlock& block : function) CountBlock(block, c);
  }
  using llvm::Instruction;
  // CompilerGym's "memory instructions": the ones that may touch memory through a pointer,
  // calls and invokes included, but neither fences nor atomics.
  const int64_t mem_insts = ops.Of(Instruction::GetElementPtr) + ops.Of(Instruction::Load) +
                            ops.Of(Instruction::Store) + ops.Of(Instruction::Call) +
                            ops.Of(Instruction::Invoke) + ops.Of(Instruction::Alloca);

  FeatureVectorBuilder f(56);
  f.Add("BBNumArgsHi", c.bb_num_args_hi);
  f.Add("BBNumArgsLo", c.bb_num_args_lo);
  f.Add("onePred", c.one_pred);
  f.Add("onePredOneSuc", c.one_pred_one_suc);
  f.Add("onePredTwoSuc", c.one_pred_two_suc);
  f.Add("oneSuccessor", c.one_successor);
  f.Add("twoPred", c.two_pred);
  f.Add("twoPredOneSuc", c.two_pred_one_suc);
  f.Add("twoEach", c.two_each);
  f.Add("twoSuccessor", c.two_successor);
  f.Add("morePreds", c.more_preds);
  f.Add("BB03Phi", c.bb_03_phi);
  f.Add("BBHiPhi", c.bb_hi_phi);
  f.Add("BBNoPhi", c.bb_no_phi);
  f.Add("BeginPhi", c.begin_phi);
  f.Add("BranchCount", c.branch_count);
  f.Add("returnInt", c.return_int);
  f.Add("CriticalCount", c.critical_count);
  f.Add("NumEdges", c.num_edges);
  f.Add("const32Bit", c.const_32_bit);
  f.Add("const64Bit", c.const_64_bit);
  f.Add("numConstZeroes", c.num_const_zeroes);
  f.Add("numConstOnes", c.num_const_ones);
  f.Add("UncondBranches", c.uncond_branches);
  f.Add("binaryConstArg", c.binary_const_arg);
  f.Add("NumAShrInst", ops.Of(Instruction::AShr));
  f.Add("NumAddInst", ops.Of(Instruction::Add));
  f.Add("NumAllocaInst", ops.Of(Instruction::Alloca));
  f.Add("NumAndInst", ops.Of(Instruction::And));
  f.Add("BlockMid", c.block_mid);
  f.Add("BlockLow", c.block_low);
  f.Add("NumBitCastInst", ops.Of(Instruction::BitCast));
  f.Add("NumBrInst", ops.Of(Instruction::Br));
  f.Add("NumCallInst", ops.Of(Instruction::Call));
  f.Add("NumGetElementPtrInst", ops.Of(Instruction::GetElementPtr));
  f.Add("NumICmpInst", ops.Of(Instruction::ICmp));
  f.Add("NumLShrInst", ops.Of(Instruction::LShr));
  f.Add("NumLoadInst", ops.Of(Instruction::Load));
  f.Add("NumMulInst", ops.Of(Instruction::Mul));
  f.Add("NumOrInst", ops.Of(Instruction::Or));
  f.Add("NumPHIInst", ops.Of(Instruction::PHI));
  f.Add("NumRetInst", ops.Of(Instruction::Ret));
  f.Add("NumSExtInst", ops.Of(Instruction::SExt));
  f.Add("NumSelectInst", ops.Of(Instruction::Select));
  f.Add("NumShlInst", ops.Of(Instruction::Shl));
  f.Add("NumStoreInst", ops.Of(Instruction::Store));
  f.Add("NumSubInst", ops.Of(Instruction::Sub));
  f.Add("NumTruncInst", ops.Of(Instruction::Trunc));
  f.Add("NumXorInst", ops.Of(Instruction::Xor));
  f.Add("NumZExtInst", ops.Of(Instruction::ZExt));
  f.Add("TotalBlocks", ops.blocks);
  f.Add("TotalInsts", ops.insts);
  f.Add("TotalMemInst", mem_insts);
  f.Add("TotalFuncs", ops.funcs);
  f.Add("ArgsPhi", c.args_phi);
  f.Add("testUnary", c.test_unary);
  return f.Take();
}

int64_t IrInstructionCount(const llvm::Module& module) { return module.getInstructionCount(); }

}  // namespace sysopt
