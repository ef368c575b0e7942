#pragma once
/// \file
/// \brief CompilerGym's program-feature vectors for an LLVM 14 module: InstCount (70 counters)
/// and Autophase (56 counters), with CompilerGym's feature names, order and counting rules, so
/// that models and datasets built with CompilerGym's LLVM environment carry over.
///
/// Thread safety: every function only reads the module; calls on modules that no thread is
/// changing may run concurrently.

#include <cstdint>
#include <string>
#include <vector>

namespace llvm {
class Module;
}  // namespace llvm

namespace sysopt {

/// \brief One named feature vector: `names[i]` labels `values[i]`; both have the same length.
struct FeatureVector {
  std::vector<std::string> names;
  std::vector<int64_t> values;
};

/// \brief CompilerGym's `InstCount` observation: TotalInsts, TotalBlocks, TotalFuncs, then one
/// count per LLVM opcode in `llvm/IR/Instruction.def` order (Ret, Br, Switch, ..., Freeze).
///
/// Names are the keys of CompilerGym's `InstCountDict` (`TotalInstsCount`, `RetCount`, ...): the
/// names of `compiler_gym.third_party.llvm.instcount.INST_COUNT_FEATURE_NAMES` with `Count`
/// appended. TotalFuncs counts every function of the module, declarations included, as
/// CompilerGym's does.
FeatureVector InstCountFeatures(const llvm::Module& module);

/// \brief CompilerGym's `Autophase` observation (Huang et al., FCCM 2019): 56 counters of CFG
/// shape, phi nodes, constants and selected opcodes, named and ordered as
/// `compiler_gym.third_party.autophase.AUTOPHASE_FEATURE_NAMES` (BBNumArgsHi, ..., testUnary).
FeatureVector AutophaseFeatures(const llvm::Module& module);

/// \brief IR instruction count of the module (CompilerGym's IrInstructionCount): all
/// instructions in all defined functions.
int64_t IrInstructionCount(const llvm::Module& module);

}  // namespace sysopt
