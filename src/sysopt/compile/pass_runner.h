#pragma once
/// \brief The pass-ordering problem as the tuner sees it: a space with one sequence parameter
/// over the action set, and a Runner that applies a configuration's passes in a PassPool and
/// measures one objective (IR instruction count, `.text` bytes, or the run time of the linked
/// program, whose output must equal the unoptimised build's).
///
/// Thread safety: the runner's Run may be called from several threads (the pool serialises
/// work per worker). Call order: create the pool, then the runner; the runner borrows the pool.

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/compile/pass_pool.h"
#include "sysopt/core/expected.h"
#include "sysopt/runner/runner.h"
#include "sysopt/space/spec.h"

namespace sysopt {

/// \brief What a pass sequence is judged by (lower is better for all three).
enum class CompileObjective { kIrCount, kTextSize, kRuntime };

/// \brief Reads "ir-count", "text-size" or "runtime"; the error lists them.
Expected<CompileObjective> ParseCompileObjective(std::string_view text);

/// \brief "ir-count", "text-size" or "runtime".
std::string_view CompileObjectiveName(CompileObjective objective);

/// \brief The objective's name in a study ("ir_count", "text_size_bytes", "seconds").
std::string_view CompileObjectiveColumn(CompileObjective objective);

/// \brief How the runtime objective builds and runs the program.
struct RuntimeOptions {
  std::vector<std::string> args;        ///< Arguments the program runs with.
  std::string working_dir;              ///< Where it runs (empty: the current folder).
  int repeat = 3;                       ///< Runs per sequence; the median counts.
  double timeout_s = 60;                ///< Per run.
  std::string linker = "clang-14";      ///< Links the object file into an executable.
  std::vector<std::string> link_flags;  ///< After the object file (default: -lm).
};

/// \brief The spec of a pass-ordering study: one parameter `passes` (a sequence of at most
/// `max_length` actions; its alphabet is PassActions() in order, or only CompilerGym's passes
/// when `compiler_gym_only`) and one minimised objective.
Spec PassOrderingSpec(const std::string& name, CompileObjective objective, int max_length,
                      bool compiler_gym_only);

/// \brief The action indices of a configuration of PassOrderingSpec's space.
std::vector<int> ConfigActions(const Config& config);

/// \brief The runner of pass-ordering trials.
class PassRunner final : public Runner {
 public:
  /// \brief For kRuntime it first builds and runs the unoptimised program once to record its
  /// reference output (an error if that fails: the program or its arguments are wrong); the
  /// executables go into `scratch_dir`, which must exist.
  static Expected<std::unique_ptr<PassRunner>> Create(PassPool& pool, CompileObjective objective,
                                                      RuntimeOptions runtime,
                                                      std::string scratch_dir);

  /// \brief Applies the configuration's passes and measures the objective.
  RunResult Run(const Config& config, int64_t trial_number) override;

  /// \brief Applies a whole pipeline text (e.g. "default<Oz>", or a found sequence's pipeline
  /// run as one) and measures it through the same path trials take.
  RunResult RunPipeline(const std::string& pipeline);

 private:
  // Evaluates the request in the pool and, for kRuntime, links and runs the program.
  RunResult Measure(PassRequest request);
  // Links `object` into `exe`; the error says what the linker printed.
  Expected<void> Link(const std::string& object, const std::string& exe);
  PassRunner(PassPool& pool, CompileObjective objective, RuntimeOptions runtime,
             std::string scratch_dir);
  PassPool& pool_;
  CompileObjective objective_;
  RuntimeOptions runtime_;
  std::string scratch_dir_;
  std::string reference_output_;
  int reference_exit_ = 0;
  std::atomic<int64_t> counter_{0};
};

}  // namespace sysopt
