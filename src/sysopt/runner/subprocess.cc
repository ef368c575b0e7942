#include "sysopt/runner/subprocess.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <system_error>

#include "sysopt/runner/cancellation.h"

namespace sysopt {
namespace {

using Clock = std::chrono::steady_clock;

// strerror is not thread-safe; the category message uses strerror_r.
std::string ErrnoText(int err) { return std::system_category().message(err); }

// Clock::duration counts int64 nanoseconds (292 years): a longer wait saturates at a century
// rather than wrapping around to a negative one, and anything not positive is no wait at all.
Clock::duration Seconds(double s) {
  constexpr double kMaxSeconds = 100.0 * 365 * 24 * 3600;
  const double clamped = s > 0 ? std::min(s, kMaxSeconds) : 0.0;
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(clamped));
}

/// Closes a descriptor when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Keeps the last `cap` bytes appended, in amortised linear time.
class TailBuffer {
 public:
  explicit TailBuffer(size_t cap) : cap_(cap) {}

  void Append(const char* data, size_t n) {
    total_ += n;
    data_.append(data, n);
    if (data_.size() > 2 * cap_ + 65536) data_.erase(0, data_.size() - cap_);
  }
  bool truncated() const { return total_ > cap_; }
  std::string Take() {
    if (data_.size() > cap_) data_.erase(0, data_.size() - cap_);
    return std::move(data_);
  }

 private:
  size_t cap_;
  size_t total_ = 0;
  std::string data_;
};

// The child's standard descriptors are set up with dup2 onto 0..2; a pipe end that itself landed
// on 0..2 (because the tuner closed one of its own) would be clobbered, so move it higher.
bool MoveAboveStandardFds(int& fd) {
  if (fd > 2) return true;
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return false;
  close(fd);
  fd = moved;
  return true;
}

bool MakePipe(UniqueFd& read_end, UniqueFd& write_end, int& err) {
  int fds[2];
  // Close-on-exec, so that a program started concurrently by another thread does not inherit
  // this pipe and keep it open after our own program has exited.
  if (pipe2(fds, O_CLOEXEC) != 0 || !MoveAboveStandardFds(fds[0]) ||
      !MoveAboveStandardFds(fds[1])) {
    err = errno;
    return false;
  }
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  return true;
}

// Whether the child has terminated, without reaping it: while the zombie exists its pid, and so
// its process-group id, cannot be reused, which makes signalling the group afterwards safe.
bool ChildHasExited(pid_t pid) {
  for (;;) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
      return info.si_pid == pid;
    }
    if (errno == EINTR) continue;
    return true;  // ECHILD: someone else reaped it (e.g. SIGCHLD ignored); nothing to wait for.
  }
}

void SignalGroup(pid_t pid, int sig) {
  kill(-pid, sig);
  // The program may have moved itself to another group; reach it directly too.
  kill(pid, sig);
}

int OpenPidFd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

/// Owns posix_spawn's attribute and file-action objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::string SignalName(int signal_number) {
  if (const char* abbrev = sigabbrev_np(signal_number)) return fmt::format("SIG{}", abbrev);
  return fmt::format("signal {}", signal_number);
}

SubprocessOutcome RunSubprocess(const SubprocessOptions& options) {
  SubprocessOutcome outcome;
  const Clock::time_point start = Clock::now();
  auto finish = [&]() -> SubprocessOutcome {
    outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return outcome;
  };
  if (options.argv.empty()) {
    outcome.start_error = "cannot execute an empty command";
    return finish();
  }
  const std::string& program = options.argv[0];
  if (options.cancel != nullptr && options.cancel->requested()) {
    outcome.cancelled = true;
    outcome.start_error = "not started: stopping";
    return finish();
  }

  UniqueFd out_read, out_write, err_read, err_write;
  int err = 0;
  if (!MakePipe(out_read, out_write, err) || !MakePipe(err_read, err_write, err)) {
    outcome.start_error = fmt::format("cannot execute '{}': pipe: {}", program, ErrnoText(err));
    return finish();
  }

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err_write.get(), 2);
  if (!options.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, options.working_dir.c_str());
  }
  // Own process group (so a time limit can kill every descendant), default signal dispositions
  // and an empty mask (the tuner's own choices, e.g. ignoring SIGPIPE, must not leak).
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&setup.attr, &signals);
  sigfillset(&signals);
  posix_spawnattr_setsigdefault(&setup.attr, &signals);

  std::vector<char*> argv = CStrings(options.argv);
  std::vector<char*> envp = CStrings(options.env);
  pid_t pid = -1;
  const int spawn_error =
      posix_spawnp(&pid, program.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
  out_write.Reset();
  err_write.Reset();
  if (spawn_error != 0) {
    // posix_spawn reports a failed chdir like a failed exec; tell the two apart.
    int dir_error = 0;
    if (!options.working_dir.empty()) {
      struct stat st;
      if (stat(options.working_dir.c_str(), &st) != 0) {
        dir_error = errno;
      } else if (!S_ISDIR(st.st_mode)) {
        dir_error = ENOTDIR;
      } else if (access(options.working_dir.c_str(), X_OK) != 0) {
        dir_error = errno;
      }
    }
    if (dir_error != 0) {
      outcome.start_error = fmt::format("cannot change to working directory '{}': {}",
                                        options.working_dir, ErrnoText(dir_error));
    } else {
      outcome.start_error = fmt::format("cannot execute '{}': {}", program, ErrnoText(spawn_error));
    }
    return finish();
  }
  outcome.started = true;

  UniqueFd pidfd(OpenPidFd(pid));
  TailBuffer stdout_tail(options.max_stdout_bytes);
  TailBuffer stderr_tail(options.max_stderr_bytes);
  UniqueFd* pipes[2] = {&out_read, &err_read};
  TailBuffer* buffers[2] = {&stdout_tail, &stderr_tail};
  const bool has_deadline = options.timeout_s > 0;
  const Clock::time_point deadline = start + Seconds(options.timeout_s);
  bool exited = false;
  bool term_sent = false;
  bool kill_sent = false;
  bool cancel_sent = false;
  Clock::time_point exit_time{};
  Clock::time_point term_time{};
  Clock::time_point cancel_time{};
  const Cancellation* cancel = options.cancel;
  // The kill deadline after a cancellation; a second request shortens it, so it is read anew.
  auto cancel_kill_time = [&] { return cancel_time + Seconds(cancel->grace_s()); };
  std::vector<char> chunk(size_t{1} << 16);

  for (;;) {
    if (!exited && ChildHasExited(pid)) {
      exited = true;
      exit_time = Clock::now();
      outcome.exit_seconds = std::chrono::duration<double>(exit_time - start).count();
      // Background descendants must not outlive the measurement (nor hold its pipes open).
      kill(-pid, SIGKILL);
    }
    const Clock::time_point now = Clock::now();
    const bool pipes_open = out_read.valid() || err_read.valid();
    if (exited && (!pipes_open || now >= exit_time + Seconds(options.drain_grace_s))) break;
    if (!exited && has_deadline && !term_sent && now >= deadline) {
      outcome.timed_out = true;
      SignalGroup(pid, SIGTERM);
      term_sent = true;
      term_time = now;
    }
    if (!exited && term_sent && !kill_sent && now >= term_time + Seconds(options.kill_grace_s)) {
      SignalGroup(pid, SIGKILL);
      kill_sent = true;
    }
    // A stop request: pass the signal on (the program runs in its own group, so a terminal's
    // Ctrl-C never reaches it), then kill the group if it is still there after the grace.
    if (!exited && cancel != nullptr && !cancel_sent && cancel->requested()) {
      outcome.cancelled = true;
      SignalGroup(pid, cancel->signal_number() > 0 ? cancel->signal_number() : SIGTERM);
      cancel_sent = true;
      cancel_time = now;
    }
    if (!exited && cancel_sent && !kill_sent && now >= cancel_kill_time()) {
      SignalGroup(pid, SIGKILL);
      kill_sent = true;
    }

    // Sleep in poll until output arrives, the child exits, or the next deadline.
    Clock::time_point wake = Clock::time_point::max();
    if (exited) {
      wake = exit_time + Seconds(options.drain_grace_s);
    } else {
      // Without a pidfd there is no event for the child's exit: check again soon.
      if (!pidfd.valid()) wake = now + std::chrono::milliseconds(10);
      if (has_deadline && !term_sent) wake = std::min(wake, deadline);
      if (term_sent && !kill_sent) wake = std::min(wake, term_time + Seconds(options.kill_grace_s));
      // After passing a stop on, look again soon: a second request shortens the grace.
      if (cancel_sent && !kill_sent) {
        wake = std::min({wake, cancel_kill_time(), now + std::chrono::milliseconds(50)});
      }
    }
    int timeout_ms = -1;
    if (wake != Clock::time_point::max()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
    }
    pollfd fds[4];
    int watched[4];  // index into pipes, 2 for the pidfd, 3 for the cancellation
    nfds_t count = 0;
    for (int i = 0; i < 2; ++i) {
      if (!pipes[i]->valid()) continue;
      fds[count] = {pipes[i]->get(), POLLIN, 0};
      watched[count++] = i;
    }
    if (!exited && pidfd.valid()) {
      fds[count] = {pidfd.get(), POLLIN, 0};
      watched[count++] = 2;
    }
    if (!exited && cancel != nullptr && !cancel_sent && cancel->fd() >= 0) {
      fds[count] = {cancel->fd(), POLLIN, 0};
      watched[count++] = 3;
    }
    const int ready = poll(fds, count, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      // Unexpected; avoid spinning while the limits above still bound the run.
      poll(nullptr, 0, 10);
      continue;
    }
    for (nfds_t k = 0; k < count; ++k) {
      if (watched[k] >= 2 || fds[k].revents == 0) continue;
      UniqueFd& pipe = *pipes[watched[k]];
      const ssize_t n = read(pipe.get(), chunk.data(), chunk.size());
      if (n > 0) {
        buffers[watched[k]]->Append(chunk.data(), static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        pipe.Reset();
      }
    }
  }

  int status = 0;
  pid_t reaped;
  struct rusage usage {};
  do {
    reaped = wait4(pid, &status, 0, &usage);
  } while (reaped < 0 && errno == EINTR);
  if (reaped == pid) {
    outcome.cpu_seconds =
        static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
        static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
  }
  if (reaped == pid && WIFSIGNALED(status)) {
    outcome.signaled = true;
    outcome.signal_number = WTERMSIG(status);
  } else if (reaped == pid && WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
  }
  outcome.stdout_truncated = stdout_tail.truncated();
  outcome.stdout_tail = stdout_tail.Take();
  outcome.stderr_tail = stderr_tail.Take();
  return finish();
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    env.emplace_back(*entry);
  }
  return env;
}

}  // namespace sysopt
