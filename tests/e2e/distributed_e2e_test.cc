// Several `sysopt` processes on one study, through the real binary: on one SQLite file, and on a
// real PostgreSQL server with workers killed and restarted and the server stopped meanwhile.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/postgres_server.h"
#include "common/run_process.h"
#include "common/temp_dir.h"
#include "sysopt/storage/storage.h"
#include "sysopt/study/study.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using sysopt::testing::ReadFile;
using sysopt::testing::TempDir;
using sysopt::testing::WriteFile;

const std::string kSysopt = std::string(SYSOPT_BINARY_DIR) + "/sysopt";

// Starts `sysopt args...` with stdout and stderr appended to files.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(kSysopt.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int devnull = open("/dev/null", O_RDONLY);
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(out, 2);
    execv(kSysopt.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for `pid` up to `limit_s`, then kills it; returns its exit code (128 + signal).
int Reap(pid_t pid, double limit_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(limit_s);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return sysopt::testing::DecodeWaitStatus(status);
}

// A discrete space of 40 x 5 = 200 configurations; each run takes `sleep_s` and prints a value.
std::string WriteSpec(const TempDir& dir, double sleep_s) {
  WriteFile(dir.File("obj.sh"), "sleep " + std::to_string(sleep_s) +
                                    "\necho $(( ($1 - 17) * ($1 - 17) + ($2 - 2) * ($2 - 2) ))\n");
  const json spec = {
      {"name", "shared"},
      {"parameters",
       {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 39}},
        {{"name", "y"}, {"type", "integer"}, {"low", 0}, {"high", 4}}}},
      {"objectives", {{{"name", "value"}, {"goal", "minimize"}}}},
      {"run", {{"command", {"sh", "obj.sh", "{x}", "{y}"}}}}};
  WriteFile(dir.File("spec.json"), spec.dump(2));
  return dir.File("spec.json");
}

struct StudyCheck {
  int complete = 0;
  int running = 0;
  int counted = 0;
  std::set<std::string> duplicates;  // configurations measured more than once
};

StudyCheck Check(const std::string& url, const std::string& study) {
  auto storage = sysopt::OpenStorage(url);
  if (!storage.ok()) throw std::runtime_error(storage.error().message());
  auto found = (*storage)->FindStudy(study);
  if (!found.ok() || !found->has_value()) throw std::runtime_error("no study " + study);
  auto trials = (*storage)->GetTrials((**found).id);
  if (!trials.ok()) throw std::runtime_error(trials.error().message());
  StudyCheck out;
  std::map<std::string, int> measured;
  for (const auto& t : *trials) {
    if (t.state == sysopt::TrialState::kRunning) ++out.running;
    if (t.state == sysopt::TrialState::kComplete) {
      ++out.complete;
      json config = json::array();
      for (const auto& v : t.config) config.push_back(std::get<int64_t>(v));
      if (++measured[config.dump()] == 2) out.duplicates.insert(config.dump());
    }
    out.counted += sysopt::CountsTowardsBudget(t);
  }
  return out;
}

// The budget stored with the study.
json StoredBudget(const std::string& url, const std::string& study) {
  auto storage = sysopt::OpenStorage(url);
  if (!storage.ok()) throw std::runtime_error(storage.error().message());
  auto found = (*storage)->FindStudy(study);
  if (!found.ok() || !found->has_value()) throw std::runtime_error("no study " + study);
  return (**found).attrs.value("budget", json());
}

// Waits up to `limit_s` until the study holds a running trial.
bool WaitForRunningTrial(const std::string& url, const std::string& study, double limit_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(limit_s);
  while (Clock::now() < deadline) {
    auto storage = sysopt::OpenStorage(url);
    if (storage.ok()) {
      auto found = (*storage)->FindStudy(study);
      if (found.ok() && found->has_value()) {
        auto running = (*storage)->GetRunningTrials((**found).id);
        if (running.ok() && !running->empty()) return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The reproducer: two `sysopt tune` processes started together on one SQLite file used
// to run their own budget each, proposing the same configurations in lockstep. With the same
// --seed they propose alike on purpose; the study must still hold the one budget, each
// configuration once, and both must finish.
TEST(DistributedE2eTest, TwoProcessesOnOneSqliteFileShareTheBudgetWithoutDuplicates) {
  TempDir dir;
  const std::string spec = WriteSpec(dir, 0.02);
  const std::string db = dir.File("s.db");
  std::vector<pid_t> pids;
  for (int p = 0; p < 2; ++p) {
    pids.push_back(Spawn({"tune", spec, "--budget", "20", "--storage", db, "--study", "s",
                          "--sampler", "random", "--seed", "7", "--quiet"},
                         dir.File("log." + std::to_string(p))));
  }
  for (int p = 0; p < 2; ++p) {
    EXPECT_EQ(Reap(pids[p], 60), 0) << ReadFile(dir.File("log." + std::to_string(p)));
  }
  const StudyCheck c = Check(db, "s");
  EXPECT_EQ(c.complete, 20);
  EXPECT_EQ(c.counted, 20);
  EXPECT_EQ(c.running, 0);
  EXPECT_TRUE(c.duplicates.empty()) << *c.duplicates.begin();
  // Neither process reported an error on the way.
  const std::string log = ReadFile(dir.File("log.0"));
  EXPECT_EQ(log.find("sysopt: error"), std::string::npos) << log;
}

TEST(DistributedE2eTest, WorkerNeedsAnExistingStudy) {
  TempDir dir;
  const std::string spec = WriteSpec(dir, 0);
  const std::string db = dir.File("s.db");
  auto missing_file = sysopt::testing::RunProcess(
      kSysopt, {"worker", "--storage", db, "--study", "nope"}, dir.path(), 30);
  EXPECT_EQ(missing_file.exit_code, 2) << missing_file.err;
  EXPECT_NE(missing_file.err.find(db), std::string::npos) << missing_file.err;
  auto made = sysopt::testing::RunProcess(
      kSysopt, {"tune", spec, "--budget", "3", "--storage", db, "--study", "s"}, dir.path(), 30);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  // Without --seed each process draws its own, and says which.
  EXPECT_NE(made.err.find("(drawn; --seed fixes it)"), std::string::npos) << made.err;
  auto missing = sysopt::testing::RunProcess(
      kSysopt, {"worker", "--storage", db, "--study", "nope"}, dir.path(), 30);
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("no study named 'nope'"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("studies: s"), std::string::npos) << missing.err;
  // A worker on the finished study has nothing left to do: the budget it was started with.
  auto joined = sysopt::testing::RunProcess(
      kSysopt, {"worker", "--storage", db, "--study", "s", "--json"}, dir.path(), 30);
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  const json summary = json::parse(joined.out);
  EXPECT_EQ(summary["budget"], 3);
  EXPECT_EQ(summary["started"], 0);
  EXPECT_EQ(summary["finished"], 3);
}

// A `sysopt tune` joining a study without --budget runs to the study's stored budget, not to its
// own default of 50.
TEST(DistributedE2eTest, JoiningWithoutBudgetUsesTheStoredBudget) {
  TempDir dir;
  const std::string spec = WriteSpec(dir, 0.2);
  const std::string db = dir.File("s.db");
  // Stopped by its time limit after a few trials of its budget of 8.
  auto first = sysopt::testing::RunProcess(
      kSysopt,
      {"tune", spec, "--budget", "8", "--storage", db, "--study", "s", "--sampler", "random",
       "--time-limit", "0.5s", "--quiet"},
      dir.path(), 30);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_LT(Check(db, "s").counted, 8);
  auto joined = sysopt::testing::RunProcess(
      kSysopt, {"tune", spec, "--storage", db, "--study", "s", "--sampler", "random", "--json"},
      dir.path(), 60);
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_NE(joined.err.find("budget 8 (the study's)"), std::string::npos) << joined.err;
  const json summary = json::parse(joined.out);
  EXPECT_EQ(summary["budget"], 8);
  EXPECT_EQ(summary["finished"], 8);
  const StudyCheck c = Check(db, "s");
  EXPECT_EQ(c.counted, 8);
  EXPECT_EQ(c.running, 0);
  EXPECT_EQ(StoredBudget(db, "s"), 8);
}

// Another --budget is refused while another worker runs the study (it would go on to the old
// one), for `tune` and `worker` alike, and changes nothing; once nobody runs it, the new budget
// replaces the stored one.
TEST(DistributedE2eTest, BudgetChangeIsRefusedWhileOthersRunAndTakenWhenNobodyDoes) {
  TempDir dir;
  const std::string spec = WriteSpec(dir, 0.5);
  const std::string db = dir.File("s.db");
  const pid_t other = Spawn({"tune", spec, "--budget", "200", "--storage", db, "--study", "s",
                             "--sampler", "random", "--quiet"},
                            dir.File("log.other"));
  ASSERT_TRUE(WaitForRunningTrial(db, "s", 30)) << ReadFile(dir.File("log.other"));
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"tune", spec, "--budget", "300", "--storage", db, "--study", "s"},
           {"worker", "--budget", "300", "--storage", db, "--study", "s"}}) {
    auto refused = sysopt::testing::RunProcess(kSysopt, args, dir.path(), 30);
    EXPECT_EQ(refused.exit_code, 2) << args[0] << ": " << refused.err;
    EXPECT_NE(refused.err.find("study 's' is being run by other workers with budget 200"),
              std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("leave out --budget or give --budget 200"), std::string::npos)
        << refused.err;
  }
  EXPECT_EQ(StoredBudget(db, "s"), 200);
  // Gone without a trace: its running trial is left behind, and is reclaimed as the trial of a
  // dead process, so nobody runs the study any more.
  kill(other, SIGKILL);
  waitpid(other, nullptr, 0);
  const int before = Check(db, "s").counted;
  const std::string budget = std::to_string(before + 2);
  auto changed = sysopt::testing::RunProcess(
      kSysopt,
      {"tune", spec, "--budget", budget, "--storage", db, "--study", "s", "--sampler", "random",
       "--json"},
      dir.path(), 60);
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_NE(changed.err.find("budget changed from 200 to " + budget), std::string::npos)
      << changed.err;
  EXPECT_EQ(StoredBudget(db, "s"), before + 2);
  const StudyCheck c = Check(db, "s");
  EXPECT_EQ(c.counted, before + 2);
  EXPECT_EQ(c.running, 0);
}

// The same rule on PostgreSQL, through `sysopt worker`.
TEST(DistributedE2eTest, WorkerChangesTheStoredBudgetOnPostgres) {
  TempDir dir;
  const std::string spec = WriteSpec(dir, 0);
  const std::string url = sysopt::testing::PostgresServer::Shared().NewDatabaseUrl();
  auto made = sysopt::testing::RunProcess(
      kSysopt,
      {"tune", spec, "--budget", "3", "--storage", url, "--study", "p", "--sampler", "random",
       "--quiet"},
      dir.path(), 30);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto grown = sysopt::testing::RunProcess(
      kSysopt, {"worker", "--budget", "5", "--storage", url, "--study", "p", "--json"},
      dir.path(), 30);
  ASSERT_EQ(grown.exit_code, 0) << grown.err;
  EXPECT_NE(grown.err.find("budget changed from 3 to 5"), std::string::npos) << grown.err;
  EXPECT_EQ(json::parse(grown.out)["started"], 2);
  EXPECT_EQ(StoredBudget(url, "p"), 5);
  auto joined = sysopt::testing::RunProcess(
      kSysopt, {"tune", spec, "--storage", url, "--study", "p", "--json"}, dir.path(), 30);
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_NE(joined.err.find("budget 5 (the study's)"), std::string::npos) << joined.err;
  EXPECT_EQ(json::parse(joined.out)["finished"], 5);
  EXPECT_EQ(json::parse(joined.out)["started"], 0);
}

TEST(DistributedE2eTest, UnreachableServerAndWrongPasswordExitTwo) {
  TempDir dir;
  const std::string spec = WriteSpec(dir, 0);
  auto unreachable = sysopt::testing::RunProcess(
      kSysopt,
      {"tune", spec, "--budget", "3", "--storage", "postgresql://u:pw@127.0.0.1:1/db", "--quiet"},
      dir.path(), 30);
  EXPECT_EQ(unreachable.exit_code, 2) << unreachable.err;
  EXPECT_NE(unreachable.err.find("postgresql://u:***@127.0.0.1:1/db"), std::string::npos)
      << unreachable.err;
  sysopt::testing::PostgresServer& server = sysopt::testing::PostgresServer::Shared();
  auto wrong = sysopt::testing::RunProcess(
      kSysopt, {"worker", "--storage", server.Url("postgres", "nope"), "--study", "s"},
      dir.path(), 30);
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_NE(wrong.err.find("password authentication failed"), std::string::npos) << wrong.err;
}

// The fault test: 8 workers on one PostgreSQL study; for a bounded time workers are killed with
// SIGKILL at random and started again, and the server is stopped once in the middle. At the end
// the study holds exactly its budget of measured trials, each configuration once, none running.
TEST(DistributedE2eTest, KilledWorkersAndAStoppedServerLoseNothingAndRunNothingTwice) {
  TempDir dir;
  sysopt::testing::PostgresServer server;  // its own: it is stopped meanwhile
  const std::string url = server.NewDatabaseUrl();
  const std::string spec = WriteSpec(dir, 0.25);
  constexpr int kWorkers = 8;
  constexpr int kBudget = 120;
  const std::vector<std::string> join = {"worker", "--storage", url, "--study", "f",
                                         "--heartbeat-grace", "5s", "--quiet"};
  std::vector<pid_t> pids(kWorkers, -1);
  int starts = 0;
  auto start = [&](int w) {
    pids[w] = Spawn(join, dir.File("log." + std::to_string(w)));
    ++starts;
  };
  // The first one creates the study; the others join it as `sysopt worker`.
  pids[0] = Spawn({"tune", spec, "--budget", std::to_string(kBudget), "--storage", url, "--study",
                   "f", "--sampler", "random", "--heartbeat-grace", "5s", "--quiet"},
                  dir.File("log.0"));
  const auto created_by = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < created_by) {
    auto storage = sysopt::OpenStorage(url);
    if (storage.ok()) {
      auto found = (*storage)->FindStudy("f");
      if (found.ok() && found->has_value() && (**found).attrs.contains("budget")) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int w = 1; w < kWorkers; ++w) start(w);

  std::mt19937 rng(12);
  const auto t0 = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  bool server_stopped = false, server_restarted = false;
  int kills = 0;
  std::vector<int> exit_codes;
  // Chaos for at most 15 s, while the study is not done.
  while (elapsed() < 15) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 300));
    if (!server_stopped && elapsed() > 4) {
      server.Stop();
      server_stopped = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2000));
      server.Start();
      server_restarted = true;
      continue;
    }
    // Workers that ended by themselves mean the study is done.
    bool any_ended = false;
    for (int w = 0; w < kWorkers; ++w) {
      int status = 0;
      if (waitpid(pids[w], &status, WNOHANG) == pids[w]) {
        exit_codes.push_back(sysopt::testing::DecodeWaitStatus(status));
        pids[w] = -1;
        any_ended = true;
      }
    }
    if (any_ended) break;
    const int w = static_cast<int>(rng() % kWorkers);
    kill(pids[w], SIGKILL);
    waitpid(pids[w], nullptr, 0);
    ++kills;
    start(w);
  }
  ASSERT_TRUE(server_restarted);
  for (int w = 0; w < kWorkers; ++w) {
    if (pids[w] > 0) exit_codes.push_back(Reap(pids[w], 90));
  }
  std::string logs;
  for (int w = 0; w < kWorkers; ++w) logs += ReadFile(dir.File("log." + std::to_string(w)));
  for (int code : exit_codes) EXPECT_EQ(code, 0) << logs;
  EXPECT_GE(kills, 5);
  const StudyCheck c = Check(url, "f");
  EXPECT_EQ(c.complete, kBudget) << logs;
  EXPECT_EQ(c.counted, kBudget);
  EXPECT_EQ(c.running, 0);
  EXPECT_TRUE(c.duplicates.empty()) << *c.duplicates.begin();
}

}  // namespace
