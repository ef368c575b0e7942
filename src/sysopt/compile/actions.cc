// The action set. Levels come from where LLVM 14's PassRegistry.def registers each pass; every
// entry was run alone on unoptimised modules (tests/compile/actions_test.cc keeps it so).
#include "sysopt/compile/actions.h"

#include <fmt/format.h>

#include <algorithm>

namespace sysopt {

std::string_view PassLevelName(PassLevel level) {
  switch (level) {
    case PassLevel::kModule:
      return "module";
    case PassLevel::kCgscc:
      return "cgscc";
    case PassLevel::kFunction:
      return "function";
    case PassLevel::kLoop:
      return "loop";
  }
  return "?";
}

const std::vector<PassAction>& PassActions() {
  static const std::vector<PassAction> actions = {
      {"add-discriminators", "add-discriminators", PassLevel::kFunction},
      {"adce", "adce", PassLevel::kFunction},
      {"aggressive-instcombine", "aggressive-instcombine", PassLevel::kFunction},
      {"alignment-from-assumptions", "alignment-from-assumptions", PassLevel::kFunction},
      {"always-inline", "always-inline", PassLevel::kModule},
      {"argpromotion", "argpromotion", PassLevel::kCgscc},
      {"attributor", "attributor", PassLevel::kModule},
      {"bdce", "bdce", PassLevel::kFunction},
      {"break-crit-edges", "break-crit-edges", PassLevel::kFunction},
      {"simplifycfg", "simplifycfg", PassLevel::kFunction},
      {"callsite-splitting", "callsite-splitting", PassLevel::kFunction},
      {"called-value-propagation", "called-value-propagation", PassLevel::kModule},
      {"canonicalize-aliases", "canonicalize-aliases", PassLevel::kModule},
      {"consthoist", "consthoist", PassLevel::kFunction},
      {"constmerge", "constmerge", PassLevel::kModule},
      {"coro-cleanup", "coro-cleanup", PassLevel::kFunction},
      {"coro-early", "coro-early", PassLevel::kFunction},
      {"coro-elide", "coro-elide", PassLevel::kFunction},
      {"coro-split", "coro-split", PassLevel::kCgscc},
      {"correlated-propagation", "correlated-propagation", PassLevel::kFunction},
      {"cross-dso-cfi", "cross-dso-cfi", PassLevel::kModule},
      {"deadargelim", "deadargelim", PassLevel::kModule},
      {"dce", "dce", PassLevel::kFunction},
      {"dse", "dse", PassLevel::kFunction},
      {"reg2mem", "reg2mem", PassLevel::kFunction},
      {"div-rem-pairs", "div-rem-pairs", PassLevel::kFunction},
      {"early-cse-memssa", "early-cse<memssa>", PassLevel::kFunction},
      {"early-cse", "early-cse", PassLevel::kFunction},
      {"elim-avail-extern", "elim-avail-extern", PassLevel::kModule},
      {"ee-instrument", "ee-instrument", PassLevel::kFunction},
      {"flattencfg", "flattencfg", PassLevel::kFunction},
      {"float2int", "float2int", PassLevel::kFunction},
      {"forceattrs", "forceattrs", PassLevel::kModule},
      {"inline", "inline", PassLevel::kCgscc},
      {"insert-gcov-profiling", "insert-gcov-profiling", PassLevel::kModule},
      {"gvn-hoist", "gvn-hoist", PassLevel::kFunction},
      {"gvn", "gvn", PassLevel::kFunction},
      {"globaldce", "globaldce", PassLevel::kModule},
      {"globalopt", "globalopt", PassLevel::kModule},
      {"globalsplit", "globalsplit", PassLevel::kModule},
      {"guard-widening", "guard-widening", PassLevel::kFunction},
      {"hotcoldsplit", "hotcoldsplit", PassLevel::kModule},
      {"ipsccp", "ipsccp", PassLevel::kModule},
      {"indvars", "indvars", PassLevel::kLoop},
      {"irce", "irce", PassLevel::kFunction},
      {"infer-address-spaces", "infer-address-spaces", PassLevel::kFunction},
      {"inferattrs", "inferattrs", PassLevel::kModule},
      {"inject-tli-mappings", "inject-tli-mappings", PassLevel::kFunction},
      {"instsimplify", "instsimplify", PassLevel::kFunction},
      {"instcombine", "instcombine", PassLevel::kFunction},
      {"instnamer", "instnamer", PassLevel::kFunction},
      {"jump-threading", "jump-threading", PassLevel::kFunction},
      {"lcssa", "lcssa", PassLevel::kFunction},
      {"licm", "licm", PassLevel::kLoop},
      {"libcalls-shrinkwrap", "libcalls-shrinkwrap", PassLevel::kFunction},
      {"load-store-vectorizer", "load-store-vectorizer", PassLevel::kFunction},
      {"loop-data-prefetch", "loop-data-prefetch", PassLevel::kFunction},
      {"loop-deletion", "loop-deletion", PassLevel::kLoop},
      {"loop-distribute", "loop-distribute", PassLevel::kFunction},
      {"loop-fusion", "loop-fusion", PassLevel::kFunction},
      {"loop-guard-widening", "guard-widening", PassLevel::kLoop},
      {"loop-idiom", "loop-idiom", PassLevel::kLoop},
      {"loop-instsimplify", "loop-instsimplify", PassLevel::kLoop},
      {"loop-interchange", "loop-interchange", PassLevel::kLoop},
      {"loop-load-elim", "loop-load-elim", PassLevel::kFunction},
      {"loop-predication", "loop-predication", PassLevel::kLoop},
      {"loop-reroll", "loop-reroll", PassLevel::kLoop},
      {"loop-rotate", "loop-rotate", PassLevel::kLoop},
      {"loop-simplifycfg", "loop-simplifycfg", PassLevel::kLoop},
      {"loop-simplify", "loop-simplify", PassLevel::kFunction},
      {"loop-sink", "loop-sink", PassLevel::kFunction},
      {"loop-reduce", "loop-reduce", PassLevel::kLoop},
      {"loop-unroll-and-jam", "loop-unroll-and-jam", PassLevel::kLoop},
      {"loop-unroll", "loop-unroll", PassLevel::kFunction},
      {"loop-unswitch", "simple-loop-unswitch", PassLevel::kLoop},
      {"loop-vectorize", "loop-vectorize", PassLevel::kFunction},
      {"loop-versioning-licm", "loop-versioning-licm", PassLevel::kLoop},
      {"loop-versioning", "loop-versioning", PassLevel::kFunction},
      {"loweratomic", "loweratomic", PassLevel::kFunction},
      {"lower-constant-intrinsics", "lower-constant-intrinsics", PassLevel::kFunction},
      {"lower-expect", "lower-expect", PassLevel::kFunction},
      {"lower-guard-intrinsic", "lower-guard-intrinsic", PassLevel::kFunction},
      {"lowerinvoke", "lowerinvoke", PassLevel::kFunction},
      {"lower-matrix-intrinsics", "lower-matrix-intrinsics", PassLevel::kFunction},
      {"lowerswitch", "lowerswitch", PassLevel::kFunction},
      {"lower-widenable-condition", "lower-widenable-condition", PassLevel::kFunction},
      {"memcpyopt", "memcpyopt", PassLevel::kFunction},
      {"mergefunc", "mergefunc", PassLevel::kModule},
      {"mergeicmps", "mergeicmps", PassLevel::kFunction},
      {"mldst-motion", "mldst-motion", PassLevel::kFunction},
      {"sancov", "sancov-module", PassLevel::kModule},
      {"name-anon-globals", "name-anon-globals", PassLevel::kModule},
      {"nary-reassociate", "nary-reassociate", PassLevel::kFunction},
      {"newgvn", "newgvn", PassLevel::kFunction},
      {"pgo-memop-opt", "pgo-memop-opt", PassLevel::kFunction},
      {"partial-inliner", "partial-inliner", PassLevel::kModule},
      {"partially-inline-libcalls", "partially-inline-libcalls", PassLevel::kFunction},
      {"post-inline-ee-instrument", "ee-instrument<post-inline>", PassLevel::kFunction},
      {"functionattrs", "function-attrs", PassLevel::kCgscc},
      {"mem2reg", "mem2reg", PassLevel::kFunction},
      {"reassociate", "reassociate", PassLevel::kFunction},
      {"redundant-dbg-inst-elim", "redundant-dbg-inst-elim", PassLevel::kFunction},
      {"rpo-functionattrs", "rpo-function-attrs", PassLevel::kModule},
      {"rewrite-statepoints-for-gc", "rewrite-statepoints-for-gc", PassLevel::kModule},
      {"sccp", "sccp", PassLevel::kFunction},
      {"slp-vectorizer", "slp-vectorizer", PassLevel::kFunction},
      {"sroa", "sroa", PassLevel::kFunction},
      {"scalarizer", "scalarizer", PassLevel::kFunction},
      {"separate-const-offset-from-gep", "separate-const-offset-from-gep", PassLevel::kFunction},
      {"sink", "sink", PassLevel::kFunction},
      {"speculative-execution", "speculative-execution", PassLevel::kFunction},
      {"slsr", "slsr", PassLevel::kFunction},
      {"strip-dead-prototypes", "strip-dead-prototypes", PassLevel::kModule},
      {"strip-debug-declare", "strip-debug-declare", PassLevel::kModule},
      {"strip-nondebug", "strip-nondebug", PassLevel::kModule},
      {"strip", "strip", PassLevel::kModule},
      {"tailcallelim", "tailcallelim", PassLevel::kFunction},
      {"mergereturn", "mergereturn", PassLevel::kFunction},
      // LLVM's standard pipelines as single actions (not in CompilerGym's set): a sequence may
      // start from -Oz and improve on it, or run a pipeline again after other passes.
      {"", "default<O1>", PassLevel::kModule},
      {"", "default<O2>", PassLevel::kModule},
      {"", "default<O3>", PassLevel::kModule},
      {"", "default<Os>", PassLevel::kModule},
      {"", "default<Oz>", PassLevel::kModule},
  };
  return actions;
}

int CompilerGymActionCount() {
  static const int count = [] {
    int n = 0;
    for (const PassAction& a : PassActions()) n += !a.compiler_gym_name.empty();
    return n;
  }();
  return count;
}

std::string_view ActionId(int index) {
  static const std::vector<std::string_view> ids = [] {
    const auto& actions = PassActions();
    std::vector<std::string_view> out;
    for (const PassAction& a : actions) {
      const auto same = std::count_if(actions.begin(), actions.end(),
                                      [&](const PassAction& b) { return b.name == a.name; });
      out.push_back(same > 1 && !a.compiler_gym_name.empty() && a.compiler_gym_name != a.name
                        ? a.compiler_gym_name
                        : a.name);
    }
    return out;
  }();
  return ids.at(static_cast<size_t>(index));
}

std::optional<int> FindPassAction(std::string_view name) {
  const auto& actions = PassActions();
  for (size_t i = 0; i < actions.size(); ++i) {
    if (ActionId(static_cast<int>(i)) == name) return static_cast<int>(i);
  }
  for (size_t i = 0; i < actions.size(); ++i) {
    if (actions[i].name == name) return static_cast<int>(i);
  }
  for (size_t i = 0; i < actions.size(); ++i) {
    if (!name.empty() && actions[i].compiler_gym_name == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string WrappedPass(const PassAction& action) {
  switch (action.level) {
    case PassLevel::kModule:
      return std::string(action.name);
    case PassLevel::kCgscc:
      return fmt::format("cgscc({})", action.name);
    case PassLevel::kFunction:
      return fmt::format("function({})", action.name);
    case PassLevel::kLoop:
      // LICM requires MemorySSA; a loop pass manager with MemorySSA aborts when a pass in it
      // does not preserve it (loop-reroll, indvars, ...), so only LICM gets one.
      if (action.name == "licm") return fmt::format("function(loop-mssa({}))", action.name);
      return fmt::format("function(loop({}))", action.name);
  }
  return std::string(action.name);
}

Parameter PassSequenceParameter(int max_length, bool compiler_gym_only) {
  Parameter passes;
  passes.name = "passes";
  passes.kind = ParamKind::kSequence;
  const int n =
      compiler_gym_only ? CompilerGymActionCount() : static_cast<int>(PassActions().size());
  for (int i = 0; i < n; ++i) passes.values.emplace_back(std::string(ActionId(i)));
  passes.size = max_length;
  passes.min_length = 0;
  return passes;
}

std::string PipelineText(const std::vector<int>& actions) {
  std::string text;
  for (int a : actions) {
    if (!text.empty()) text += ',';
    text += WrappedPass(PassActions().at(a));
  }
  return text;
}

}  // namespace sysopt
