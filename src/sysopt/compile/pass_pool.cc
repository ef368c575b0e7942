// The worker processes. Requests and replies are JSON lines over a Unix socket pair (send with
// MSG_NOSIGNAL, so a dead worker never raises SIGPIPE in sysopt). A worker's stderr goes to a
// memory file that sysopt reads when the worker dies, so "LLVM ERROR: ..." reaches the reason.
#include "sysopt/compile/pass_pool.h"

#include <fcntl.h>
#include <llvm/IR/Module.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "sysopt/compile/actions.h"
#include "sysopt/compile/features.h"
#include "sysopt/compile/llvm_module.h"
#include "sysopt/runner/subprocess.h"

namespace sysopt {

namespace {

using Clock = std::chrono::steady_clock;

bool SendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads one '\n'-terminated line; `buffer` keeps what came after it. Returns false on end of
// file or error, or when `deadline` passes (then *timed_out is set).
bool ReadLine(int fd, std::string& buffer, std::string* line, const Clock::time_point* deadline,
              bool* timed_out) {
  for (;;) {
    const size_t end = buffer.find('\n');
    if (end != std::string::npos) {
      line->assign(buffer, 0, end);
      buffer.erase(0, end + 1);
      return true;
    }
    if (deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) {
        *timed_out = true;
        return false;
      }
      pollfd p{fd, POLLIN, 0};
      const int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count() + 1, 1 << 30)));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return false;
      if (r == 0) continue;
    }
    char chunk[65536];
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

// ---- the worker process -------------------------------------------------------------------

// Modules after recently evaluated sequences, so that a sequence sharing a prefix with one of
// them starts from there. Bounded by total instructions; the least recently used go first.
class PrefixCache {
 public:
  explicit PrefixCache(int64_t limit) : limit_(limit) {}

  // The longest held prefix of `actions` (possibly empty: nullptr) and its length.
  const llvm::Module* Longest(const std::vector<int>& actions, size_t* length) {
    for (size_t n = actions.size(); n > 0; --n) {
      auto it = entries_.find(std::vector<int>(actions.begin(), actions.begin() + n));
      if (it != entries_.end()) {
        it->second.last_use = ++clock_;
        *length = n;
        return it->second.module.get();
      }
    }
    *length = 0;
    return nullptr;
  }

  void Put(const std::vector<int>& actions, std::unique_ptr<llvm::Module> module, int64_t size) {
    if (actions.empty() || size > limit_) return;
    auto& entry = entries_[actions];
    if (entry.module) total_ -= entry.size;
    entry = {std::move(module), size, ++clock_};
    total_ += size;
    while (total_ > limit_) {
      auto oldest = entries_.begin();
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->second.last_use < oldest->second.last_use) oldest = it;
      }
      total_ -= oldest->second.size;
      entries_.erase(oldest);
    }
  }

 private:
  struct Entry {
    std::unique_ptr<llvm::Module> module;
    int64_t size = 0;
    uint64_t last_use = 0;
  };
  int64_t limit_;
  int64_t total_ = 0;
  uint64_t clock_ = 0;
  std::map<std::vector<int>, Entry> entries_;
};

nlohmann::json Handle(LlvmSession& session, const llvm::Module& base, PrefixCache& cache,
                      const nlohmann::json& request) {
  const std::vector<int> actions = request.value("actions", std::vector<int>{});
  const std::string pipeline = request.value("pipeline", std::string());
  std::vector<std::string> steps;
  std::unique_ptr<llvm::Module> module;
  size_t held = 0;
  if (!pipeline.empty()) {
    module = LlvmSession::Clone(base);
    steps.push_back(pipeline);
  } else {
    const llvm::Module* start = cache.Longest(actions, &held);
    module = LlvmSession::Clone(start ? *start : base);
    for (size_t i = held; i < actions.size(); ++i) {
      if (actions[i] < 0 || actions[i] >= static_cast<int>(PassActions().size())) {
        return {{"ok", false}, {"reason", fmt::format("no action number {}", actions[i])}};
      }
      steps.push_back(WrappedPass(PassActions()[actions[i]]));
    }
  }
  if (!steps.empty()) {
    auto ran = session.RunPipelines(*module, steps);
    if (!ran.ok()) return {{"ok", false}, {"reason", ran.error().message()}};
  }
  nlohmann::json reply = {{"ok", true}, {"applied", steps.size()}};
  const int64_t count = IrInstructionCount(*module);
  reply["ir_count"] = count;
  if (request.value("text_size", false)) {
    auto bytes = session.TextSizeBytes(*module);
    if (!bytes.ok()) return {{"ok", false}, {"reason", bytes.error().message()}};
    reply["text_size"] = *bytes;
  }
  if (request.value("features", false)) {
    FeatureVector a = InstCountFeatures(*module), b = AutophaseFeatures(*module);
    a.names.insert(a.names.end(), b.names.begin(), b.names.end());
    a.values.insert(a.values.end(), b.values.begin(), b.values.end());
    reply["feature_names"] = a.names;
    reply["feature_values"] = a.values;
  }
  if (const std::string path = request.value("object_path", std::string()); !path.empty()) {
    auto written = session.WriteObject(*module, path);
    if (!written.ok()) return {{"ok", false}, {"reason", written.error().message()}};
  }
  if (const std::string path = request.value("bitcode_path", std::string()); !path.empty()) {
    auto written = LlvmSession::WriteBitcode(*module, path);
    if (!written.ok()) return {{"ok", false}, {"reason", written.error().message()}};
  }
  if (pipeline.empty() && steps.size() > 0) cache.Put(actions, std::move(module), count);
  return reply;
}

[[noreturn]] void WorkerMain(const std::string& bitcode, int64_t cache_limit) {
  LlvmSession session;
  auto base = session.Parse(bitcode, "program");
  if (!base.ok()) {
    SendAll(3, nlohmann::json{{"ok", false}, {"reason", base.error().message()}}.dump() + "\n");
    _exit(3);
  }
  SendAll(3, "{\"ready\":true}\n");
  PrefixCache cache(cache_limit);
  std::string buffer, line;
  while (ReadLine(0, buffer, &line, nullptr, nullptr)) {
    // A fresh stderr per request, so that what a crash printed is about this request.
    if (ftruncate(2, 0) == 0) lseek(2, 0, SEEK_SET);
    nlohmann::json reply;
    try {
      reply = Handle(session, **base, cache, nlohmann::json::parse(line));
    } catch (const std::exception& e) {
      reply = {{"ok", false}, {"reason", fmt::format("worker: {}", e.what())}};
    }
    if (!SendAll(3, reply.dump() + "\n")) break;
  }
  _exit(0);
}

std::string StderrTail(int memfd) {
  if (memfd < 0) return "";
  const off_t size = lseek(memfd, 0, SEEK_END);
  if (size <= 0) return "";
  const off_t from = size > 600 ? size - 600 : 0;
  std::string text(static_cast<size_t>(size - from), '\0');
  const ssize_t n = pread(memfd, text.data(), text.size(), from);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  const size_t last = text.rfind('\n');
  return last == std::string::npos ? text : text.substr(last + 1);
}

}  // namespace

// ---- the pool -------------------------------------------------------------------------------

struct PassPool::State {
  struct Worker {
    pid_t pid = -1;
    int socket = -1;  // this side of the pair
    int memfd = -1;   // the worker's stderr
    std::string buffer;
    bool busy = false;
  };

  std::string bitcode;
  PassPoolOptions options;
  std::mutex mutex;
  std::condition_variable freed;
  std::vector<Worker> workers;
  int replaced = 0;
  std::atomic<double> deadline{std::numeric_limits<double>::infinity()};

  // Starts worker `w` (its slot must be empty) and waits until it has read the program.
  Expected<void> Spawn(Worker& w) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return RuntimeError("cannot create a socket pair for an LLVM worker: {}", strerror(errno));
    }
    const int memfd = memfd_create("sysopt-llvm-worker-stderr", MFD_CLOEXEC);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
      close(pair[0]);
      close(pair[1]);
      if (memfd >= 0) close(memfd);
      return RuntimeError("cannot fork an LLVM worker: {}", strerror(errno));
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      std::signal(SIGINT, SIG_IGN);  // the terminal's Ctrl-C is sysopt's to handle
      std::signal(SIGTERM, SIG_DFL);
      std::signal(SIGPIPE, SIG_DFL);
      const int channel = fcntl(pair[1], F_DUPFD, 100);
      const int err = memfd >= 0 ? fcntl(memfd, F_DUPFD, 100) : open("/dev/null", O_WRONLY);
      const int null = open("/dev/null", O_RDWR);
      dup2(channel, 0);
      dup2(null, 1);
      dup2(err, 2);
      dup2(channel, 3);
      close_range(4, ~0U, 0);
      WorkerMain(bitcode, options.cache_instructions);
    }
    close(pair[1]);
    w = Worker{pid, pair[0], memfd, "", false};
    std::string line;
    bool timed_out = false;
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    if (!ReadLine(w.socket, w.buffer, &line, &deadline, &timed_out) ||
        line.find("\"ready\"") == std::string::npos) {
      std::string reason = "the LLVM worker did not start";
      try {
        if (!line.empty()) reason = nlohmann::json::parse(line).value("reason", reason);
      } catch (const std::exception&) {
      }
      Kill(w);
      return RuntimeError("{}", reason);
    }
    return Ok();
  }

  // Kills and reaps the worker; returns how it ended ("SIGSEGV", "exit 1", ...).
  std::string Kill(Worker& w) {
    std::string how;
    if (w.pid > 0) {
      int status = 0;
      // A worker that already died is reaped as it is; one that is alive is killed.
      pid_t r = waitpid(w.pid, &status, WNOHANG);
      if (r == 0) {
        kill(w.pid, SIGKILL);
        r = waitpid(w.pid, &status, 0);
        how = "killed";
      }
      if (r == w.pid && how.empty()) {
        how = WIFSIGNALED(status) ? SignalName(WTERMSIG(status))
                                  : fmt::format("exit {}", WEXITSTATUS(status));
      }
    }
    if (w.socket >= 0) close(w.socket);
    if (w.memfd >= 0) close(w.memfd);
    w = Worker{};
    return how;
  }

  // How a worker that closed its socket ended: waits briefly for it to be reapable.
  std::string Died(Worker& w) {
    for (int i = 0; i < 200 && w.pid > 0; ++i) {
      int status = 0;
      const pid_t r = waitpid(w.pid, &status, WNOHANG);
      if (r == w.pid) {
        const std::string how = WIFSIGNALED(status)
                                    ? SignalName(WTERMSIG(status))
                                    : fmt::format("exit code {}", WEXITSTATUS(status));
        w.pid = -1;
        return how;
      }
      usleep(1000);
    }
    return "closed its channel";
  }
};

PassPool::PassPool(std::unique_ptr<State> state) : state_(std::move(state)) {}

Expected<std::unique_ptr<PassPool>> PassPool::Create(std::string bitcode,
                                                     const PassPoolOptions& options) {
  if (options.workers < 1) return InvalidInput("the LLVM worker pool needs at least 1 worker");
  auto state = std::make_unique<State>();
  state->bitcode = std::move(bitcode);
  state->options = options;
  state->workers.resize(static_cast<size_t>(options.workers));
  for (auto& w : state->workers) {
    auto started = state->Spawn(w);
    if (!started.ok()) {
      for (auto& other : state->workers) state->Kill(other);
      return started.error();
    }
  }
  return std::unique_ptr<PassPool>(new PassPool(std::move(state)));
}

PassPool::~PassPool() {
  for (auto& w : state_->workers) state_->Kill(w);
}

int PassPool::replaced() const {
  std::lock_guard lock(state_->mutex);
  return state_->replaced;
}

void PassPool::SetDeadline(double steady_seconds) { state_->deadline = steady_seconds; }

int PassPool::workers() const { return static_cast<int>(state_->workers.size()); }

PassResult PassPool::Evaluate(const PassRequest& request) {
  State& s = *state_;
  const auto t0 = Clock::now();
  size_t index = 0;
  {
    std::unique_lock lock(s.mutex);
    s.freed.wait(lock, [&] {
      for (size_t i = 0; i < s.workers.size(); ++i) {
        if (!s.workers[i].busy) {
          index = i;
          return true;
        }
      }
      return false;
    });
    s.workers[index].busy = true;
  }
  State::Worker& w = s.workers[index];
  PassResult result;
  nlohmann::json message = {{"text_size", request.text_size}, {"features", request.features}};
  if (!request.pipeline.empty()) {
    message["pipeline"] = request.pipeline;
  } else {
    message["actions"] = request.actions;
  }
  if (!request.object_path.empty()) message["object_path"] = request.object_path;
  if (!request.bitcode_path.empty()) message["bitcode_path"] = request.bitcode_path;

  std::string line;
  bool timed_out = false;
  bool answered = false;
  bool cut_by_deadline = false;  // the command's deadline, not the evaluation's own limit
  if (w.pid > 0 && SendAll(w.socket, message.dump() + "\n")) {
    auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(s.options.timeout_s));
    const double cut = s.deadline.load();
    if (std::isfinite(cut)) {
      const Clock::time_point limit{
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(cut))};
      if (limit < deadline) {
        deadline = limit;
        cut_by_deadline = true;
      }
    }
    answered = ReadLine(w.socket, w.buffer, &line, &deadline, &timed_out);
  }
  if (answered) {
    try {
      const auto reply = nlohmann::json::parse(line);
      result.ok = reply.value("ok", false);
      result.failure_reason = reply.value("reason", std::string());
      result.ir_count = reply.value("ir_count", int64_t{-1});
      result.text_size = reply.value("text_size", int64_t{-1});
      result.applied = reply.value("applied", 0);
      if (reply.contains("feature_names")) {
        result.feature_names = reply["feature_names"].get<std::vector<std::string>>();
        result.feature_values = reply["feature_values"].get<std::vector<int64_t>>();
      }
    } catch (const std::exception& e) {
      result.ok = false;
      result.failure_reason = fmt::format("unreadable reply from the LLVM worker: {}", e.what());
    }
  } else {
    // The worker crashed or hung: say how, then replace it.
    result.crashed = true;
    const std::string printed = StderrTail(w.memfd);
    if (w.pid <= 0) {
      result.failure_reason = "no LLVM worker: an earlier one could not be replaced";
    } else if (timed_out && cut_by_deadline) {
      s.Kill(w);
      result.failure_reason = "stopped: the command's time limit was reached";
    } else if (timed_out) {
      s.Kill(w);
      result.failure_reason =
          fmt::format("LLVM did not finish within {} s (worker killed)", s.options.timeout_s);
    } else {
      const std::string how = s.Died(w);
      s.Kill(w);
      result.failure_reason = fmt::format("LLVM crashed ({})", how);
      if (!printed.empty()) result.failure_reason += ": " + printed;
    }
    auto respawned = s.Spawn(w);
    std::lock_guard lock(s.mutex);
    ++s.replaced;
    if (!respawned.ok()) {
      result.failure_reason +=
          fmt::format("; the worker could not be replaced: {}", respawned.error().message());
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  {
    std::lock_guard lock(s.mutex);
    w.busy = false;
  }
  s.freed.notify_one();
  return result;
}

}  // namespace sysopt
