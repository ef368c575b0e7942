#include "sysopt/runner/cancellation.h"

#include <fcntl.h>
#include <unistd.h>

namespace sysopt {

static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free,
              "Request must be async-signal-safe");

Cancellation::Cancellation() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    read_fd_ = fds[0];
    write_fd_ = fds[1];
  }
}

Cancellation::~Cancellation() {
  if (read_fd_ >= 0) close(read_fd_);
  if (write_fd_ >= 0) close(write_fd_);
}

int Cancellation::Request(int signal_number) noexcept {
  int expected = 0;
  signal_.compare_exchange_strong(expected, signal_number);
  const int count = requests_.fetch_add(1) + 1;
  flag_.store(true);
  // One byte, never read: the pipe stays readable, so every poller wakes, now and later.
  if (count == 1 && write_fd_ >= 0) {
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = write(write_fd_, &byte, 1);
  }
  return count;
}

}  // namespace sysopt
