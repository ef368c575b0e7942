#pragma once
/// \brief Per-loop vectorisation and interleaving factors (NeuroVectorizer's problem), chosen by
/// search: the innermost loops of C/C++ sources are found with libclang-14, probed with LLVM's
/// own vectoriser remarks, and each tunable loop gets one (VF, IF) pair, written as
/// `#pragma clang loop vectorize_width(VF) interleave_count(IF)` before it. A trial builds the
/// annotated sources with `clang-14 -O3`, runs the program and times it; its output must equal
/// the plain -O3 build's.
///
/// Thread safety: FindLoops and ProbeLoops may be called from several threads (each call has its
/// own libclang index and subprocesses). VectorizeRunner::Run may be called concurrently (each
/// trial has its own scratch files), though timings are only meaningful one at a time.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/runner/runner.h"
#include "sysopt/space/spec.h"

namespace sysopt {

/// \brief One loop statement of a source file.
struct SourceLoop {
  std::string file;      ///< The source as given on the command line.
  int line = 0;          ///< 1-based line of the loop keyword.
  int column = 0;        ///< 1-based column of the loop keyword.
  size_t offset = 0;     ///< Byte offset of the loop keyword in the file.
  std::string kind;      ///< "for", "while", "do" or "range-for".
  std::string function;  ///< The enclosing function ("" at file scope).
};

/// \brief A loop found but not tuned, and why.
struct SkippedLoop {
  std::string file;
  int line = 0;
  std::string reason;  ///< E.g. "in a header (left alone)", "loop not vectorized: ...".
};

/// \brief What FindLoops found.
struct LoopScan {
  std::vector<SourceLoop> loops;  ///< Innermost loops of the given files, in file then line order.
  std::vector<SkippedLoop> skipped;  ///< Innermost loops that cannot take a pragma.
  int outer_loops = 0;               ///< Loops of the given files that hold another loop.
};

/// \brief Parses every source with libclang (with `clang_flags`, e.g. -I and -D) and lists its
/// innermost loops: loops written in the given files themselves. Loops in headers are left alone
/// (those of user headers are listed in `skipped`, those of system headers not at all); a loop
/// that a macro expands to cannot take a pragma and is listed in `skipped`; so is one already
/// under a `#pragma clang loop`, `#pragma unroll` or `#pragma omp`. Errors (invalid input): a
/// missing file, a file that is not a C/C++ source, a source that does not compile (with clang's
/// diagnostics).
Expected<LoopScan> FindLoops(const std::vector<std::string>& sources,
                             const std::vector<std::string>& clang_flags);

/// \brief A loop's factors; 0 stands for "leave it to LLVM" (no clause in the pragma).
struct LoopFactors {
  int vf = 0;  ///< Vectorisation width: 1 (no vectorisation), 2, 4, ..., 64, or 0.
  int ic = 0;  ///< Interleave count: 1, 2, 4, 8, 16, or 0.
};

/// \brief The pragma for `factors` ("#pragma clang loop vectorize_width(4) interleave_count(2)"),
/// or "" when both are left to LLVM.
std::string LoopPragma(const LoopFactors& factors);

/// \brief `text` (the contents of a source) with the pragma of each loop inserted on its own line
/// before the loop's line, with the loop's indentation (or on new lines before the keyword when
/// other code precedes it on its line). Nothing else changes, unless `path_for_line_directives`
/// is set: then a `#line` directive after each pragma (and one at the top) keeps every line's
/// number and the file's name as in the original, for compiler messages and `__FILE__`.
/// `loops` and `factors` are parallel; loops of other files must not be passed.
std::string AnnotateSource(const std::string& text, const std::vector<SourceLoop>& loops,
                           const std::vector<LoopFactors>& factors,
                           const std::string& path_for_line_directives = "");

/// \brief What LLVM's vectoriser says of a loop when vectorisation is asked for.
struct LoopProbe {
  bool vectorized = false;
  std::string reason;  ///< Why not (the vectoriser's remark), when not vectorised.
};

/// \brief Compiles each source with `clang-14 -O3`, every listed loop under `#pragma clang loop
/// vectorize(enable)`, and reads the loop-vectorize remarks (-Rpass, -Rpass-missed,
/// -Rpass-analysis) at each loop's line. A loop without any remark was removed before the
/// vectoriser saw it (fully unrolled, or its function is unused). One entry per loop.
Expected<std::vector<LoopProbe>> ProbeLoops(const std::vector<SourceLoop>& loops,
                                            const std::vector<std::string>& sources,
                                            const std::vector<std::string>& clang_flags,
                                            const std::string& scratch_dir);

/// \brief The VF values searched (0 = LLVM's choice, then 1, 2, 4, ..., 64).
const std::vector<int>& VectorWidths();
/// \brief The IF values searched (0 = LLVM's choice, then 1, 2, 4, 8, 16).
const std::vector<int>& InterleaveCounts();

/// \brief The space of a vectorisation study: per loop k (1-based) an ordinal `vf_k` over
/// VectorWidths() and an ordinal `if_k` over InterleaveCounts(), both defaulting to 0 (the plain
/// -O3 build is the default configuration); one minimised objective "seconds". A constraint that
/// names `vf` or `if` without a number applies to every loop (`vf * if <= 64`); others are
/// taken as written. Errors: a constraint that does not parse or names unknown parameters.
Expected<Spec> VectorizeSpec(const std::string& name, int loops,
                             const std::vector<std::string>& constraints);

/// \brief The factors of each loop in a configuration of VectorizeSpec's space.
std::vector<LoopFactors> ConfigFactors(const Config& config);

/// \brief How trials are built and run.
struct VectorizeOptions {
  std::vector<std::string> sources;      ///< As given; all are compiled and linked together.
  std::vector<std::string> clang_flags;  ///< For compiling every source (-I, -D, -march=...).
  std::vector<std::string> link_flags;   ///< After the sources (default: -lm).
  std::vector<std::string> args;         ///< The program's arguments.
  std::string working_dir;               ///< Where the program runs (empty: here).
  int repeat = 3;                        ///< Runs per trial; the median counts.
  /// Time a run by the program's CPU time (user + system), which other processes on a shared
  /// machine disturb far less than its wall time; false: wall time, start to exit (for
  /// programs that wait or run threads).
  bool cpu_time = true;
  /// Per run; 0: ten times the plain -O3 build's run time, at least 5 s.
  double run_timeout_s = 0;
  double compile_timeout_s = 300;
};

/// \brief Builds and runs trials of a vectorisation study.
class VectorizeRunner final : public Runner {
 public:
  /// \brief Builds the plain -O3 program and runs it twice for its reference output. Errors
  /// (invalid input): the build fails (with clang's message), the program cannot run, fails
  /// (exit code or signal, with the end of its stderr), runs past the time limit, or prints
  /// something else the second time.
  /// `loops` are the tuned loops in the order of the space; `scratch_dir` must exist.
  static Expected<std::unique_ptr<VectorizeRunner>> Create(VectorizeOptions options,
                                                           std::vector<SourceLoop> loops,
                                                           std::string scratch_dir);

  /// \brief Builds the configuration's annotated program and measures its run time.
  RunResult Run(const Config& config, int64_t trial_number) override;

  /// \brief Seconds (as measured: CPU or wall time) the plain -O3 program's reference run took.
  double reference_seconds() const { return reference_seconds_; }

 private:
  VectorizeRunner(VectorizeOptions options, std::vector<SourceLoop> loops, std::string scratch_dir);
  // Writes the annotated sources into `dir` and returns the compiler's argument list.
  Expected<std::vector<std::string>> BuildCommand(const std::vector<LoopFactors>& factors,
                                                  const std::string& dir,
                                                  const std::string& exe) const;
  VectorizeOptions options_;
  std::vector<SourceLoop> loops_;
  std::string scratch_dir_;
  std::string compiler_;
  std::string reference_output_;
  int reference_exit_ = 0;
  double reference_seconds_ = 0;
  double run_timeout_s_ = 0;
  std::atomic<int64_t> counter_{0};
};

}  // namespace sysopt
