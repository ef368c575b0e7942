#pragma once
/// \brief The pass-ordering action set: CompilerGym's LLVM passes under their LLVM 14
/// new-pass-manager names, each with the level of the pass manager it runs in, and the pipeline
/// text that runs a sequence of them exactly as `opt-14 -passes=...` would.
///
/// Everything here is plain data and pure functions: thread-safe, no LLVM types (so that it also
/// builds where the compile part, which links LLVM, is left out, e.g. in tests/fuzz/).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/space/parameter.h"

namespace sysopt {

/// \brief The pass manager a pass is nested in.
enum class PassLevel { kModule, kCgscc, kFunction, kLoop };

/// \brief "module", "cgscc", "function" or "loop".
std::string_view PassLevelName(PassLevel level);

/// \brief One action: a single LLVM pass.
struct PassAction {
  std::string_view compiler_gym_name;  ///< Its name in CompilerGym's action space; empty if none.
  std::string_view name;               ///< Its LLVM 14 new-pass-manager name.
  PassLevel level;
};

/// \brief The action set: first CompilerGym's passes in its order, one entry per distinct LLVM 14
/// pass and level (CompilerGym's `loop-unswitch` and `simple-loop-unswitch` are the same pass in
/// LLVM 14 and appear once; the passes LLVM 14 no longer has are left out), then LLVM's standard
/// pipelines `default<O1>` ... `default<Oz>` as single actions.
const std::vector<PassAction>& PassActions();

/// \brief How many leading entries of PassActions() are CompilerGym's passes (118).
int CompilerGymActionCount();

/// \brief The action's name in a search space: its LLVM 14 name, or, for the one LLVM 14 pass
/// that appears at two levels (guard-widening), CompilerGym's name for the loop-level one
/// (`loop-guard-widening`), so that every action has a distinct name.
std::string_view ActionId(int index);

/// \brief The index of the action with this id, LLVM 14 name or CompilerGym name, or nullopt.
std::optional<int> FindPassAction(std::string_view name);

/// \brief One action wrapped at its level so that it can stand alone at module level in a
/// pipeline: `function(sroa)`, `cgscc(inline)`, `function(loop(indvars))`; LICM, which needs
/// MemorySSA, runs in `function(loop-mssa(licm))`.
std::string WrappedPass(const PassAction& action);

/// \brief The parameter a pass-ordering space searches: `passes`, a sequence of 0 to `max_length`
/// actions whose alphabet is the actions' ids (ActionId) in order, all of PassActions() or only
/// CompilerGym's passes when `compiler_gym_only`; item k is action k.
Parameter PassSequenceParameter(int max_length, bool compiler_gym_only);

/// \brief The pipeline text for a sequence of actions (indices into PassActions()), each
/// wrapped on its own and joined by commas: what `opt-14 -passes='<text>'` accepts, and what the
/// in-process environment runs. Empty for an empty sequence.
std::string PipelineText(const std::vector<int>& actions);

}  // namespace sysopt
