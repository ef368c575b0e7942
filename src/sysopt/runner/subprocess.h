#pragma once
/// \file
/// \brief Runs one program without a shell, in its own process group, with a time limit, while
/// draining its stdout and stderr. The building block of the command runner.
///
/// Thread safety: RunSubprocess may be called concurrently from several threads; it uses
/// posix_spawn (no code runs between fork and exec) and close-on-exec pipes, so concurrent calls
/// do not leak descriptors into each other's children.

#include <cstddef>
#include <string>
#include <vector>

namespace sysopt {

class Cancellation;

/// \brief What to run and how.
struct SubprocessOptions {
  std::vector<std::string> argv;  ///< argv[0] is looked up in PATH unless it contains a '/'.
  std::vector<std::string> env;   ///< The complete environment, as "NAME=value" entries.
  std::string working_dir;        ///< Empty: the current directory.
  double timeout_s = 0;           ///< 0: no limit.
  /// \brief After the time limit, the group gets SIGTERM, then SIGKILL after this grace.
  double kill_grace_s = 0.5;
  /// \brief After the program exits, how long to wait for end-of-file on its pipes, which a
  /// descendant that left the process group may hold open.
  double drain_grace_s = 0.5;
  /// \brief When set and requested (before or during the run), the program's process group gets
  /// the cancellation's signal, then SIGKILL after its grace period; a program not yet started is
  /// not started.
  const Cancellation* cancel = nullptr;
  size_t max_stdout_bytes = size_t{1} << 20;  ///< Only the tail of stdout is kept.
  size_t max_stderr_bytes = 2048;             ///< Only the tail of stderr is kept.
};

/// \brief What happened.
struct SubprocessOutcome {
  bool started = false;     ///< False: the program could not be executed (see start_error).
  std::string start_error;  ///< E.g. "cannot execute './x': No such file or directory".
  bool timed_out = false;   ///< The time limit passed and the group was killed.
  bool cancelled = false;   ///< Stopped (or never started) because of a cancellation.
  bool signaled = false;    ///< The program ended by a signal (see signal_number).
  int signal_number = 0;
  int exit_code = -1;       ///< Valid when started, not signaled.
  std::string stdout_tail;  ///< Last max_stdout_bytes of stdout.
  std::string stderr_tail;  ///< Last max_stderr_bytes of stderr.
  bool stdout_truncated = false;
  double seconds = 0;       ///< Wall time from start to the end of draining.
  double exit_seconds = 0;  ///< Wall time from start until the program itself exited.
  /// User plus system CPU time of the program itself (and of the descendants it waited for).
  double cpu_seconds = 0;
};

/// \brief Runs the program to completion (or until the time limit), then kills whatever is left
/// of its process group, so background descendants do not outlive the measurement.
SubprocessOutcome RunSubprocess(const SubprocessOptions& options);

/// \brief This process's environment as "NAME=value" entries (for SubprocessOptions::env).
std::vector<std::string> CurrentEnvironment();

/// \brief "SIGSEGV" for SIGSEGV, "signal 42" for a number without a name.
std::string SignalName(int signal_number);

}  // namespace sysopt
