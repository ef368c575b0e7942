#pragma once
/// \brief A pool of forked worker processes that apply pass sequences to one program in
/// process and measure the result. LLVM work never runs in the calling process: a pass order
/// that crashes LLVM or hangs kills only its worker, comes back as a failed evaluation with the
/// reason, and the worker is replaced.
///
/// Each worker parses the program once, then evaluates requests one at a time: it clones the
/// module after the longest prefix of the sequence it still holds (it keeps the modules of
/// recent sequences), applies the rest, and measures. Sequences that share a prefix with a
/// recent one (greedy extensions, tree search, local moves near the end) cost only their new
/// passes.
///
/// Thread safety: Evaluate may be called from several threads at once; each call takes a free
/// worker (waiting for one). Workers die with the pool, and with the process that owns it
/// (PR_SET_PDEATHSIG), so none outlives sysopt.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"

namespace sysopt {

/// \brief What to apply and what to measure.
struct PassRequest {
  /// Indices into PassActions(), applied one after the other (each wrapped at its level).
  std::vector<int> actions;
  /// When not empty, a pipeline text applied instead of `actions` (e.g. "default<Oz>").
  std::string pipeline;
  bool text_size = false;    ///< Also measure the `.text` bytes of the object file.
  bool features = false;     ///< Also compute InstCount and Autophase features.
  std::string object_path;   ///< When set, write the object file here.
  std::string bitcode_path;  ///< When set, write the optimised module's bitcode here.
};

/// \brief What the worker measured, or why it could not.
struct PassResult {
  bool ok = false;
  int64_t ir_count = -1;                   ///< IR instructions after the passes.
  int64_t text_size = -1;                  ///< When asked.
  std::vector<std::string> feature_names;  ///< When asked: InstCount then Autophase.
  std::vector<int64_t> feature_values;
  std::string failure_reason;  ///< When not ok.
  bool crashed = false;        ///< The worker died (a signal) or hung and was replaced.
  int applied = 0;             ///< Passes applied (the rest came from a held prefix).
  double seconds = 0;          ///< Wall time of the evaluation, as the caller saw it.
};

struct PassPoolOptions {
  int workers = 1;
  double timeout_s = 60;  ///< Per evaluation; a worker that takes longer is killed.
  /// Modules of recent sequences each worker keeps, bounded by their total instruction count.
  int64_t cache_instructions = 2'000'000;  // a few hundred MB
};

class PassPool {
 public:
  /// \brief Starts the workers on the program's bitcode; fails when a worker cannot start or
  /// cannot read the bitcode.
  static Expected<std::unique_ptr<PassPool>> Create(std::string bitcode,
                                                    const PassPoolOptions& options);
  ~PassPool();
  PassPool(const PassPool&) = delete;
  PassPool& operator=(const PassPool&) = delete;

  /// \brief Evaluates one request on a free worker. Never throws; failures are in the result.
  PassResult Evaluate(const PassRequest& request);

  /// \brief From now on, no evaluation runs past `deadline` (a steady-clock time in seconds
  /// since its epoch; infinity clears it): one still running then is cut short, its worker
  /// replaced, and it fails as stopped by the time limit. Lets a command keep its time limit
  /// whatever LLVM does.
  void SetDeadline(double steady_seconds);

  /// \brief Workers replaced after a crash or a hang since the pool started.
  int replaced() const;

  int workers() const;

 private:
  struct State;
  explicit PassPool(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace sysopt
