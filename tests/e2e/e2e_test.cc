// End-to-end tests of the `sysopt` binary: each test writes a spec and a small /bin/sh program to
// a fresh temporary folder, runs sysopt as a real subprocess, and checks its exit code, its output
// and what it recorded (read back through `sysopt export`).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/run_process.h"
#include "common/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kSysopt = std::string(SYSOPT_BINARY_DIR) + "/sysopt";

// ---------------------------------------------------------------------------------------------
// Helpers: temporary folders, files, and running sysopt as a subprocess.

using sysopt::testing::ReadFile;
using sysopt::testing::TempDir;
using sysopt::testing::WriteFile;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

using Proc = sysopt::testing::ProcessResult;

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(kSysopt.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

// Runs `sysopt args...` to completion in `cwd`, capturing stdout and stderr. A run longer than
// `limit_s` is killed and reported as exit code 128 + SIGKILL.
Proc RunSysopt(const std::vector<std::string>& args, const fs::path& cwd = {},
               double limit_s = 30) {
  return sysopt::testing::RunProcess(kSysopt, args, cwd, limit_s);
}

// Starts `sysopt args...` in the background with stdout and stderr going to files.
pid_t SpawnSysopt(const std::vector<std::string>& args, const std::string& out_file,
                  const std::string& err_file) {
  auto argv = Argv(args);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int devnull = open("/dev/null", O_RDONLY);
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(err, 2);
    execv(kSysopt.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Polls `done` every 20 ms until it holds or `limit_s` passes; returns whether it held.
bool WaitFor(const std::function<bool()>& done, double limit_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(limit_s);
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

std::string Describe(const Proc& p) {
  return "exit " + std::to_string(p.exit_code) + "\n--- stdout:\n" + p.out + "\n--- stderr:\n" +
         p.err;
}

// `sysopt export --format json` of the only (or the named) study in `db`, parsed.
json ExportJson(const std::string& db, const std::string& study = "") {
  std::vector<std::string> args = {"export", "--format", "json", "--storage", db};
  if (!study.empty()) args.insert(args.end(), {"--study", study});
  const Proc p = RunSysopt(args);
  if (p.exit_code != 0) throw std::runtime_error("export failed: " + Describe(p));
  return json::parse(p.out);
}

// The trials of that export (a value, so that it can be iterated directly).
json ExportTrials(const std::string& db) { return ExportJson(db)["trials"]; }

int CountState(const json& trials, const std::string& state) {
  return static_cast<int>(std::count_if(trials.begin(), trials.end(),
                                        [&](const json& t) { return t["state"] == state; }));
}

// Trials that count towards the budget: completed ones, and failed ones not "interrupted".
int CountTowardsBudget(const json& trials) {
  int n = 0;
  for (const auto& t : trials) {
    if (t["state"] == "COMPLETE") ++n;
    if (t["state"] == "FAILED" && t.value("failure_reason", "") != "interrupted") ++n;
  }
  return n;
}

// A program computing (x-3)^2 + (y-5)^2 from its two arguments; it also logs each call.
constexpr const char* kQuadScript = R"(#!/bin/sh
echo "$SYSOPT_TRIAL $1 $2" >> calls.log
awk -v x="$1" -v y="$2" 'BEGIN { print (x - 3) ^ 2 + (y - 5) ^ 2 }'
)";

double Quad(double x, double y) { return (x - 3) * (x - 3) + (y - 5) * (y - 5); }

// A spec over integers x in [0, xmax], y in [0, ymax] running kQuadScript (written beside it).
std::string WriteQuadSpec(const TempDir& dir, const std::string& name = "quad", int xmax = 10,
                          int ymax = 10, const std::string& script = kQuadScript,
                          const std::string& run_extra = "") {
  WriteFile(dir.File("quad.sh"), script);
  const json spec = json::parse(R"({
    "name": ")" + name + R"(",
    "parameters": [
      {"name": "x", "type": "integer", "low": 0, "high": )" +
                                std::to_string(xmax) + R"(},
      {"name": "y", "type": "integer", "low": 0, "high": )" +
                                std::to_string(ymax) + R"(}
    ],
    "objectives": [{"name": "value", "goal": "minimize"}],
    "run": {"command": ["sh", "quad.sh", "{x}", "{y}"])" +
                                run_extra + R"(}
  })");
  const std::string path = dir.File(name + ".json");
  WriteFile(path, spec.dump(2));
  return path;
}

// ---------------------------------------------------------------------------------------------
// 1. A run killed by SIGKILL loses nothing and resumes where it stopped.

// Runs a 12-trial study with `workers` workers, kills sysopt with SIGKILL while trials 3 to
// 3 + workers - 1 are running, then resumes it.
void KillAndResume(int workers) {
  TempDir dir;
  // Trials 0-2 take 0.2 s; from trial 3 on, the program waits while the file `gate` exists, so
  // the test knows which trials are in flight when it kills sysopt.
  const std::string script = R"(#!/bin/sh
echo "$SYSOPT_TRIAL $1 $2" >> calls.log
if [ "$SYSOPT_TRIAL" -ge 3 ] && [ -e gate ]; then
  touch "blocked.$SYSOPT_TRIAL"
  i=0
  while [ -e gate ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
fi
sleep 0.2
awk -v x="$1" -v y="$2" 'BEGIN { print (x - 3) ^ 2 + (y - 5) ^ 2 }'
)";
  const std::string spec = WriteQuadSpec(dir, "resume", 20, 20, script);
  const std::string db = dir.File("study.db");
  WriteFile(dir.File("gate"), "");
  const std::vector<std::string> tune = {"tune",
                                         spec,
                                         "--budget",
                                         "12",
                                         "--storage",
                                         db,
                                         "--seed",
                                         "7",
                                         "--json",
                                         "--sampler",
                                         "random",
                                         "--workers",
                                         std::to_string(workers)};
  const pid_t pid = SpawnSysopt(tune, dir.File("first.out"), dir.File("first.err"));
  const bool blocked = WaitFor(
      [&] {
        for (int n = 3; n < 3 + workers; ++n) {
          if (!fs::exists(dir.File("blocked." + std::to_string(n)))) return false;
        }
        return true;
      },
      20);
  json before;
  if (blocked) before = ExportJson(db);
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(blocked) << "trials 3.. never started; stderr:\n" << ReadFile(dir.File("first.err"));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  fs::remove(dir.File("gate"));

  // Finished trials survive the kill unchanged.
  ASSERT_EQ(before["trials"].size(), 3u) << before.dump(2);
  const json after_kill = ExportTrials(db);
  ASSERT_EQ(after_kill.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto& t = after_kill[i];
    EXPECT_EQ(t["number"], static_cast<int>(i));
    EXPECT_EQ(t["state"], "COMPLETE");
    EXPECT_EQ(t["config"], before["trials"][i]["config"]);
    EXPECT_EQ(t["values"], before["trials"][i]["values"]);
  }
  // The configurations in flight, from the program's own log.
  std::map<int, json> interrupted;
  for (const auto& line : Lines(ReadFile(dir.File("calls.log")))) {
    std::istringstream in(line);
    int n, x, y;
    in >> n >> x >> y;
    if (n >= 3) interrupted[n] = {{"x", x}, {"y", y}};
  }
  ASSERT_EQ(interrupted.size(), static_cast<size_t>(workers));

  const Proc resumed = RunSysopt(tune);
  ASSERT_EQ(resumed.exit_code, 0) << Describe(resumed);
  EXPECT_NE(resumed.err.find("resumed with 3 finished"), std::string::npos) << resumed.err;
  const std::string note =
      workers == 1 ? "1 trial left running" : std::to_string(workers) + " trials left running";
  EXPECT_NE(resumed.err.find(note + " by a stopped process marked failed (interrupted)"),
            std::string::npos)
      << resumed.err;
  const json summary = json::parse(resumed.out);
  EXPECT_EQ(summary["finished"], 12);
  EXPECT_EQ(summary["started"], 9);  // the interrupted ones again, then new ones

  const json trials = ExportTrials(db);
  ASSERT_EQ(trials.size(), 12u + workers) << trials.dump(2);
  EXPECT_EQ(CountTowardsBudget(trials), 12);
  EXPECT_EQ(CountState(trials, "COMPLETE"), 12);
  std::set<std::string> interrupted_configs, rerun_configs;
  for (int n = 3; n < 3 + workers; ++n) {
    EXPECT_EQ(trials[n]["state"], "FAILED");
    EXPECT_EQ(trials[n]["failure_reason"], "interrupted");
    EXPECT_EQ(trials[n]["config"], interrupted[n]);
    interrupted_configs.insert(interrupted[n].dump());
    // The interrupted configurations run again first, and complete.
    const auto& rerun = trials[n + workers];
    EXPECT_EQ(rerun["state"], "COMPLETE");
    rerun_configs.insert(rerun["config"].dump());
  }
  EXPECT_EQ(rerun_configs, interrupted_configs);
  // Apart from those reruns, every configuration is new.
  std::set<std::string> configs;
  for (const auto& t : trials) {
    if (t["state"] == "COMPLETE") configs.insert(t["config"].dump());
  }
  EXPECT_EQ(configs.size(), 12u);

  // A further run with the same budget finds nothing to do.
  const Proc again = RunSysopt(tune);
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(json::parse(again.out)["started"], 0);
  EXPECT_EQ(ExportTrials(db).size(), 12u + workers);
}

TEST(E2eResume, SigkillThenResumeReachesBudgetAndRerunsInterruptedTrial) { KillAndResume(1); }

TEST(E2eResume, SigkillWithTwoWorkersRerunsBothInterruptedTrials) { KillAndResume(2); }

TEST(E2eResume, SigtermStopsTheTrialInFlightSummarisesAndResumes) {
  TempDir dir;
  const std::string script = R"(#!/bin/sh
if [ "$SYSOPT_TRIAL" -ge 2 ] && [ -e gate ]; then
  echo $$ > "blocked.$SYSOPT_TRIAL"
  i=0
  while [ -e gate ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
fi
awk -v x="$1" -v y="$2" 'BEGIN { print (x - 3) ^ 2 + (y - 5) ^ 2 }'
)";
  const std::string spec = WriteQuadSpec(dir, "stop", 20, 20, script);
  const std::string db = dir.File("study.db");
  WriteFile(dir.File("gate"), "");
  const std::vector<std::string> tune = {"tune",   spec, "--budget",  "4",      "--storage", db,
                                         "--seed", "3",  "--sampler", "random", "--json"};
  const pid_t pid = SpawnSysopt(tune, dir.File("out"), dir.File("err"));
  const bool blocked = WaitFor([&] { return fs::exists(dir.File("blocked.2")); }, 20);
  const auto t0 = Clock::now();
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  const double stop_s = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(blocked) << ReadFile(dir.File("err"));
  ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal instead of stopping";
  EXPECT_EQ(WEXITSTATUS(status), 143);
  EXPECT_LT(stop_s, 3) << "the trial in flight was not passed the signal";
  EXPECT_NE(ReadFile(dir.File("err")).find("sysopt: stopping"), std::string::npos);
  const json summary = json::parse(ReadFile(dir.File("out")));
  EXPECT_EQ(summary["stopped"], true);
  EXPECT_EQ(summary["signal"], "SIGTERM");
  EXPECT_EQ(summary["finished"], 2);
  EXPECT_EQ(summary["interrupted"], 1);
  const json trials = ExportTrials(db);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(CountState(trials, "COMPLETE"), 2);
  EXPECT_EQ(trials[2]["failure_reason"], "interrupted");

  // Resuming runs the interrupted configuration again first.
  fs::remove(dir.File("gate"));
  const Proc resumed = RunSysopt(tune);
  ASSERT_EQ(resumed.exit_code, 0) << Describe(resumed);
  EXPECT_NE(resumed.err.find("1 trial interrupted by an earlier stop: running again first"),
            std::string::npos)
      << resumed.err;
  const json after = ExportTrials(db);
  ASSERT_EQ(after.size(), 5u);
  EXPECT_EQ(after[3]["config"], trials[2]["config"]);
  EXPECT_EQ(after[3]["state"], "COMPLETE");
}

// ---------------------------------------------------------------------------------------------
// 2. Exit codes: 0 success, 2 bad input (naming what is wrong), 1 when every trial fails.

TEST(E2eExitCodes, SuccessIsZero) {
  TempDir dir;
  const std::string spec = WriteQuadSpec(dir);
  const Proc p =
      RunSysopt({"tune", spec, "--budget", "3", "--storage", dir.File("s.db"), "--seed", "1"});
  EXPECT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_NE(p.out.find("Study 'quad': 3 trials: 3 complete (3 count towards the budget of 3)"),
            std::string::npos)
      << p.out;
  EXPECT_NE(p.out.find("Best: trial #"), std::string::npos) << p.out;
}

TEST(E2eExitCodes, MissingSpecFileIsBadInput) {
  TempDir dir;
  const Proc p = RunSysopt({"tune", dir.File("nope.json"), "--storage", dir.File("s.db")});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_NE(p.err.find("nope.json"), std::string::npos) << p.err;
  EXPECT_FALSE(fs::exists(dir.File("s.db")));
}

TEST(E2eExitCodes, MalformedSpecsAreBadInputNamingTheField) {
  TempDir dir;
  WriteFile(dir.File("p.sh"), "echo 1\n");
  struct Case {
    std::string what;
    std::string spec;
    std::vector<std::string> must_mention;
  };
  const std::vector<Case> cases = {
      {"unknown top-level key",
       R"({"name": "a", "paramters": [{"name": "x", "type": "integer", "low": 0, "high": 3}]})",
       {"paramters"}},
      {"unknown parameter key",
       R"({"parameters": [{"name": "width", "type": "integer", "low": 0, "hihg": 3}]})",
       {"hihg", "width"}},
      {"empty range",
       R"({"parameters": [{"name": "depth", "type": "integer", "low": 5, "high": 1}]})",
       {"depth", "empty range", "low", "high"}},
      {"unknown run key",
       R"({"parameters": [{"name": "x", "type": "integer", "low": 0, "high": 3}],
           "run": {"command": ["sh", "p.sh"], "timeout": 3}})",
       {"run", "timeout"}},
      {"placeholder naming no parameter",
       R"({"parameters": [{"name": "x", "type": "integer", "low": 0, "high": 3}],
           "run": {"command": ["sh", "p.sh", "{z}"]}})",
       {"z"}},
      {"bad constraint",
       R"({"parameters": [{"name": "x", "type": "integer", "low": 0, "high": 3}],
           "constraints": ["x <= undefined_name"]})",
       {"undefined_name"}},
      {"not JSON", R"({"name": "a", )", {"bad.json", "not valid JSON"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = dir.File("bad.json");
    WriteFile(path, c.spec);
    // validate and tune both refuse it, with the same message; tune records nothing.
    for (const std::string cmd : {"validate", "tune"}) {
      std::vector<std::string> args = {cmd, path};
      if (cmd == "tune")
        args.insert(args.end(), {"--storage", dir.File("s.db"), "--", "sh", "p.sh"});
      // The placeholder case needs the spec's own command.
      if (cmd == "tune" && c.what == "placeholder naming no parameter") args.resize(4);
      const Proc p = RunSysopt(args, dir.path());
      EXPECT_EQ(p.exit_code, 2) << cmd << ": " << Describe(p);
      EXPECT_NE(p.err.find("sysopt: error:"), std::string::npos) << cmd << ": " << p.err;
      for (const auto& word : c.must_mention) {
        EXPECT_NE(p.err.find(word), std::string::npos)
            << cmd << ": '" << word << "' not in " << p.err;
      }
    }
    EXPECT_FALSE(fs::exists(dir.File("s.db")));
  }
}

TEST(E2eExitCodes, BadFlagsAreBadInput) {
  TempDir dir;
  const std::string spec = WriteQuadSpec(dir);
  const std::string db = dir.File("s.db");
  {
    const Proc p = RunSysopt({"tune", spec, "--storage", db, "--sampler", "annealing"});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_NE(p.err.find("unknown sampler 'annealing'"), std::string::npos) << p.err;
    EXPECT_NE(p.err.find("random"), std::string::npos) << p.err;  // lists the known ones
  }
  {
    const Proc p = RunSysopt({"tune", spec, "--storage", db, "--budget", "0"});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_NE(p.err.find("--budget"), std::string::npos) << p.err;
  }
  {
    const Proc p = RunSysopt({"tune", spec, "--storage", db, "--workers", "0"});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_NE(p.err.find("--workers"), std::string::npos) << p.err;
  }
  {
    const Proc p = RunSysopt({"tune", spec, "--storage", db, "--no-such-flag"});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_NE(p.err.find("no-such-flag"), std::string::npos) << p.err;
  }
  {
    const Proc p = RunSysopt({});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
  }
  {
    const Proc p = RunSysopt({"export", "--storage", db, "--format", "xml"});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_NE(p.err.find("xml"), std::string::npos) << p.err;
  }
  EXPECT_FALSE(fs::exists(db));
}

TEST(E2eExitCodes, MissingStudyOrStorageIsBadInput) {
  TempDir dir;
  const std::string spec = WriteQuadSpec(dir);
  const std::string db = dir.File("s.db");
  const Proc made = RunSysopt(
      {"tune", spec, "--budget", "2", "--storage", db, "--study", "alpha", "--sampler", "random"});
  ASSERT_EQ(made.exit_code, 0) << Describe(made);
  for (const std::string cmd : {"best", "export"}) {
    SCOPED_TRACE(cmd);
    const Proc absent = RunSysopt({cmd, "--storage", db, "--study", "beta"});
    EXPECT_EQ(absent.exit_code, 2) << Describe(absent);
    EXPECT_NE(absent.err.find("'beta'"), std::string::npos) << absent.err;
    EXPECT_NE(absent.err.find("alpha"), std::string::npos) << absent.err;  // names what exists

    const std::string missing = dir.File("missing.db");
    const Proc no_file = RunSysopt({cmd, "--storage", missing});
    EXPECT_EQ(no_file.exit_code, 2) << Describe(no_file);
    EXPECT_NE(no_file.err.find(missing), std::string::npos) << no_file.err;
    EXPECT_FALSE(fs::exists(missing));  // reading never creates a storage file
  }
  const Proc found = RunSysopt({"best", "--storage", db, "--study", "alpha"});
  EXPECT_EQ(found.exit_code, 0) << Describe(found);

  // With two studies in the storage, reading one needs its name.
  const Proc second = RunSysopt(
      {"tune", spec, "--budget", "1", "--storage", db, "--study", "gamma", "--sampler", "random"});
  ASSERT_EQ(second.exit_code, 0) << Describe(second);
  const Proc ambiguous = RunSysopt({"export", "--storage", db});
  EXPECT_EQ(ambiguous.exit_code, 2) << Describe(ambiguous);
  EXPECT_NE(ambiguous.err.find("alpha, gamma"), std::string::npos) << ambiguous.err;
  EXPECT_NE(ambiguous.err.find("--study"), std::string::npos) << ambiguous.err;
}

TEST(E2eStorage, ReadersAcceptTheUrlsTuneAccepts) {
  TempDir dir;
  const std::string spec = WriteQuadSpec(dir);
  for (const std::string& url : std::vector<std::string>{"sqlite:///rel.db", "sqlite:plain.db",
                                                          "sqlite:///" + dir.File("abs.db")}) {
    SCOPED_TRACE(url);
    const Proc made = RunSysopt(
        {"tune", spec, "--budget", "2", "--storage", url, "--sampler", "random"}, dir.path());
    ASSERT_EQ(made.exit_code, 0) << Describe(made);
    const Proc best = RunSysopt({"best", "--storage", url}, dir.path());
    EXPECT_EQ(best.exit_code, 0) << Describe(best);
    const Proc csv = RunSysopt({"export", "--format", "csv", "--storage", url}, dir.path());
    EXPECT_EQ(csv.exit_code, 0) << Describe(csv);
    EXPECT_EQ(Lines(csv.out).size(), 3u) << csv.out;  // header and two trials
  }
  EXPECT_TRUE(fs::exists(dir.File("rel.db")));
  EXPECT_TRUE(fs::exists(dir.File("plain.db")));
}

// The audit's reproducers, through the command line: each is a clear error (exit 2, naming the
// file, field and value) or correct behaviour, and never a crash.
TEST(E2eBadInput, ReproducersAreRefusedByNameOrHandled) {
  TempDir dir;
  auto validate = [&](const std::string& name, const std::string& text) {
    WriteFile(dir.File(name), text);
    return RunSysopt({"validate", dir.File(name)});
  };
  const std::string head = R"({"name": "s", "parameters": [)";
  const std::string deep = head + R"({"name": "a", "type": "ordinal", "values": )" +
                           std::string(100'000, '[') + std::string(100'000, ']') + "}]}";
  Proc p = validate("deep.json", deep);
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_NE(p.err.find(dir.File("deep.json") + ": JSON nested deeper than 64 levels"),
            std::string::npos)
      << p.err;
  p = validate("huge.json", head + R"({"name": "a", "type": "ordinal", "values": [1e30, 2]}]})");
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_NE(p.err.find("huge.json: parameters[0] (\"a\"): field \"values\": 1e+30 is outside "
                       "the range of a 64-bit integer"),
            std::string::npos)
      << p.err;
  p = validate("nul.json",
               head + R"({"name": "c", "type": "categorical", "values": ["a", "b\u0000"]}]})");
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_NE(p.err.find("nul.json: parameters[0] (\"c\"): field \"values\": \"b\\u0000\" "
                       "contains a NUL character"),
            std::string::npos)
      << p.err;
  // A tiny feasible set in huge ranges is counted exactly, fast, and tuned.
  const std::string linear =
      head + R"j({"name": "p0", "type": "integer", "low": 0, "high": 19999999},
                 {"name": "p1", "type": "integer", "low": 0, "high": 19999999}],
       "constraints": ["p0 + p1 < 10"],
       "run": {"command": ["sh", "-c", "echo $(( {p0} + {p1} ))"], "timeout_s": 1e10}})j";
  p = validate("linear.json", linear);
  EXPECT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_NE(p.out.find("55"), std::string::npos) << p.out;
  EXPECT_LT(p.seconds, 10.0);
  // ...with a timeout of 1e10 s that no longer expires at once.
  p = RunSysopt({"tune", dir.File("linear.json"), "--budget", "5", "--storage", dir.File("l.db"),
                 "--sampler", "random"});
  EXPECT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_EQ(p.err.find("timed out"), std::string::npos) << p.err;
  // Byte sizes near the int64 limit: the graph is refused, naming the node.
  WriteFile(dir.File("big.json"), R"({"nodes": [
      {"id": 0, "bytes": 9223372036854775807, "cost": 1, "inputs": []},
      {"id": 1, "bytes": 9223372036854775807, "cost": 1, "inputs": [0]}], "outputs": [1]})");
  WriteFile(dir.File("sched.json"), R"({"steps": [{"compute": 0}, {"compute": 1}]})");
  p = RunSysopt({"remat", "simulate", dir.File("big.json"), dir.File("sched.json")});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_NE(p.err.find("big.json: nodes[0] (id 0): field 'bytes' (9223372036854775807) is above "
                       "the limit of 4611686018427387904 bytes"),
            std::string::npos)
      << p.err;
}

TEST(E2eStorage, DamagedRowsAreLeftOutByNameAndTheRestStillServes) {
  TempDir dir;
  const std::string spec = WriteQuadSpec(dir);
  const std::string db = dir.File("s.db");
  const Proc made =
      RunSysopt({"tune", spec, "--budget", "4", "--storage", db, "--sampler", "random"});
  ASSERT_EQ(made.exit_code, 0) << Describe(made);
  // One row no longer holds JSON; another holds a value of the wrong type for its parameter.
  const Proc damage = sysopt::testing::RunProcess(
      "/usr/bin/sqlite3", {db, "UPDATE trials SET config = '{\"x\": ' WHERE number = 1; "
                               "UPDATE trials SET config = '[\"abc\", 2]' "
                               "WHERE number = 2;"});
  ASSERT_EQ(damage.exit_code, 0) << damage.err;
  const Proc csv = RunSysopt({"export", "--format", "csv", "--storage", db});
  EXPECT_EQ(csv.exit_code, 0) << Describe(csv);
  EXPECT_EQ(Lines(csv.out).size(), 3u) << csv.out;  // header and the two intact trials
  EXPECT_NE(csv.err.find("warning: trial #1 of study 'quad' is left out: column config: not "
                         "valid JSON"),
            std::string::npos)
      << csv.err;
  EXPECT_NE(csv.err.find("trial #2 of study 'quad' is left out: parameter 'x': value \"abc\""),
            std::string::npos)
      << csv.err;
  EXPECT_EQ(csv.err.find("\"x\": '"), std::string::npos) << csv.err;  // no raw bytes
  // Samplers never see the damaged rows: resuming with every sampler works.
  int budget = 4;
  for (const std::string sampler : {"auto", "gp", "forest", "evolution", "random"}) {
    SCOPED_TRACE(sampler);
    budget += 1;
    const Proc resumed = RunSysopt({"tune", spec, "--budget", std::to_string(budget), "--storage",
                                    db, "--sampler", sampler, "--seed", "3"});
    EXPECT_EQ(resumed.exit_code, 0) << Describe(resumed);
    EXPECT_NE(resumed.err.find("trial #2 of study 'quad' is left out"), std::string::npos)
        << resumed.err;
  }
}

TEST(E2eExitCodes, EveryTrialFailingIsOneAndTheReasonIsRecorded) {
  TempDir dir;
  const std::string script = "echo \"boom: cannot use x=$1\" >&2\nexit 3\n";
  const std::string spec = WriteQuadSpec(dir, "failing", 10, 10, script);
  const std::string db = dir.File("s.db");
  const Proc p = RunSysopt(
      {"tune", spec, "--budget", "3", "--storage", db, "--seed", "2", "--sampler", "random"});
  EXPECT_EQ(p.exit_code, 1) << Describe(p);
  EXPECT_NE(p.out.find("No trial succeeded"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("exit code 3"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("boom: cannot use x="), std::string::npos) << p.out;

  const json trials = ExportTrials(db);
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "FAILED");
    EXPECT_EQ(t["failure_reason"], "exit code 3");
    EXPECT_EQ(t.value("stderr_tail", ""),
              "boom: cannot use x=" + std::to_string(t["config"]["x"].get<int>()) + "\n");
    EXPECT_FALSE(t.contains("values"));
  }
  const Proc best = RunSysopt({"best", "--storage", db, "--json"});
  EXPECT_EQ(best.exit_code, 1) << Describe(best);
  EXPECT_TRUE(json::parse(best.out)["best"].is_null());
}

// ---------------------------------------------------------------------------------------------
// 3. Values reach the program as single arguments, never as shell code.

TEST(E2eInjection, ValuesAreSingleArgumentsAndNeverRun) {
  TempDir dir;
  const std::string pwned = dir.File("pwned");
  const std::vector<std::string> values = {"x; touch " + pwned, "$(touch " + pwned + "2)",
                                           "`touch " + pwned + "3`", "a b  c",
                                           "' \" | > " + pwned + "4 &"};
  WriteFile(dir.File("args.sh"),
            "printf '%s\\n' \"$#\" \"$1\" \"$2\" > \"args.$SYSOPT_TRIAL\"\necho 1\n");
  const json spec = {{"name", "inject"},
                     {"parameters", {{{"name", "v"}, {"type", "categorical"}, {"values", values}}}},
                     {"run", {{"command", {"sh", "args.sh", "{v}", "--opt={v}"}}}}};
  WriteFile(dir.File("spec.json"), spec.dump(2));
  const Proc p = RunSysopt({"tune", dir.File("spec.json"), "--budget", "5", "--sampler",
                            "exhaustive", "--storage", dir.File("s.db")});
  ASSERT_EQ(p.exit_code, 0) << Describe(p);

  std::set<std::string> seen;
  for (int trial = 0; trial < 5; ++trial) {
    const auto lines = Lines(ReadFile(dir.File("args." + std::to_string(trial))));
    ASSERT_EQ(lines.size(), 3u) << "trial " << trial;
    EXPECT_EQ(lines[0], "2");
    EXPECT_EQ(lines[2], "--opt=" + lines[1]);
    seen.insert(lines[1]);
  }
  EXPECT_EQ(seen, std::set<std::string>(values.begin(), values.end()));
  for (const std::string suffix : {"", "2", "3", "4"}) EXPECT_FALSE(fs::exists(pwned + suffix));
  // The recorded configurations hold the values verbatim too.
  std::set<std::string> recorded;
  for (const auto& t : ExportTrials(dir.File("s.db"))) recorded.insert(t["config"]["v"]);
  EXPECT_EQ(recorded, seen);
}

// ---------------------------------------------------------------------------------------------
// 4. A trial's failure is recorded with its reason; the study goes on.

TEST(E2eFailures, TimeoutGarbageNanAndMissingObjectiveAreRecorded) {
  TempDir dir;
  WriteFile(dir.File("modes.sh"), R"(#!/bin/sh
case "$1" in
  ok) echo "some log line"; echo 1.5 ;;
  hang) sleep 20; echo 2 ;;
  garbage) echo "hello world" ;;
  nan) echo nan ;;
  inf) echo '-inf' ;;
  missing) echo '{"other": 1}' ;;
  empty) ;;
esac
)");
  const std::vector<std::string> modes = {"ok",  "hang",    "garbage", "nan",
                                          "inf", "missing", "empty"};
  const json spec = {
      {"name", "modes"},
      {"parameters", {{{"name", "mode"}, {"type", "categorical"}, {"values", modes}}}},
      {"objectives", {{{"name", "value"}}}},
      {"run", {{"command", {"sh", "modes.sh", "{mode}"}}, {"timeout_s", 0.5}}}};
  WriteFile(dir.File("spec.json"), spec.dump(2));
  const std::string db = dir.File("s.db");
  const Proc p = RunSysopt({"tune", dir.File("spec.json"), "--budget", "7", "--sampler",
                            "exhaustive", "--storage", db, "--json"});
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_LT(p.seconds, 10) << "the hanging trial was not cut off";
  const json summary = json::parse(p.out);
  EXPECT_EQ(summary["finished"], 7);
  EXPECT_EQ(summary["failed"], 6);
  EXPECT_EQ(summary["best"]["config"]["mode"], "ok");

  std::map<std::string, json> by_mode;
  for (const auto& t : ExportTrials(db)) by_mode[t["config"]["mode"]] = t;
  ASSERT_EQ(by_mode.size(), modes.size());
  EXPECT_EQ(by_mode["ok"]["state"], "COMPLETE");
  EXPECT_EQ(by_mode["ok"]["values"]["value"], 1.5);
  auto reason = [&](const std::string& mode) {
    EXPECT_EQ(by_mode[mode]["state"], "FAILED") << mode;
    return by_mode[mode].value("failure_reason", "");
  };
  EXPECT_EQ(reason("hang").rfind("timed out", 0), 0u) << reason("hang");
  EXPECT_EQ(reason("garbage"), "unparseable output: 'hello world'");
  EXPECT_EQ(reason("nan"), "objective 'value' is NaN");
  EXPECT_EQ(reason("inf"), "objective 'value' is infinite");
  EXPECT_EQ(reason("missing"), "objective 'value' missing from output");
  EXPECT_NE(reason("empty").find("no output"), std::string::npos) << reason("empty");
  const double hang_s =
      by_mode["hang"]["end_time"].get<double>() - by_mode["hang"]["start_time"].get<double>();
  EXPECT_GE(hang_s, 0.4);
  EXPECT_LT(hang_s, 5);

  // T4 tells a timeout apart from other failures.
  const Proc t4 = RunSysopt({"export", "--storage", db, "--format", "t4"});
  ASSERT_EQ(t4.exit_code, 0) << Describe(t4);
  std::map<std::string, std::string> invalidity;
  const json results = json::parse(t4.out)["results"];
  for (const auto& r : results) {
    invalidity[r["configuration"]["mode"]] = r["invalidity"];
  }
  EXPECT_EQ(invalidity["ok"], "correct");
  EXPECT_EQ(invalidity["hang"], "timeout");
  EXPECT_EQ(invalidity["garbage"], "runtime");
}

// ---------------------------------------------------------------------------------------------
// 5. A study is not resumed with a different space.

TEST(E2eResume, DifferentSpaceIsRefusedNamingStudyAndParameter) {
  TempDir dir_a, dir_b, dir_c;
  const std::string spec_a = WriteQuadSpec(dir_a, "quad", 10, 10);
  const std::string spec_b = WriteQuadSpec(dir_b, "quad", 10, 20);  // y's range differs
  const std::string db = dir_a.File("s.db");
  const Proc a = RunSysopt({"tune", spec_a, "--budget", "2", "--storage", db, "--study", "shared",
                            "--sampler", "random"});
  ASSERT_EQ(a.exit_code, 0) << Describe(a);

  const Proc b = RunSysopt({"tune", spec_b, "--budget", "4", "--storage", db, "--study", "shared",
                            "--sampler", "random"});
  EXPECT_EQ(b.exit_code, 2) << Describe(b);
  EXPECT_NE(b.err.find("study 'shared'"), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("\"y\""), std::string::npos) << b.err;
  EXPECT_EQ(b.err.find("\"x\""), std::string::npos) << b.err;  // x did not change
  EXPECT_FALSE(fs::exists(dir_b.File("calls.log")));           // nothing ran

  // A renamed parameter is named too.
  WriteFile(dir_c.File("quad.sh"), kQuadScript);
  json spec_c = json::parse(ReadFile(spec_a));
  spec_c["parameters"][1]["name"] = "z";
  spec_c["run"]["command"] = {"sh", "quad.sh", "{x}", "{z}"};
  WriteFile(dir_c.File("c.json"), spec_c.dump());
  const Proc c = RunSysopt({"tune", dir_c.File("c.json"), "--budget", "4", "--storage", db,
                            "--study", "shared", "--sampler", "random"});
  EXPECT_EQ(c.exit_code, 2) << Describe(c);
  EXPECT_NE(c.err.find("study 'shared'"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("\"z\""), std::string::npos) << c.err;

  // The stored study is untouched, and the original spec still resumes it.
  EXPECT_EQ(ExportTrials(db).size(), 2u);
  const Proc again = RunSysopt({"tune", spec_a, "--budget", "4", "--storage", db, "--study",
                                "shared", "--sampler", "random"});
  EXPECT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(ExportTrials(db).size(), 4u);
}

// ---------------------------------------------------------------------------------------------
// 6. validate counts feasible configurations exactly; T1 files are read and tuned.

TEST(E2eValidate, CountsTheFeasibleConfigurationsExactly) {
  TempDir dir;
  const json spec = json::parse(R"json({
    "name": "counted",
    "parameters": [
      {"name": "a", "type": "ordinal", "values": [1, 2, 4, 8]},
      {"name": "b", "type": "ordinal", "values": [1, 2, 4, 8, 16]},
      {"name": "c", "type": "integer", "low": 0, "high": 6},
      {"name": "d", "type": "categorical", "values": ["p", "q"]}
    ],
    "constraints": ["a * b <= 16", "c % a == 0 or d == 'q'", "not (b == 16 and c > 3)"]
  })json");
  WriteFile(dir.File("spec.json"), spec.dump(2));
  int expected = 0;
  for (int a : {1, 2, 4, 8}) {
    for (int b : {1, 2, 4, 8, 16}) {
      for (int c = 0; c <= 6; ++c) {
        for (char d : {'p', 'q'}) {
          expected += a * b <= 16 && (c % a == 0 || d == 'q') && !(b == 16 && c > 3);
        }
      }
    }
  }
  ASSERT_GT(expected, 0);
  ASSERT_LT(expected, 4 * 5 * 7 * 2);

  const Proc text = RunSysopt({"validate", dir.File("spec.json")});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_NE(text.out.find("Feasible configurations: " + std::to_string(expected) + "\n"),
            std::string::npos)
      << "expected " << expected << " in\n"
      << text.out;
  EXPECT_NE(text.out.find("valid sysopt spec: 'counted'"), std::string::npos) << text.out;

  const Proc js = RunSysopt({"validate", dir.File("spec.json"), "--json"});
  ASSERT_EQ(js.exit_code, 0) << Describe(js);
  const json j = json::parse(js.out);
  EXPECT_EQ(j["format"], "sysopt");
  EXPECT_EQ(j["feasible"]["count"].get<double>(), expected);
  EXPECT_EQ(j["feasible"]["exact"], true);
  EXPECT_EQ(j["parameters"].size(), 4u);

  // An infeasible space is reported as bad input.
  json none = spec;
  none["constraints"].push_back("a > 100");
  WriteFile(dir.File("none.json"), none.dump());
  const Proc empty = RunSysopt({"validate", dir.File("none.json")});
  EXPECT_EQ(empty.exit_code, 2) << Describe(empty);
  EXPECT_NE(empty.out.find("Feasible configurations: 0"), std::string::npos) << empty.out;
  EXPECT_EQ(empty.out.find("valid"), std::string::npos) << "called valid, then refused:\n"
                                                        << empty.out;
  EXPECT_NE(empty.out.find("that no configuration satisfies"), std::string::npos) << empty.out;
}

TEST(E2eValidate, T1FileIsAcceptedAndTunedWithTheCommandAfterDashes) {
  TempDir dir;
  WriteFile(dir.File("t1.json"), R"({
    "General": {"BenchmarkName": "t1_small"},
    "ConfigurationSpace": {
      "TuningParameters": [
        {"Name": "a", "Type": "int", "Values": "[1, 2, 4, 8]", "Default": 1},
        {"Name": "b", "Type": "int", "Values": [1, 2, 4, 8, 16], "Default": 1}
      ],
      "Conditions": [{"Expression": "a * b <= 16", "Parameters": ["a", "b"]}]
    }
  })");
  const int expected = 5 + 4 + 3 + 2;  // b <= 16 / a for a = 1, 2, 4, 8
  const Proc text = RunSysopt({"validate", dir.File("t1.json")});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_NE(text.out.find("valid T1 spec: 't1_small'"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Feasible configurations: " + std::to_string(expected) + "\n"),
            std::string::npos)
      << text.out;
  const json j = json::parse(RunSysopt({"validate", dir.File("t1.json"), "--json"}).out);
  EXPECT_EQ(j["format"], "t1");
  EXPECT_EQ(j["feasible"]["count"].get<double>(), expected);

  // Without a command there is nothing to run.
  const Proc no_cmd = RunSysopt({"tune", dir.File("t1.json"), "--storage", dir.File("s.db")});
  EXPECT_EQ(no_cmd.exit_code, 2) << Describe(no_cmd);
  EXPECT_NE(no_cmd.err.find("nothing to run"), std::string::npos) << no_cmd.err;

  // The command after -- runs in the current folder.
  WriteFile(dir.File("t1.sh"), "echo \"$1 $2\" >> calls.log\necho $(( 100 - $1 * $2 ))\n");
  const Proc tune =
      RunSysopt({"tune", dir.File("t1.json"), "--budget", "6", "--sampler", "exhaustive",
                 "--storage", dir.File("s.db"), "--json", "--", "sh", "t1.sh", "{a}", "{b}"},
                dir.path());
  ASSERT_EQ(tune.exit_code, 0) << Describe(tune);
  EXPECT_EQ(Lines(ReadFile(dir.File("calls.log"))).size(), 6u);
  const json summary = json::parse(tune.out);
  EXPECT_EQ(summary["study"], "t1_small");
  EXPECT_EQ(summary["finished"], 6);
  // The T1 default (a=1, b=1) runs first and is the baseline.
  EXPECT_EQ(summary["baseline"]["config"], json({{"a", 1}, {"b", 1}}));
  EXPECT_EQ(summary["baseline_is_default"], true);
  const json trials = ExportTrials(dir.File("s.db"));
  ASSERT_EQ(trials.size(), 6u);
  std::set<std::string> distinct;
  for (const auto& t : trials) {
    const int a = t["config"]["a"], b = t["config"]["b"];
    EXPECT_LE(a * b, 16);
    EXPECT_EQ(t["state"], "COMPLETE");
    EXPECT_EQ(t["values"]["time"], 100 - a * b);
    distinct.insert(t["config"].dump());
  }
  EXPECT_EQ(distinct.size(), 6u);
}

// ---------------------------------------------------------------------------------------------
// 7. Exports: CSV, JSON and T4 agree with each other and with `best`.

TEST(E2eExport, CsvJsonT4AndBestAgree) {
  TempDir dir;
  const std::string spec = WriteQuadSpec(dir, "quad", 8, 8);
  const std::string db = dir.File("s.db");
  const Proc tune = RunSysopt({"tune", spec, "--budget", "8", "--storage", db, "--seed", "3"});
  ASSERT_EQ(tune.exit_code, 0) << Describe(tune);

  const json exported = ExportJson(db);
  EXPECT_EQ(exported["study"], "quad");
  const json& trials = exported["trials"];
  ASSERT_EQ(trials.size(), 8u);
  double min_value = INFINITY;
  json min_config;
  for (const auto& t : trials) {
    ASSERT_EQ(t["state"], "COMPLETE");
    const double v = t["values"]["value"];
    // The recorded value is what the program computes for the recorded configuration.
    EXPECT_DOUBLE_EQ(v, Quad(t["config"]["x"], t["config"]["y"]));
    if (v < min_value) min_value = v, min_config = t["config"];
  }

  // CSV: a header naming parameters and objectives, one row per trial, same values.
  const Proc csv = RunSysopt({"export", "--storage", db, "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << Describe(csv);
  const auto rows = Lines(csv.out);
  ASSERT_EQ(rows.size(), 9u) << csv.out;
  std::vector<std::string> header;
  {
    std::istringstream in(rows[0]);
    for (std::string f; std::getline(in, f, ',');) header.push_back(f);
  }
  auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name << " not in " << rows[0];
    return static_cast<size_t>(it - header.begin());
  };
  const size_t cx = column("x"), cy = column("y"), cv = column("value"), cs = column("state");
  for (size_t i = 1; i < rows.size(); ++i) {
    std::vector<std::string> f;
    std::istringstream in(rows[i]);
    for (std::string s; std::getline(in, s, ',');) f.push_back(s);
    ASSERT_GT(f.size(), std::max({cx, cy, cv, cs})) << rows[i];
    EXPECT_EQ(f[cs], "COMPLETE");
    EXPECT_EQ(std::stoi(f[cx]), trials[i - 1]["config"]["x"]);
    EXPECT_EQ(std::stoi(f[cy]), trials[i - 1]["config"]["y"]);
    EXPECT_DOUBLE_EQ(std::stod(f[cv]), trials[i - 1]["values"]["value"].get<double>());
  }

  // T4: schema version and one result per trial.
  const Proc t4 = RunSysopt({"export", "--storage", db, "--format", "t4"});
  ASSERT_EQ(t4.exit_code, 0) << Describe(t4);
  const json t4j = json::parse(t4.out);
  EXPECT_TRUE(t4j.contains("schema_version"));
  ASSERT_EQ(t4j["results"].size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    const auto& r = t4j["results"][i];
    EXPECT_EQ(r["configuration"], trials[i]["config"]);
    EXPECT_EQ(r["invalidity"], "correct");
    EXPECT_EQ(r["correctness"], 1);
    ASSERT_EQ(r["measurements"].size(), 1u);
    EXPECT_EQ(r["measurements"][0]["name"], "value");
    EXPECT_EQ(r["measurements"][0]["value"], trials[i]["values"]["value"]);
  }

  // best --json: the minimum of the export.
  const Proc best = RunSysopt({"best", "--storage", db, "--json"});
  ASSERT_EQ(best.exit_code, 0) << Describe(best);
  const json bj = json::parse(best.out);
  EXPECT_EQ(bj["finished"], 8);
  EXPECT_EQ(bj["best"]["values"]["value"].get<double>(), min_value);
  EXPECT_EQ(bj["best"]["config"], min_config);
  EXPECT_EQ(exported["best"]["values"]["value"].get<double>(), min_value);

  // --output writes the same text to a file.
  const Proc to_file =
      RunSysopt({"export", "--storage", db, "--format", "csv", "--output", dir.File("out.csv")});
  ASSERT_EQ(to_file.exit_code, 0) << Describe(to_file);
  EXPECT_EQ(ReadFile(dir.File("out.csv")), csv.out);
}

// ---------------------------------------------------------------------------------------------
// 8. Several workers: exact budget, distinct configurations, trials overlapping in time.

TEST(E2eWorkers, ThreeWorkersRunConcurrentlyWithinBudget) {
  TempDir dir;
  WriteFile(dir.File("slow.sh"), "sleep 0.3\necho $(( $1 * $1 ))\n");
  const json spec = {
      {"name", "par"},
      {"parameters", {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 9}}}},
      {"run", {{"command", {"sh", "slow.sh", "{x}"}}}}};
  WriteFile(dir.File("spec.json"), spec.dump());
  const std::string db = dir.File("s.db");
  const Proc p = RunSysopt({"tune", dir.File("spec.json"), "--budget", "6", "--workers", "3",
                            "--storage", db, "--seed", "5", "--sampler", "random", "--json"});
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_EQ(json::parse(p.out)["finished"], 6);

  const json trials = ExportTrials(db);
  ASSERT_EQ(trials.size(), 6u);
  std::set<int> xs;
  std::set<std::string> workers;
  double busy = 0;
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "COMPLETE");
    xs.insert(t["config"]["x"].get<int>());
    workers.insert(t["worker"]);
    busy += t["end_time"].get<double>() - t["start_time"].get<double>();
  }
  EXPECT_EQ(xs.size(), 6u);
  EXPECT_GE(workers.size(), 2u);
  int overlapping = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    for (size_t j = i + 1; j < trials.size(); ++j) {
      overlapping += trials[i]["start_time"].get<double>() < trials[j]["end_time"].get<double>() &&
                     trials[j]["start_time"].get<double>() < trials[i]["end_time"].get<double>();
    }
  }
  EXPECT_GE(overlapping, 1);
  EXPECT_LT(p.seconds, busy) << "no faster than running the trials one after another";
}

TEST(E2eWorkers, SmallSpaceIsExhaustedWithoutRepeats) {
  TempDir dir;
  WriteFile(dir.File("slow.sh"), "sleep 0.1\necho $1\n");
  const json spec = {
      {"name", "tiny"},
      {"parameters", {{{"name", "x"}, {"type", "ordinal"}, {"values", {1, 2, 3, 4}}}}},
      {"run", {{"command", {"sh", "slow.sh", "{x}"}}}}};
  WriteFile(dir.File("spec.json"), spec.dump());
  for (const std::string sampler : {"random", "exhaustive"}) {
    SCOPED_TRACE(sampler);
    const std::string db = dir.File(sampler + ".db");
    const Proc p = RunSysopt({"tune", dir.File("spec.json"), "--budget", "10", "--workers", "3",
                              "--sampler", sampler, "--storage", db, "--json"});
    ASSERT_EQ(p.exit_code, 0) << Describe(p);
    const json summary = json::parse(p.out);
    EXPECT_EQ(summary["finished"], 4);
    EXPECT_EQ(summary["exhausted"], true);
    EXPECT_EQ(summary["best"]["config"]["x"], 1);
    std::set<int> xs;
    for (const auto& t : ExportTrials(db)) xs.insert(t["config"]["x"].get<int>());
    EXPECT_EQ(xs, std::set<int>({1, 2, 3, 4}));
  }
}

// ---------------------------------------------------------------------------------------------
// 9. Several objectives: `best` gives the Pareto front.

// Whether a is at least as good as b everywhere and better somewhere.
bool Dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<bool>& minimize) {
  bool strictly = false;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = minimize[i] ? a[i] : -a[i], y = minimize[i] ? b[i] : -b[i];
    if (x > y) return false;
    strictly = strictly || x < y;
  }
  return strictly;
}

void CheckParetoFront(const std::string& goal_size) {
  TempDir dir;
  // time grows with x, size shrinks with x (when minimised); y makes both worse.
  WriteFile(
      dir.File("mo.sh"),
      "echo \"{\\\"time\\\": $(( $1 + 2 * $2 )), \\\"size\\\": $(( 20 - 2 * $1 + $2 * $2 ))}\"\n");
  const json spec = {
      {"name", "mo"},
      {"parameters",
       {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 9}},
        {{"name", "y"}, {"type", "integer"}, {"low", 0}, {"high", 4}}}},
      {"objectives",
       {{{"name", "time"}, {"goal", "minimize"}}, {{"name", "size"}, {"goal", goal_size}}}},
      {"run", {{"command", {"sh", "mo.sh", "{x}", "{y}"}}}}};
  WriteFile(dir.File("spec.json"), spec.dump());
  const std::string db = dir.File("s.db");
  const Proc tune = RunSysopt({"tune", dir.File("spec.json"), "--budget", "20", "--storage", db,
                               "--seed", "11", "--sampler", "random", "--json"});
  ASSERT_EQ(tune.exit_code, 0) << Describe(tune);

  const std::vector<bool> minimize = {true, goal_size == "minimize"};
  auto values = [](const json& t) {
    return std::vector<double>{t["values"]["time"].get<double>(),
                               t["values"]["size"].get<double>()};
  };
  const json trials = ExportTrials(db);
  ASSERT_EQ(trials.size(), 20u);
  std::set<int> expected;  // brute force over the export
  for (const auto& t : trials) {
    ASSERT_EQ(t["state"], "COMPLETE");
    const int x = t["config"]["x"], y = t["config"]["y"];
    EXPECT_EQ(values(t), (std::vector<double>{double(x + 2 * y), double(20 - 2 * x + y * y)}));
    bool dominated = false;
    for (const auto& u : trials) dominated = dominated || Dominates(values(u), values(t), minimize);
    if (!dominated) expected.insert(t["number"].get<int>());
  }
  ASSERT_FALSE(expected.empty());

  const Proc best = RunSysopt({"best", "--storage", db, "--json"});
  ASSERT_EQ(best.exit_code, 0) << Describe(best);
  const json front = json::parse(best.out)["pareto_front"];
  ASSERT_TRUE(front.is_array()) << best.out;
  std::set<int> got;
  for (const auto& f : front) {
    got.insert(f["number"].get<int>());
    for (const auto& g : front) EXPECT_FALSE(Dominates(values(g), values(f), minimize));
  }
  for (const auto& t : trials) {
    if (got.count(t["number"])) continue;
    bool covered = false;
    for (const auto& f : front) {
      covered = covered || Dominates(values(f), values(t), minimize) || values(f) == values(t);
    }
    EXPECT_TRUE(covered) << "trial " << t["number"] << " is neither on nor behind the front";
  }
  EXPECT_EQ(got, expected);

  // The JSON export holds the same front, as `best --json` does.
  std::set<int> from_export;
  const json exported = ExportJson(db);
  EXPECT_FALSE(exported.contains("best"));
  for (const auto& f : exported["pareto_front"]) from_export.insert(f["number"].get<int>());
  EXPECT_EQ(from_export, expected);

  // tune's own summary shows the same front.
  std::set<int> from_tune;
  const json tune_front = json::parse(tune.out)["pareto_front"];
  for (const auto& f : tune_front) from_tune.insert(f["number"].get<int>());
  EXPECT_EQ(from_tune, expected);
}

TEST(E2eMultiObjective, BestIsTheParetoFrontBothMinimized) { CheckParetoFront("minimize"); }

TEST(E2eMultiObjective, BestIsTheParetoFrontOneMaximized) { CheckParetoFront("maximize"); }

TEST(E2eMultiObjective, SingleNumberOutputFailsWithTwoObjectives) {
  TempDir dir;
  WriteFile(dir.File("one.sh"), "echo 3\n");
  const json spec = {
      {"name", "mo1"},
      {"parameters", {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 9}}}},
      {"objectives", {{{"name", "time"}}, {{"name", "size"}}}},
      {"run", {{"command", {"sh", "one.sh", "{x}"}}}}};
  WriteFile(dir.File("spec.json"), spec.dump());
  const Proc p =
      RunSysopt({"tune", dir.File("spec.json"), "--budget", "2", "--storage", dir.File("s.db")});
  EXPECT_EQ(p.exit_code, 1) << Describe(p);
  for (const auto& t : ExportTrials(dir.File("s.db"))) {
    EXPECT_EQ(t["state"], "FAILED");
    EXPECT_NE(t.value("failure_reason", "").find("2 objectives"), std::string::npos) << t.dump();
  }
}

// ---------------------------------------------------------------------------------------------
// 10. Every subcommand documents its options.

TEST(E2eHelp, EverySubcommandDocumentsItsOptions) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"tune",
       {"--budget", "--workers", "--storage", "--study", "--sampler", "--seed", "--json", "random",
        "exhaustive", "--timeout", "--repeat", "--time-limit", "--confirm", "{{"}},
      {"best", {"--storage", "--study", "--json"}},
      {"export", {"--storage", "--study", "--format", "--output", "csv", "t4"}},
      {"validate", {"--json"}},
  };
  for (const auto& [cmd, options] : expected) {
    SCOPED_TRACE(cmd);
    const Proc p = RunSysopt({cmd, "--help"});
    EXPECT_EQ(p.exit_code, 0) << Describe(p);
    for (const auto& o : options) EXPECT_NE(p.out.find(o), std::string::npos) << o << "\n" << p.out;
  }
  const Proc top = RunSysopt({"--help"});
  EXPECT_EQ(top.exit_code, 0) << Describe(top);
  for (const std::string cmd : {"tune", "best", "export", "validate"}) {
    EXPECT_NE(top.out.find(cmd), std::string::npos) << top.out;
  }
  const Proc version = RunSysopt({"--version"});
  EXPECT_EQ(version.exit_code, 0) << Describe(version);
  EXPECT_NE(version.out.find("sysopt"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// 11. Conditional parameters: only active ones reach the command; exports show inactive ones
// as empty (CSV) or null (JSON).

// A solver program that refuses a --restart it cannot use and needs one it can.
constexpr const char* kSolverScript = R"(#!/bin/sh
echo "$*" >> calls.log
solver=""; restart=""
for a in "$@"; do
  case "$a" in
    --solver=*) solver="${a#--solver=}" ;;
    --restart=*) restart="${a#--restart=}" ;;
  esac
done
case "$solver" in
  gmres) [ -n "$restart" ] || { echo "gmres needs --restart" >&2; exit 3; }
         awk -v r="$restart" 'BEGIN { print 1 + (r - 7) ^ 2 / 10 }' ;;
  cg) [ -z "$restart" ] || { echo "cg takes no --restart" >&2; exit 3; }; echo 3 ;;
  direct) [ -z "$restart" ] || { echo "direct takes no --restart" >&2; exit 3; }; echo 5 ;;
  *) exit 4 ;;
esac
)";

json SolverSpec(const std::string& restart_placeholder) {
  return json::parse(R"({
    "name": "solver",
    "parameters": [
      {"name": "solver", "type": "categorical", "values": ["cg", "gmres", "direct"]},
      {"name": "restart", "type": "integer", "low": 1, "high": 10,
       "active_if": "solver == 'gmres'"}
    ],
    "run": {"command": ["sh", "solver.sh", "--solver={solver}", ")" +
                     restart_placeholder + R"("]}
  })");
}

TEST(E2eConditional, TuneValidateAndExportAConditionalSpec) {
  TempDir dir;
  WriteFile(dir.File("solver.sh"), kSolverScript);
  WriteFile(dir.File("spec.json"), SolverSpec("--restart={restart?}").dump(2));
  const std::string db = dir.File("s.db");

  const Proc validate = RunSysopt({"validate", dir.File("spec.json")});
  ASSERT_EQ(validate.exit_code, 0) << Describe(validate);
  EXPECT_NE(validate.out.find("active if solver == 'gmres'"), std::string::npos) << validate.out;
  // cg, direct, and gmres with each of 10 restarts.
  EXPECT_NE(validate.out.find("Feasible configurations: 12\n"), std::string::npos) << validate.out;

  const Proc tune = RunSysopt({"tune", dir.File("spec.json"), "--budget", "12", "--sampler",
                               "exhaustive", "--storage", db, "--seed", "2"});
  ASSERT_EQ(tune.exit_code, 0) << Describe(tune);
  // Every configuration ran once, with --restart exactly when the solver is gmres (the program
  // fails otherwise), and nothing more was proposed.
  const auto calls = Lines(ReadFile(dir.File("calls.log")));
  EXPECT_EQ(calls.size(), 12u);
  EXPECT_EQ(std::set<std::string>(calls.begin(), calls.end()).size(), 12u);
  const json trials = ExportTrials(db);
  ASSERT_EQ(trials.size(), 12u);
  for (const auto& t : trials) {
    ASSERT_EQ(t["state"], "COMPLETE") << t.dump();
    EXPECT_EQ(t["config"]["solver"] == "gmres", !t["config"]["restart"].is_null()) << t.dump();
  }
  const json best = json::parse(RunSysopt({"best", "--storage", db, "--json"}).out);
  EXPECT_EQ(best["best"]["config"], json({{"solver", "gmres"}, {"restart", 7}}));
  EXPECT_EQ(best["best"]["values"]["value"], 1);
  const Proc text_best = RunSysopt({"best", "--storage", db});
  EXPECT_NE(text_best.out.find("solver=gmres restart=7"), std::string::npos) << text_best.out;

  const Proc csv = RunSysopt({"export", "--storage", db, "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << Describe(csv);
  int empty_restarts = 0;
  for (const auto& row : Lines(csv.out)) {
    if (row.rfind("number", 0) == 0) {
      EXPECT_EQ(row.substr(0, 27), "number,state,solver,restart");
      continue;
    }
    const bool gmres = row.find(",gmres,") != std::string::npos;
    const bool empty = row.find(",COMPLETE,cg,,") != std::string::npos ||
                       row.find(",COMPLETE,direct,,") != std::string::npos;
    EXPECT_TRUE(gmres != empty) << row;
    empty_restarts += empty;
  }
  EXPECT_EQ(empty_restarts, 2);

  // The Bayesian sampler on the same spec proposes only consistent configurations: every run
  // of the program succeeds.
  const Proc bayes = RunSysopt({"tune", dir.File("spec.json"), "--budget", "8", "--storage", db,
                                "--study", "bayes", "--seed", "4"});
  ASSERT_EQ(bayes.exit_code, 0) << Describe(bayes);
  const json bayes_trials = ExportJson(db, "bayes")["trials"];
  ASSERT_EQ(bayes_trials.size(), 8u);
  for (const auto& t : bayes_trials) EXPECT_EQ(t["state"], "COMPLETE") << t.dump();
}

TEST(E2eConditional, BadConditionsAndPlaceholdersAreBadInputNamingTheField) {
  TempDir dir;
  WriteFile(dir.File("solver.sh"), kSolverScript);
  json unknown = SolverSpec("--restart={restart?}");
  unknown["parameters"][1]["active_if"] = "solvr == 'gmres'";
  json cycle = SolverSpec("--restart={restart?}");
  cycle["parameters"][0]["active_if"] = "restart > 2";
  const json plain = SolverSpec("--restart={restart}");
  const std::vector<std::pair<json, std::vector<std::string>>> cases = {
      {unknown, {"bad.json", "parameters[1] (\"restart\")", "active_if", "solvr"}},
      {cycle, {"bad.json", "active_if", "cycle", "solver -> restart -> solver"}},
      {plain, {"bad.json", "run", "--restart={restart}", "{restart?}"}},
  };
  for (const auto& [spec, words] : cases) {
    WriteFile(dir.File("bad.json"), spec.dump());
    for (const std::string cmd : {"validate", "tune"}) {
      std::vector<std::string> args = {cmd, dir.File("bad.json")};
      if (cmd == "tune") args.insert(args.end(), {"--storage", dir.File("s.db")});
      const Proc p = RunSysopt(args, dir.path());
      EXPECT_EQ(p.exit_code, 2) << cmd << ": " << Describe(p);
      for (const auto& w : words) {
        EXPECT_NE(p.err.find(w), std::string::npos) << cmd << ": '" << w << "' not in " << p.err;
      }
    }
  }
  EXPECT_FALSE(fs::exists(dir.File("s.db")));
}

// ---------------------------------------------------------------------------------------------
// 12. Runs a user can trust: Ctrl-C in a terminal, timeouts, time limits, noise.

// True while the process exists and is not a zombie (a killed orphan may wait as a zombie for
// a parent that does not reap it; it no longer runs).
bool Running(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  const char state = line[paren + 2];
  return state != 'Z' && state != 'X';
}

// The pids written, one per line, into the files `prefix.*` of `dir`.
std::vector<pid_t> PidsIn(const TempDir& dir, const std::string& prefix) {
  std::vector<pid_t> pids;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    if (entry.path().filename().string().rfind(prefix + ".", 0) != 0) continue;
    for (const auto& line : Lines(ReadFile(entry.path().string()))) {
      if (!line.empty()) pids.push_back(static_cast<pid_t>(std::stol(line)));
    }
  }
  return pids;
}

// sysopt running in a pseudo-terminal of its own, as in a user's terminal: Ctrl-C typed into
// the terminal is sent by the line discipline to the foreground process group.
class TerminalSession {
 public:
  TerminalSession(const std::vector<std::string>& args, const fs::path& cwd) {
    auto argv = Argv(args);
    pid_ = forkpty(&master_, nullptr, nullptr, nullptr);
    if (pid_ < 0) throw std::runtime_error("forkpty failed");
    if (pid_ == 0) {
      if (chdir(cwd.c_str()) != 0) _exit(126);
      execv(kSysopt.c_str(), argv.data());
      _exit(127);
    }
    reader_ = std::thread([this] {
      char buf[4096];
      for (;;) {
        const ssize_t n = read(master_, buf, sizeof(buf));
        if (n > 0) {
          std::lock_guard lock(mutex_);
          output_.append(buf, static_cast<size_t>(n));
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else {
          break;  // EIO once the child side is closed
        }
      }
    });
  }
  ~TerminalSession() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      Wait(10);
    }
    if (reader_.joinable()) reader_.join();
    close(master_);
  }

  void Type(const std::string& keys) {
    ASSERT_EQ(write(master_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }
  std::string Output() {
    std::lock_guard lock(mutex_);
    return output_;
  }
  // Waits up to `limit_s` for sysopt to end; its exit code (128 + signal if killed), or -1.
  int Wait(double limit_s) {
    int status = 0;
    const bool done = WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, limit_s);
    if (!done) return -1;
    reaped_ = true;
    if (reader_.joinable()) reader_.join();
    return sysopt::testing::DecodeWaitStatus(status);
  }

 private:
  pid_t pid_ = -1;
  int master_ = -1;
  bool reaped_ = false;
  std::thread reader_;
  std::mutex mutex_;
  std::string output_;
};

// Trials 0 and 1 finish at once; later ones (until the file `release` exists) record their
// shell's pid and their background child's pid and wait.
constexpr const char* kHangingScript = R"(#!/bin/sh
if [ "$SYSOPT_TRIAL" -ge 2 ] && [ ! -e release ]; then
  echo $$ > "pid.$SYSOPT_TRIAL.sh"
  sleep 60 &
  echo $! > "pid.$SYSOPT_TRIAL.child"
  wait
fi
echo "$1"
)";

std::string WriteHangingSpec(const TempDir& dir, const std::string& script) {
  WriteFile(dir.File("hang.sh"), script);
  const json spec = {
      {"name", "pty"},
      {"parameters", {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 50}}}},
      {"run", {{"command", {"sh", "hang.sh", "{x}"}}}}};
  WriteFile(dir.File("spec.json"), spec.dump());
  return dir.File("spec.json");
}

TEST(E2eTrust, CtrlCInATerminalStopsTheTrialsSummarisesAndLeavesNothingRunning) {
  TempDir dir;
  const std::string spec = WriteHangingSpec(dir, kHangingScript);
  const std::string db = dir.File("s.db");
  const std::vector<std::string> tune = {"tune",   spec, "--budget",  "6",      "--workers", "2",
                                         "--seed", "4",  "--sampler", "random", "--storage", db};
  std::string output;
  {
    TerminalSession terminal(tune, dir.path());
    const bool both = WaitFor(
        [&] { return fs::exists(dir.File("pid.2.child")) && fs::exists(dir.File("pid.3.child")); },
        20);
    ASSERT_TRUE(both) << terminal.Output();
    const auto t0 = Clock::now();
    terminal.Type("\x03");
    const int code = terminal.Wait(15);
    const double stop_s = std::chrono::duration<double>(Clock::now() - t0).count();
    output = terminal.Output();
    ASSERT_EQ(code, 130) << output;
    // The trials got the signal at once: no waiting for them to finish, nor for the grace.
    EXPECT_LT(stop_s, 3) << output;
  }
  EXPECT_NE(output.find("sysopt: stopping: passing the signal on to the trials in flight"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("Study 'pty': 4 trials: 2 complete, 2 interrupted"), std::string::npos)
      << output;
  EXPECT_NE(output.find("stopped by SIGINT"), std::string::npos) << output;
  EXPECT_NE(output.find("Best: trial #"), std::string::npos) << output;
  // No benchmark process outlives sysopt: neither the shells nor their background children.
  const auto pids = PidsIn(dir, "pid");
  ASSERT_EQ(pids.size(), 4u);
  for (pid_t pid : pids) EXPECT_FALSE(Running(pid)) << "process " << pid << " still runs";

  const json trials = ExportTrials(db);
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(CountState(trials, "COMPLETE"), 2);
  EXPECT_EQ(trials[2]["failure_reason"], "interrupted");
  EXPECT_EQ(trials[3]["failure_reason"], "interrupted");
  // `best` counts the trials as `tune` did.
  const Proc best = RunSysopt({"best", "--storage", db});
  EXPECT_NE(best.out.find("4 trials: 2 complete, 2 interrupted"), std::string::npos) << best.out;

  // Resumed, the two interrupted configurations run first and the budget is reached.
  WriteFile(dir.File("release"), "");
  const Proc resumed = RunSysopt(tune, dir.path());
  ASSERT_EQ(resumed.exit_code, 0) << Describe(resumed);
  const json after = ExportTrials(db);
  EXPECT_EQ(CountTowardsBudget(after), 6);
  std::set<std::string> rerun = {after[4]["config"].dump(), after[5]["config"].dump()};
  EXPECT_EQ(rerun, (std::set<std::string>{trials[2]["config"].dump(), trials[3]["config"].dump()}));
}

TEST(E2eTrust, ASecondCtrlCKillsTrialsThatIgnoreTheFirst) {
  TempDir dir;
  const std::string script = R"(#!/bin/sh
trap '' INT TERM
echo $$ > "pid.$SYSOPT_TRIAL"
sleep 60
echo 1
)";
  const std::string spec = WriteHangingSpec(dir, script);
  TerminalSession terminal({"tune", spec, "--budget", "3", "--storage", dir.File("s.db")},
                           dir.path());
  ASSERT_TRUE(WaitFor([&] { return fs::exists(dir.File("pid.0")); }, 20)) << terminal.Output();
  terminal.Type("\x03");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(terminal.Wait(0.01), -1) << "did not wait for the trial that ignores SIGINT";
  const auto t0 = Clock::now();
  terminal.Type("\x03");
  const int code = terminal.Wait(15);
  const double stop_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const std::string output = terminal.Output();
  ASSERT_EQ(code, 130) << output;
  EXPECT_LT(stop_s, 3) << "the second Ctrl-C did not shorten the grace period";
  EXPECT_NE(output.find("sysopt: stopping now: killing the trials in flight"), std::string::npos)
      << output;
  EXPECT_NE(output.find("Study 'pty': 1 trial: 1 interrupted"), std::string::npos) << output;
  for (pid_t pid : PidsIn(dir, "pid")) EXPECT_FALSE(Running(pid)) << pid;
}

TEST(E2eTrust, AHangingTrialIsCutByTheDefaultTimeout) {
  TempDir dir;
  const std::string script = R"(#!/bin/sh
if [ "$SYSOPT_TRIAL" -eq 3 ]; then sleep 60; fi
echo "$1"
)";
  const std::string spec = WriteHangingSpec(dir, script);
  const Proc p = RunSysopt(
      {"tune", spec, "--budget", "5", "--sampler", "random", "--storage", dir.File("s.db")},
      dir.path(), 40);
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_LT(p.seconds, 15);
  // The reason is whole in the summary, and says where the limit came from.
  EXPECT_NE(p.out.find("1 x timed out after 5 s (the default limit, 10 x the median run of"),
            std::string::npos)
      << p.out;
  EXPECT_NE(p.out.find("set run.timeout_s or --timeout) (#3)"), std::string::npos) << p.out;
  const json trials = ExportTrials(dir.File("s.db"));
  ASSERT_EQ(trials.size(), 5u);
  EXPECT_EQ(trials[3]["state"], "FAILED");
  // --timeout overrides it.
  const Proc flag = RunSysopt({"tune", spec, "--budget", "5", "--sampler", "random", "--storage",
                               dir.File("t.db"), "--timeout", "1s", "--json"},
                              dir.path(), 40);
  ASSERT_EQ(flag.exit_code, 0) << Describe(flag);
  EXPECT_EQ(json::parse(flag.out)["failures"][0]["reason"], "timed out after 1 s");
  const Proc bad = RunSysopt({"tune", spec, "--storage", dir.File("u.db"), "--timeout", "soon"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_NE(bad.err.find("--timeout"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("'soon'"), std::string::npos) << bad.err;
}

TEST(E2eTrust, TimeLimitEndsTheRunAndStopsTheTrialInFlight) {
  TempDir dir;
  WriteFile(dir.File("slow.sh"), "sleep 0.4\necho $1\n");
  const json spec = {
      {"name", "limited"},
      {"parameters", {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 99}}}},
      {"run", {{"command", {"sh", "slow.sh", "{x}"}}}}};
  WriteFile(dir.File("spec.json"), spec.dump());
  const Proc p =
      RunSysopt({"tune", dir.File("spec.json"), "--budget", "100", "--time-limit", "1.5s",
                 "--sampler", "random", "--storage", dir.File("s.db"), "--json"});
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_LT(p.seconds, 4);
  const json summary = json::parse(p.out);
  EXPECT_EQ(summary["time_limit_reached"], true);
  EXPECT_GE(summary["finished"].get<int>(), 2);
  EXPECT_LE(summary["finished"].get<int>(), 4);
  EXPECT_NE(p.err.find("ETA "), std::string::npos) << p.err;
  const Proc bad = RunSysopt({"tune", dir.File("spec.json"), "--time-limit", "ten minutes",
                              "--storage", dir.File("b.db")});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_NE(bad.err.find("--time-limit"), std::string::npos) << bad.err;
}

TEST(E2eTrust, PureNoiseIsNotCalledASpeedup) {
  TempDir dir;
  // Every configuration prints a draw from one distribution (seeded by a counter).
  WriteFile(dir.File("noise.sh"), R"(#!/bin/sh
n=$(cat count 2>/dev/null || echo 0)
echo $((n + 1)) > count
awk -v s="$n" 'BEGIN { srand(s + 1); print 1 + rand() }'
)");
  const json spec = {
      {"name", "noise"},
      {"parameters",
       {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 30}, {"default", 0}}}},
      {"run", {{"command", {"sh", "noise.sh", "{x}"}}}}};
  WriteFile(dir.File("spec.json"), spec.dump());
  const std::string db = dir.File("s.db");
  const Proc p = RunSysopt({"tune", dir.File("spec.json"), "--budget", "12", "--repeat", "5",
                            "--sampler", "random", "--seed", "2", "--storage", db},
                           dir.path());
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_EQ(p.out.find("beyond the noise (the 95%"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("No improvement beyond the noise over the default configuration"),
            std::string::npos)
      << p.out;
  EXPECT_NE(p.out.find("95% interval, 5 samples"), std::string::npos) << p.out;

  // --confirm measures the leaders and the default again, interleaved, and judges on those.
  const Proc c =
      RunSysopt({"tune", dir.File("spec.json"), "--budget", "12", "--repeat", "5", "--sampler",
                 "random", "--seed", "2", "--storage", db, "--confirm", "2", "--json"},
                dir.path());
  ASSERT_EQ(c.exit_code, 0) << Describe(c);
  const json summary = json::parse(c.out);
  EXPECT_EQ(summary["noise"]["confirmed"], true);
  EXPECT_NE(summary["noise"]["verdict"], "better") << c.out;
  EXPECT_EQ(summary["noise"]["best"]["n"], 15);  // 3 rounds x 5 repeats
  const json trials = ExportTrials(db);
  ASSERT_EQ(trials.size(), 12u + 9u);
  for (size_t i = 12; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i]["attrs"]["confirm"], static_cast<int>((i - 12) / 3 + 1));
    EXPECT_TRUE(trials[i]["attrs"].contains("remeasure_of"));
  }
  EXPECT_EQ(trials[12]["config"]["x"], 0);  // the default leads each round
}

TEST(E2eTrust, WallTimeIsMeasuredBySysoptAndCheckedByACommand) {
  TempDir dir;
  WriteFile(dir.File("work.sh"),
            "sleep \"$1\"\nif [ \"$1\" = 0.3 ]; then echo ok > out.txt; "
            "else echo wrong > out.txt; fi\n");
  const json spec = {{"name", "timed"},
                     {"parameters", {{{"name", "d"}, {"type", "ordinal"}, {"values", {0.1, 0.3}}}}},
                     {"run",
                      {{"command", {"sh", "work.sh", "{d}"}},
                       {"objective", "wall-time"},
                       {"repeat", 2},
                       {"warmup", 1},
                       {"check", {"grep", "-q", "ok", "out.txt"}}}}};
  WriteFile(dir.File("spec.json"), spec.dump());
  const Proc p = RunSysopt({"tune", dir.File("spec.json"), "--budget", "2", "--sampler",
                            "exhaustive", "--storage", dir.File("s.db"), "--json"});
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  std::map<double, json> by_d;
  for (const auto& t : ExportTrials(dir.File("s.db"))) by_d[t["config"]["d"]] = t;
  ASSERT_EQ(by_d.size(), 2u);
  EXPECT_EQ(by_d[0.1]["failure_reason"], "check failed: exit code 1");
  ASSERT_EQ(by_d[0.3]["state"], "COMPLETE");
  const double t = by_d[0.3]["values"]["time"];
  EXPECT_GE(t, 0.3);
  EXPECT_LT(t, 1.0);
  EXPECT_EQ(by_d[0.3]["samples"].size(), 2u);
}

TEST(E2eTrust, ACommandThatDoesNotExistStopsAtOnce) {
  TempDir dir;
  const std::string spec = WriteQuadSpec(dir);
  const Proc p = RunSysopt({"tune", spec, "--budget", "20", "--storage", dir.File("s.db"), "--",
                            "no-such-benchmark", "{x}"},
                           dir.path());
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_NE(p.err.find("cannot execute 'no-such-benchmark': No such file or directory"),
            std::string::npos)
      << p.err;
  EXPECT_EQ(ExportTrials(dir.File("s.db")).size(), 1u);
}

TEST(E2eTrust, LiteralBracesAreExplained) {
  TempDir dir;
  const std::string spec = WriteQuadSpec(dir);
  const Proc p = RunSysopt(
      {"tune", spec, "--storage", dir.File("s.db"), "--", "awk", "BEGIN {print 2}"}, dir.path());
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_NE(p.err.find("'{{' and '}}' for literal braces"), std::string::npos) << p.err;
  const Proc ok = RunSysopt({"tune", spec, "--budget", "1", "--storage", dir.File("s.db"), "--json",
                             "--", "awk", "BEGIN {{print 2}}"},
                            dir.path());
  ASSERT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_EQ(json::parse(ok.out)["best"]["values"]["value"], 2);
}

TEST(E2eTrust, NumbersPrintedWithoutALeadingZeroAreRead) {
  TempDir dir;
  const std::string spec = WriteQuadSpec(dir);
  const Proc p = RunSysopt({"tune", spec, "--budget", "1", "--storage", dir.File("s.db"), "--json",
                            "--", "echo", ".138478036"},
                           dir.path());
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_DOUBLE_EQ(json::parse(p.out)["best"]["values"]["value"].get<double>(), 0.138478036);
}

}  // namespace
