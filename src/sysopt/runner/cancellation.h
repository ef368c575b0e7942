#pragma once
/// \file
/// \brief A request to stop the programs a runner has started, made from anywhere (a signal
/// handler included) and seen at once by every subprocess being waited for.
///
/// The first Request names the signal to pass on to each running program's process group;
/// the runner then waits a grace period for the program to end before it kills the group. A
/// second Request shortens that grace period. Once requested, a cancellation stays requested.
///
/// Thread safety: Request is async-signal-safe and may be called from any thread or from a
/// signal handler; the readers may be called concurrently from any thread.

#include <atomic>

namespace sysopt {

class Cancellation {
 public:
  /// \brief Grace period after the first request, before SIGKILL.
  static constexpr double kGraceS = 5;
  /// \brief Grace period once a second request came.
  static constexpr double kHurriedGraceS = 0.2;

  Cancellation();
  ~Cancellation();
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  /// \brief Records a request to stop, passing `signal_number` on to the running programs
  /// (the first request's signal is kept). Returns how many requests there have been,
  /// this one included. Async-signal-safe.
  int Request(int signal_number) noexcept;

  /// \brief True once Request has been called.
  bool requested() const { return requests_.load() > 0; }
  /// \brief How many times Request has been called.
  int requests() const { return requests_.load(); }
  /// \brief The signal of the first request (0 before one).
  int signal_number() const { return signal_.load(); }
  /// \brief How long a program that got the signal is given before it is killed.
  double grace_s() const { return requests() >= 2 ? kHurriedGraceS : kGraceS; }
  /// \brief A descriptor that becomes readable at the first request and stays so (for poll).
  int fd() const { return read_fd_; }
  /// \brief A flag that turns true at the first request, for loops that only poll a flag.
  const std::atomic<bool>* flag() const { return &flag_; }

 private:
  std::atomic<int> requests_{0};
  std::atomic<int> signal_{0};
  std::atomic<bool> flag_{false};
  int read_fd_ = -1;
  int write_fd_ = -1;
};

}  // namespace sysopt
