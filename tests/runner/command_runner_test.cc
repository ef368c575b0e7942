#include "sysopt/runner/command_runner.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sysopt/runner/spec_runner.h"
#include "sysopt/runner/subprocess.h"

namespace sysopt {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// A fresh directory per test, removed afterwards.
class CommandRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sysopt_runner_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (pid_t pid : to_kill_) kill(pid, SIGKILL);
    std::filesystem::remove_all(dir_);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  /// A runner for `/bin/sh -c script sh args...`.
  std::unique_ptr<Runner> Shell(const std::string& script, std::vector<std::string> args = {},
                                std::vector<std::string> parameters = {"n"},
                                std::vector<std::string> objectives = {"time"},
                                CommandSettings settings = {}) {
    // The script is literal text: double its braces so they are not read as placeholders.
    std::string escaped;
    for (char c : script) {
      escaped += c;
      if (c == '{' || c == '}') escaped += c;
    }
    settings.command = {"/bin/sh", "-c", escaped, "sh"};
    for (auto& a : args) settings.command.push_back(std::move(a));
    auto runner =
        MakeCommandRunner(std::move(settings), std::move(parameters), std::move(objectives));
    EXPECT_TRUE(runner.ok()) << runner.error().message();
    return runner.ok() ? std::move(*runner) : nullptr;
  }

  static Config N(int64_t n) { return {Value(n)}; }

  pid_t ReadPid(const std::string& name) {
    std::ifstream in(Path(name));
    pid_t pid = 0;
    in >> pid;
    EXPECT_GT(pid, 0) << "no pid in " << name;
    if (pid > 0) to_kill_.push_back(pid);
    return pid;
  }

  std::string dir_;
  std::vector<pid_t> to_kill_;
};

/// True while the process exists and is not a zombie (a killed orphan may wait as a zombie for
/// its new parent to reap it; it no longer runs).
bool Running(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  const char state = line[paren + 2];
  return state != 'Z' && state != 'X';
}

/// Signal delivery is asynchronous: give a killed process a moment to disappear.
bool GoneWithin(pid_t pid, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (!Running(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !Running(pid);
}

// --- Settings and templates -------------------------------------------------------------------

TEST(CommandRunnerSettingsTest, RejectsInvalidSettings) {
  auto make = [](CommandSettings s, std::vector<std::string> objectives = {"t"}) {
    return MakeCommandRunner(std::move(s), {"n"}, std::move(objectives));
  };
  CommandSettings ok;
  ok.command = {"true"};
  EXPECT_TRUE(make(ok).ok());

  EXPECT_FALSE(make(CommandSettings{}).ok());
  CommandSettings s = ok;
  s.repeat = 0;
  EXPECT_THAT(make(s).error().message(), HasSubstr("repeat"));
  s = ok;
  s.timeout_s = -1;
  EXPECT_THAT(make(s).error().message(), HasSubstr("timeout"));
  EXPECT_THAT(make(ok, {}).error().message(), HasSubstr("objective"));
  s = ok;
  s.env = {{"A=B", "1"}};
  EXPECT_FALSE(make(s).ok());
  s.env = {{"SYSOPT_CONFIG", "{}"}};
  EXPECT_FALSE(make(s).ok());
}

TEST(CommandRunnerSettingsTest, UnknownPlaceholderNamesPlaceholderAndArgument) {
  CommandSettings s;
  s.command = {"prog", "--n={n}", "--m={foo}"};
  auto r = MakeCommandRunner(s, {"n", "k"}, {"time"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_THAT(r.error().message(), HasSubstr("'{foo}'"));
  EXPECT_THAT(r.error().message(), HasSubstr("'--m={foo}'"));
}

TEST(CommandRunnerSettingsTest, UnbalancedBracesAreErrors) {
  CommandSettings s;
  s.command = {"prog", "--n={n"};
  auto r = MakeCommandRunner(s, {"n"}, {"time"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), HasSubstr("'--n={n'"));
  s.command = {"prog", "a}b"};
  EXPECT_FALSE(MakeCommandRunner(s, {"n"}, {"time"}).ok());
  s.command = {"prog", "{}"};
  EXPECT_FALSE(MakeCommandRunner(s, {"n"}, {"time"}).ok());
}

TEST_F(CommandRunnerTest, DoubledBracesAreLiteral) {
  auto runner = Shell("printf '%s' \"$1\" >&2; echo 1", {"{{{n}}}-{{x}}"});
  RunResult r = runner->Run(N(5), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.stderr_tail, "{5}-{x}");
}

// --- Output parsing ---------------------------------------------------------------------------

TEST_F(CommandRunnerTest, SingleNumber) {
  auto runner = Shell("echo $(( $1 * 2 ))", {"{n}"});
  RunResult r = runner->Run(N(21), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(42.0));
  EXPECT_THAT(r.samples, ElementsAre(ElementsAre(42.0)));
  EXPECT_EQ(r.failure_reason, "");
  ASSERT_EQ(r.run_seconds.size(), 1u);
  EXPECT_GT(r.elapsed_s, 0.0);
}

TEST_F(CommandRunnerTest, JsonObjectWithTwoObjectivesInDeclaredOrder) {
  auto runner = Shell("printf '{\"energy\": %s, \"time\": 1.5, \"other\": \"x\"}\\n' \"$1\"",
                      {"{n}"}, {"n"}, {"time", "energy"});
  RunResult r = runner->Run(N(7), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(1.5, 7.0));
}

TEST_F(CommandRunnerTest, LastNonEmptyLineCounts) {
  auto runner = Shell("echo 'compiling...'; echo 99; echo '  3.25  '; echo; echo '   '; echo");
  RunResult r = runner->Run(N(0), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(3.25));
}

TEST_F(CommandRunnerTest, GarbageOutputFails) {
  RunResult r = Shell("echo 1; echo hello")->Run(N(0), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "unparseable output: 'hello'");
  EXPECT_TRUE(r.values.empty());
}

TEST_F(CommandRunnerTest, NanFails) {
  RunResult r = Shell("echo nan")->Run(N(0), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "objective 'time' is NaN");
}

TEST_F(CommandRunnerTest, MissingObjectiveFails) {
  RunResult r = Shell("echo '{\"time\": 1}'", {}, {"n"}, {"time", "energy"})->Run(N(0), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "objective 'energy' missing from output");
}

TEST(ParseObjectiveOutputTest, Rules) {
  const std::vector<std::string> one = {"t"};
  const std::vector<std::string> two = {"a", "b"};
  EXPECT_THAT(*ParseObjectiveOutput("x\n-2.5e3\r\n\n", one), ElementsAre(-2500.0));
  EXPECT_THAT(*ParseObjectiveOutput("{\"b\": 2, \"a\": 1}", two), ElementsAre(1.0, 2.0));
  EXPECT_THAT(*ParseObjectiveOutput("{\"t\": 4}", one), ElementsAre(4.0));
  EXPECT_EQ(ParseObjectiveOutput("inf", one).error().message(), "objective 't' is infinite");
  EXPECT_EQ(ParseObjectiveOutput("{\"a\": 1, \"b\": \"fast\"}", two).error().message(),
            "objective 'b' is not a number: '\"fast\"'");
  EXPECT_THAT(ParseObjectiveOutput("3", two).error().message(), HasSubstr("one number"));
  EXPECT_THAT(ParseObjectiveOutput("\n  \n", one).error().message(), StartsWith("no output"));
  EXPECT_EQ(ParseObjectiveOutput("{\"a\": NaN}", two).error().message(),
            "unparseable output: '{\"a\": NaN}'");
  EXPECT_EQ(ParseObjectiveOutput("3 4", one).error().message(), "unparseable output: '3 4'");
  // Long lines are shortened in the reason: 80 characters and an ellipsis.
  EXPECT_EQ(ParseObjectiveOutput(std::string(200, 'z'), one).error().message(),
            "unparseable output: '" + std::string(80, 'z') + "...'");
}

TEST(ParseObjectiveOutputTest, DeeplyNestedValueIsRefusedNotRecursedInto) {
  // 100,000 levels (200 KB) used to overflow the stack while quoting the value.
  const std::string line =
      "{\"time\": " + std::string(100'000, '[') + "1" + std::string(100'000, ']') + "}";
  auto r = ParseObjectiveOutput(line, {"time"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(),
              StartsWith("unparseable output: JSON nested deeper than 64 levels: '{\"time\": [[["));
  // A nested value within the limit is quoted, shortened, as not being a number.
  EXPECT_EQ(ParseObjectiveOutput("{\"time\": [[[1]]]}", {"time"}).error().message(),
            "objective 'time' is not a number: '[[[1]]]'");
}

TEST_F(CommandRunnerTest, ProgramPrintingDeeplyNestedJsonFailsItsTrial) {
  auto runner =
      Shell("python3 -c \"print('{\\\"time\\\": ' + '[' * 90000 + '1' + ']' * 90000 + '}')\"");
  RunResult r = runner->Run(N(0), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.failure_reason, StartsWith("unparseable output: JSON nested deeper than 64"));
}

// --- Failures of the program ------------------------------------------------------------------

TEST_F(CommandRunnerTest, NonZeroExitKeepsStderrTail) {
  RunResult r = Shell("echo 5; echo 'bad input file' >&2; exit 3")->Run(N(0), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "exit code 3");
  EXPECT_EQ(r.stderr_tail, "bad input file\n");
}

TEST_F(CommandRunnerTest, StderrTailKeepsTheLast2KB) {
  // 3000 'a' then 100 'b': the last 2048 bytes are 1948 'a' and 100 'b'.
  RunResult r =
      Shell(
          "head -c 3000 /dev/zero | tr '\\0' a >&2; head -c 100 /dev/zero | tr '\\0' b >&2; "
          "exit 1")
          ->Run(N(0), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.stderr_tail, std::string(1948, 'a') + std::string(100, 'b'));
}

TEST_F(CommandRunnerTest, CrashBySignal) {
  RunResult r = Shell("kill -SEGV $$")->Run(N(0), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "killed by signal SIGSEGV");
}

TEST_F(CommandRunnerTest, MissingProgram) {
  CommandSettings s;
  s.command = {"./does-not-exist"};
  s.working_dir = dir_;
  auto runner = MakeCommandRunner(s, {}, {"t"});
  ASSERT_TRUE(runner.ok());
  RunResult r = (*runner)->Run({}, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "cannot execute './does-not-exist': No such file or directory");
}

TEST_F(CommandRunnerTest, ProgramNotExecutable) {
  std::ofstream(Path("prog")) << "#!/bin/sh\necho 1\n";
  chmod(Path("prog").c_str(), 0644);
  CommandSettings s;
  s.command = {Path("prog")};
  RunResult r = (*MakeCommandRunner(s, {}, {"t"}))->Run({}, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "cannot execute '" + Path("prog") + "': Permission denied");
}

TEST_F(CommandRunnerTest, MissingWorkingDirectory) {
  CommandSettings s;
  s.command = {"true"};
  s.working_dir = Path("nope");
  RunResult r = (*MakeCommandRunner(s, {}, {"t"}))->Run({}, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason,
            "cannot change to working directory '" + Path("nope") + "': No such file or directory");
}

TEST_F(CommandRunnerTest, WrongConfigSizeFails) {
  RunResult r = Shell("echo 1")->Run({}, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.failure_reason, HasSubstr("0 values"));
}

// --- Time limits and process groups -----------------------------------------------------------

TEST_F(CommandRunnerTest, TimeoutKillsTheWholeProcessGroup) {
  CommandSettings s;
  s.timeout_s = 1;
  auto runner = Shell("sleep 30 & echo $! > '" + Path("pid") + "'; sleep 30", {}, {"n"}, {"t"}, s);
  const auto start = std::chrono::steady_clock::now();
  RunResult r = runner->Run(N(0), 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "timed out after 1 s");
  EXPECT_GE(seconds, 1.0);
  EXPECT_LT(seconds, 3.0);
  EXPECT_TRUE(GoneWithin(ReadPid("pid"), 2.0));
}

TEST_F(CommandRunnerTest, HugeTimeoutIsNoTimeout) {
  // 1e10 s in int64 nanoseconds used to wrap around to a deadline in the past.
  CommandSettings s;
  s.timeout_s = 1e10;
  RunResult r = Shell("sleep 0.2; echo 4", {}, {"n"}, {"t"}, s)->Run(N(0), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(4.0));
  s.timeout_s = 1e300;
  r = Shell("sleep 0.2; echo 5", {}, {"n"}, {"t"}, s)->Run(N(0), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
}

TEST_F(CommandRunnerTest, TimeoutEscalatesToSigkill) {
  CommandSettings s;
  s.timeout_s = 0.3;
  // The ignored SIGTERM is inherited by sleep; only SIGKILL after the grace ends them.
  auto runner = Shell("trap '' TERM; sleep 30 & echo $! > '" + Path("pid") + "'; sleep 30", {},
                      {"n"}, {"t"}, s);
  const auto start = std::chrono::steady_clock::now();
  RunResult r = runner->Run(N(0), 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "timed out after 0.3 s");
  EXPECT_LT(seconds, 3.0);
  EXPECT_TRUE(GoneWithin(ReadPid("pid"), 2.0));
}

TEST_F(CommandRunnerTest, BackgroundChildDoesNotOutliveTheRun) {
  // The background sleep keeps stdout open; the run must not wait for it, and it must die.
  auto runner = Shell("sleep 30 & echo $! > '" + Path("pid") + "'; echo 3");
  const auto start = std::chrono::steady_clock::now();
  RunResult r = runner->Run(N(0), 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(3.0));
  EXPECT_LT(seconds, 2.5);
  EXPECT_TRUE(GoneWithin(ReadPid("pid"), 2.0));
}

TEST_F(CommandRunnerTest, DescendantInAnotherSessionHoldingThePipeDoesNotHang) {
  // The sleep leaves the process group (so the group kill cannot reach it) and keeps stdout
  // open; the script waits until it has, then exits.
  const std::string pid_file = Path("pid");
  auto runner = Shell("setsid sh -c 'echo $$ > \"$0\"; exec sleep 30' '" + pid_file +
                      "' & while [ ! -s '" + pid_file + "' ]; do sleep 0.01; done; echo 4");
  const auto start = std::chrono::steady_clock::now();
  RunResult r = runner->Run(N(0), 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(4.0));
  EXPECT_LT(seconds, 2.5);
  EXPECT_TRUE(Running(ReadPid("pid")));  // it did escape; killed in TearDown
}

TEST_F(CommandRunnerTest, LargeOutputOnBothStreamsDoesNotDeadlock) {
  CommandSettings s;
  s.timeout_s = 30;  // a deadlock shows as a timeout instead of a hung test
  // stderr first: a runner that read stdout to the end before stderr would block here.
  auto runner = Shell(
      "head -c 1500000 /dev/zero | tr '\\0' e >&2; head -c 1500000 /dev/zero | tr '\\0' o; "
      "printf '\\n42\\n'",
      {}, {"n"}, {"t"}, s);
  RunResult r = runner->Run(N(0), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(42.0));
  EXPECT_EQ(r.stderr_tail, std::string(2048, 'e'));
}

// --- Arguments and environment ----------------------------------------------------------------

TEST_F(CommandRunnerTest, ValuesAreSingleArgumentsNeverCode) {
  const std::string marker = Path("pwned");
  const std::string value =
      "x; touch " + marker + " $(touch " + marker + "2) `touch " + marker + "3` 'q\" *";
  // Prints the argument to stderr and the argument count as the objective.
  auto runner = Shell("printf '%s' \"$1\" >&2; echo $#", {"{v}"}, {"v"});
  RunResult r = runner->Run({Value(value)}, 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(1.0));
  EXPECT_EQ(r.stderr_tail, value);
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_FALSE(std::filesystem::exists(marker + "2"));
  EXPECT_FALSE(std::filesystem::exists(marker + "3"));

  // Inside a larger argument too.
  runner = Shell("printf '%s' \"$1\" >&2; echo $#", {"--v={v}"}, {"v"});
  r = runner->Run({Value(value)}, 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(1.0));
  EXPECT_EQ(r.stderr_tail, "--v=" + value);
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_F(CommandRunnerTest, ValuesOfEveryKindInPlaceholders) {
  auto runner = Shell("printf '%s|%s|%s|%s' \"$1\" \"$2\" \"$3\" \"$4\" >&2; echo 0",
                      {"{n}", "{x}", "{s}", "{p}"}, {"n", "x", "s", "p"});
  RunResult r = runner->Run(
      {Value(int64_t{-3}), Value(0.25), Value(std::string("a b")), Value(Permutation{{2, 0, 1}})},
      0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.stderr_tail, "-3|0.25|a b|2,0,1");
}

TEST_F(CommandRunnerTest, ConfigAndTrialInEnvironment) {
  auto runner =
      Shell("printf '%s' \"$SYSOPT_CONFIG\" >&2; echo \"$SYSOPT_TRIAL\"", {}, {"n", "x", "s", "p"});
  const Config config = {Value(int64_t{3}), Value(0.25), Value(std::string("a \"b\"")),
                         Value(Permutation{{2, 0, 1}})};
  RunResult r = runner->Run(config, 17);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(17.0));
  const nlohmann::json expected = {{"n", 3}, {"x", 0.25}, {"s", "a \"b\""}, {"p", {2, 0, 1}}};
  EXPECT_EQ(nlohmann::json::parse(r.stderr_tail), expected);
}

TEST_F(CommandRunnerTest, SequencesAppearByNameGivenTheirAlphabet) {
  const Config config = {Value(int64_t{3}), Value(Sequence{{2, 0, 2}}), Value(Sequence{})};
  const std::string script = "printf '%s|%s|%s' \"$1\" \"$2\" \"$SYSOPT_CONFIG\" >&2; echo 0";
  CommandSettings named;
  named.alphabets = {{}, {"sroa", "gvn", "licm"}, {"a"}};
  auto runner =
      Shell(script, {"{passes}", "-passes={empty}"}, {"n", "passes", "empty"}, {"time"}, named);
  RunResult r = runner->Run(config, 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  const std::string tail = r.stderr_tail;
  EXPECT_EQ(tail.substr(0, tail.find('|', tail.find('|') + 1)), "licm,sroa,licm|-passes=");
  const nlohmann::json expected = {
      {"n", 3}, {"passes", {"licm", "sroa", "licm"}}, {"empty", nlohmann::json::array()}};
  EXPECT_EQ(nlohmann::json::parse(tail.substr(tail.rfind('|') + 1)), expected);
  // Without an alphabet: indices, and the JSON form of the value.
  runner = Shell(script, {"{passes}", "{empty}"}, {"n", "passes", "empty"});
  r = runner->Run(config, 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.stderr_tail.substr(0, 7), "2,0,2||");
  EXPECT_EQ(nlohmann::json::parse(r.stderr_tail.substr(7))["passes"],
            nlohmann::json({{"sequence", {2, 0, 2}}}));
}

TEST_F(CommandRunnerTest, SpecRunnerPassesSequencesByName) {
  auto spec = ParseSpec(
      {{"parameters",
        {{{"name", "passes"},
          {"type", "sequence"},
          {"alphabet", {"sroa", "gvn"}},
          {"max_length", 3}}}},
       {"run",
        {{"command",
          {"/bin/sh", "-c", "printf '%s' \"$1\" >&2; echo 1", "sh", "-passes={passes}"}}}}},
      "spec.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  auto runner = MakeSpecRunner(*spec);
  ASSERT_TRUE(runner.ok()) << runner.error().message();
  RunResult r = (*runner)->Run({Value(Sequence{{1, 1, 0}})}, 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.stderr_tail, "-passes=gvn,gvn,sroa");
}

TEST_F(CommandRunnerTest, OptionalPlaceholderLeavesTheArgumentOutWhenInactive) {
  CommandSettings settings;
  settings.conditional = {false, true};
  const std::string script =
      "printf '%s|' \"$#\" \"$@\" >&2; printf '%s' \"$SYSOPT_CONFIG\" >&2; echo 0";
  auto runner = Shell(script, {"--solver={solver}", "--restart={restart?}", "last"},
                      {"solver", "restart"}, {"time"}, settings);
  RunResult r = runner->Run({Value(std::string("gmres")), Value(int64_t{30})}, 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.stderr_tail,
            "3|--solver=gmres|--restart=30|last|{\"restart\":30,\"solver\":\"gmres\"}");
  r = runner->Run({Value(std::string("cg")), Value(Inactive{})}, 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  // The whole argument is gone, not left empty; the environment says null.
  EXPECT_EQ(r.stderr_tail, "2|--solver=cg|last|{\"restart\":null,\"solver\":\"cg\"}");
}

TEST(CommandRunnerSettingsTest, ConditionalParametersNeedTheOptionalPlaceholder) {
  CommandSettings settings;
  settings.command = {"./prog", "--restart={restart}"};
  settings.conditional = {false, true};
  auto runner = MakeCommandRunner(settings, {"solver", "restart"}, {"time"});
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_THAT(runner.error().message(), HasSubstr("command argument 1 '--restart={restart}'"));
  EXPECT_THAT(runner.error().message(), HasSubstr("parameter 'restart' is conditional"));
  EXPECT_THAT(runner.error().message(), HasSubstr("'{restart?}'"));
  // The optional form of an unconditional parameter is a mistake too.
  settings.command = {"./prog", "--solver={solver?}"};
  runner = MakeCommandRunner(settings, {"solver", "restart"}, {"time"});
  ASSERT_FALSE(runner.ok());
  EXPECT_THAT(runner.error().message(), HasSubstr("'solver' is not conditional"));
  // The program itself cannot be left out.
  settings.command = {"{restart?}"};
  runner = MakeCommandRunner(settings, {"solver", "restart"}, {"time"});
  ASSERT_FALSE(runner.ok());
  EXPECT_THAT(runner.error().message(), HasSubstr("the program cannot be left out"));
}

TEST_F(CommandRunnerTest, SpecRunnerKnowsWhichParametersAreConditional) {
  const nlohmann::json parameters = {
      {{"name", "use_2d"}, {"type", "categorical"}, {"values", {"no", "yes"}}},
      {{"name", "tile_y"},
       {"type", "integer"},
       {"low", 1},
       {"high", 8},
       {"active_if", "use_2d == 'yes'"}}};
  auto plain =
      ParseSpec({{"parameters", parameters}, {"run", {{"command", {"./prog", "-y", "{tile_y}"}}}}},
                "spec.json");
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  auto refused = MakeSpecRunner(*plain);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("'{tile_y?}'"));
  auto optional = ParseSpec(
      {{"parameters", parameters},
       {"run",
        {{"command",
          {"/bin/sh", "-c", "printf '%s' \"$*\" >&2; echo 1", "sh", "-y={tile_y?}", "{use_2d}"}}}}},
      "spec.json");
  ASSERT_TRUE(optional.ok()) << optional.error().message();
  auto runner = MakeSpecRunner(*optional);
  ASSERT_TRUE(runner.ok()) << runner.error().message();
  RunResult r = (*runner)->Run({Value(std::string("no")), Value(Inactive{})}, 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.stderr_tail, "no");
  r = (*runner)->Run({Value(std::string("yes")), Value(int64_t{4})}, 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.stderr_tail, "-y=4 yes");
}

TEST_F(CommandRunnerTest, NoTrialVariableForNegativeTrial) {
  setenv("SYSOPT_TRIAL", "99", 1);  // the tuner's own value must not leak through
  auto runner = Shell("if [ -z \"${SYSOPT_TRIAL+x}\" ]; then echo 0; else echo 1; fi");
  unsetenv("SYSOPT_TRIAL");
  RunResult r = runner->Run(N(0), -1);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(0.0));
}

TEST_F(CommandRunnerTest, WorkingDirectoryAndExtraEnvironment) {
  CommandSettings s;
  s.working_dir = dir_;
  s.env = {{"FOO", "5"}, {"HOME", "/nowhere"}};
  auto runner = Shell("pwd -P >&2; echo \"$HOME\" >&2; echo \"$FOO\"", {}, {"n"}, {"t"}, s);
  RunResult r = runner->Run(N(0), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(5.0));
  EXPECT_EQ(r.stderr_tail, std::filesystem::canonical(dir_).string() + "\n/nowhere\n");
}

// --- Repeats ----------------------------------------------------------------------------------

// Each run increments a counter file in the working directory and prints the counter squared:
// runs 1, 2, 3, 4 print 1, 4, 9, 16.
const char kCounterScript[] =
    "n=$(cat counter 2>/dev/null || echo 0); n=$((n+1)); echo $n > counter; echo $((n*n))";

TEST_F(CommandRunnerTest, RepeatMedianOfOddCount) {
  CommandSettings s;
  s.working_dir = dir_;
  s.repeat = 3;
  RunResult r = Shell(kCounterScript, {}, {"n"}, {"t"}, s)->Run(N(0), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.samples, ElementsAre(ElementsAre(1.0), ElementsAre(4.0), ElementsAre(9.0)));
  EXPECT_THAT(r.values, ElementsAre(4.0));
  ASSERT_EQ(r.run_seconds.size(), 3u);
  EXPECT_NEAR(r.elapsed_s, r.run_seconds[0] + r.run_seconds[1] + r.run_seconds[2], 1e-9);
}

TEST_F(CommandRunnerTest, RepeatMedianOfEvenCountMeanAndMin) {
  CommandSettings s;
  s.working_dir = dir_;
  s.repeat = 4;
  // 1, 4, 9, 16: median (4 + 9) / 2 = 6.5.
  s.aggregate = Aggregate::kMedian;
  EXPECT_THAT(Shell(kCounterScript, {}, {"n"}, {"t"}, s)->Run(N(0), 0).values, ElementsAre(6.5));
  // 25, 36, 49, 64: mean 174 / 4 = 43.5.
  s.aggregate = Aggregate::kMean;
  EXPECT_THAT(Shell(kCounterScript, {}, {"n"}, {"t"}, s)->Run(N(0), 0).values, ElementsAre(43.5));
  // 81, 100, 121, 144: min 81.
  s.aggregate = Aggregate::kMin;
  EXPECT_THAT(Shell(kCounterScript, {}, {"n"}, {"t"}, s)->Run(N(0), 0).values, ElementsAre(81.0));
}

TEST_F(CommandRunnerTest, RepeatAggregatesEachObjective) {
  CommandSettings s;
  s.working_dir = dir_;
  s.repeat = 3;
  s.aggregate = Aggregate::kMean;
  // a: 1, 2, 3 (mean 2); b: 1, 4, 9 (mean 14 / 3).
  RunResult r = Shell(
                    "n=$(cat counter 2>/dev/null || echo 0); n=$((n+1)); echo $n > counter; "
                    "echo \"{\\\"b\\\": $((n*n)), \\\"a\\\": $n}\"",
                    {}, {"n"}, {"a", "b"}, s)
                    ->Run(N(0), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  ASSERT_EQ(r.values.size(), 2u);
  EXPECT_DOUBLE_EQ(r.values[0], 2.0);
  EXPECT_DOUBLE_EQ(r.values[1], 14.0 / 3.0);
  EXPECT_THAT(r.samples[2], ElementsAre(3.0, 9.0));
}

TEST_F(CommandRunnerTest, FailedRepeatFailsTheResultAndKeepsEarlierSamples) {
  CommandSettings s;
  s.working_dir = dir_;
  s.repeat = 4;
  RunResult r = Shell(
                    "n=$(cat counter 2>/dev/null || echo 0); n=$((n+1)); echo $n > counter; "
                    "[ $n -eq 3 ] && { echo third >&2; exit 1; }; echo $((n*n))",
                    {}, {"n"}, {"t"}, s)
                    ->Run(N(0), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "repeat 3 of 4: exit code 1");
  EXPECT_EQ(r.stderr_tail, "third\n");
  EXPECT_THAT(r.samples, ElementsAre(ElementsAre(1.0), ElementsAre(4.0)));
  EXPECT_EQ(r.run_seconds.size(), 3u);
  EXPECT_TRUE(r.values.empty());
}

// --- Concurrency ------------------------------------------------------------------------------

TEST_F(CommandRunnerTest, ConcurrentRunsGetTheirOwnResults) {
  // Each run checks its argument against SYSOPT_CONFIG and prints 2n + 1, after a short nap so
  // that runs overlap.
  auto runner = Shell(
      "sleep 0.02; [ \"$SYSOPT_CONFIG\" = \"{\\\"n\\\":$1}\" ] || exit 9; echo $(( 2 * $1 + 1 ))",
      {"{n}"});
  constexpr int kThreads = 4;
  constexpr int kRunsPerThread = 8;
  std::vector<std::vector<RunResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRunsPerThread; ++i) {
        results[t].push_back(runner->Run(N(t * 100 + i), t * 100 + i));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), static_cast<size_t>(kRunsPerThread));
    for (int i = 0; i < kRunsPerThread; ++i) {
      const RunResult& r = results[t][i];
      ASSERT_TRUE(r.ok) << r.failure_reason;
      EXPECT_THAT(r.values, ElementsAre(2.0 * (t * 100 + i) + 1));
    }
  }
}

TEST_F(CommandRunnerTest, ConcurrentRunsDoNotKeepEachOthersPipesOpen) {
  // A slow run in one thread must not delay a fast run in another: if the slow child inherited
  // the fast run's pipe, the fast run would wait for it.
  CommandSettings s;
  s.timeout_s = 3;
  auto slow = Shell("sleep 1.5; echo 1", {}, {"n"}, {"t"}, s);
  auto fast = Shell("echo 2", {}, {"n"}, {"t"}, s);
  std::vector<double> fast_seconds;
  std::thread slow_thread([&] { EXPECT_TRUE(slow->Run(N(0), 0).ok); });
  for (int i = 0; i < 20; ++i) {
    RunResult r = fast->Run(N(0), 0);
    EXPECT_TRUE(r.ok) << r.failure_reason;
    fast_seconds.push_back(r.elapsed_s);
  }
  slow_thread.join();
  for (double seconds : fast_seconds) EXPECT_LT(seconds, 1.0);
}

}  // namespace
}  // namespace sysopt

namespace sysopt {
namespace {

// --- Numbers as bc prints them ----------------------------------------------------------------

TEST(ParseObjectiveOutputTest, NumbersWithoutALeadingZero) {
  const std::vector<std::string> one = {"t"};
  EXPECT_THAT(*ParseObjectiveOutput(".138478036\n", one), ElementsAre(0.138478036));
  EXPECT_THAT(*ParseObjectiveOutput("-.5", one), ElementsAre(-0.5));
  EXPECT_THAT(*ParseObjectiveOutput("+.25", one), ElementsAre(0.25));
  EXPECT_EQ(ParseObjectiveOutput(".", one).error().message(), "unparseable output: '.'");
  EXPECT_EQ(ParseObjectiveOutput(".x", one).error().message(), "unparseable output: '.x'");
}

TEST(CommandRunnerSettingsTest, UnknownPlaceholderErrorExplainsLiteralBraces) {
  CommandSettings s;
  s.command = {"awk", "BEGIN {print 2}"};
  auto runner = MakeCommandRunner(s, {"n"}, {"t"});
  ASSERT_FALSE(runner.ok());
  EXPECT_THAT(runner.error().message(), HasSubstr("'{print 2}' names no parameter"));
  EXPECT_THAT(runner.error().message(), HasSubstr("'{{' and '}}' for literal braces"));
}

// --- Stopping, default time limits, timing by the runner -------------------------------------

TEST_F(CommandRunnerTest, CancellationPassesTheSignalOnAndMarksTheRunInterrupted) {
  Cancellation cancel;
  CommandSettings s;
  s.cancel = &cancel;
  s.repeat = 3;
  // The program records the signal it got; the background child must go with the group.
  auto runner = Shell("trap 'echo INT > \"" + Path("got") +
                          "\"; exit 1' INT; sleep 30 & echo $! > '" + Path("pid") + "'; wait",
                      {}, {"n"}, {"t"}, s);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel.Request(SIGINT);
  });
  const auto start = std::chrono::steady_clock::now();
  RunResult r = runner->Run(N(0), 0);
  stopper.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.failure_reason, "interrupted");
  EXPECT_EQ(r.run_seconds.size(), 1u) << "no further repeat starts after a stop";
  EXPECT_LT(seconds, 3.0);
  std::ifstream got(Path("got"));
  std::string text;
  got >> text;
  EXPECT_EQ(text, "INT");
  // The background sleep ignores SIGINT (as a shell's background jobs do) and is killed.
  EXPECT_TRUE(GoneWithin(ReadPid("pid"), 2.0));
  // Once requested, nothing more starts.
  RunResult after = runner->Run(N(0), 1);
  EXPECT_TRUE(after.interrupted);
  EXPECT_TRUE(after.run_seconds.size() <= 1u);
}

TEST_F(CommandRunnerTest, ASecondRequestShortensTheGrace) {
  Cancellation cancel;
  CommandSettings s;
  s.cancel = &cancel;
  auto runner = Shell("trap '' INT TERM; sleep 30", {}, {"n"}, {"t"}, s);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel.Request(SIGINT);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(cancel.Request(SIGINT), 2);
  });
  const auto start = std::chrono::steady_clock::now();
  RunResult r = runner->Run(N(0), 0);
  stopper.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(r.interrupted);
  EXPECT_LT(seconds, Cancellation::kGraceS - 1) << "the second request did not hurry the kill";
  EXPECT_EQ(cancel.signal_number(), SIGINT);
}

TEST_F(CommandRunnerTest, DefaultTimeoutAppliesAfterThreeSuccessfulRuns) {
  auto limit = std::make_shared<DefaultTimeout>();
  CommandSettings s;
  s.default_timeout = limit;
  // Runs 0-2 are quick; the next one would hang without a limit.
  auto runner = Shell("if [ \"$1\" -ge 3 ]; then sleep 30; fi; echo 1", {"{n}"}, {"n"}, {"t"}, s);
  for (int n = 0; n < 3; ++n) {
    EXPECT_FALSE(limit->Current().has_value()) << "run " << n;
    EXPECT_TRUE(runner->Run(N(n), n).ok);
  }
  ASSERT_TRUE(limit->Current().has_value());
  EXPECT_EQ(*limit->Current(), DefaultTimeout::kFloorS);  // 10 x a few ms is below the floor
  const auto start = std::chrono::steady_clock::now();
  RunResult r = runner->Run(N(3), 3);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.failure_reason, StartsWith("timed out after 5 s (the default limit, 10 x the "
                                           "median run of"));
  EXPECT_THAT(r.failure_reason, HasSubstr("set run.timeout_s or --timeout"));
  EXPECT_GE(seconds, DefaultTimeout::kFloorS);
  EXPECT_LT(seconds, DefaultTimeout::kFloorS + 3);
}

TEST(DefaultTimeoutTest, TenTimesTheMedianAboveTheFloor) {
  DefaultTimeout limit;
  limit.Observe(2);
  limit.Observe(100);
  EXPECT_FALSE(limit.Current().has_value());
  limit.Observe(1);
  EXPECT_DOUBLE_EQ(*limit.Current(), 20);  // median 2
  limit.Observe(3);
  EXPECT_DOUBLE_EQ(*limit.Current(), 25);  // median (2 + 3) / 2
}

TEST_F(CommandRunnerTest, WallTimeIsMeasuredByTheRunnerWithWarmupAndCheck) {
  CommandSettings s;
  s.measure = Measure::kWallTime;
  s.repeat = 2;
  s.warmup = 1;
  s.check = {"/bin/sh", "-c", "grep -q ok out.txt", "check"};
  s.working_dir = dir_;
  auto runner = Shell("echo run >> runs.log; sleep 0.2; echo ok > out.txt; echo not-a-number", {},
                      {"n"}, {"time"}, s);
  RunResult r = runner->Run(N(0), 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  ASSERT_EQ(r.samples.size(), 2u);  // the warm-up is not a sample
  for (const auto& sample : r.samples) {
    EXPECT_GE(sample[0], 0.2);
    EXPECT_LT(sample[0], 1.0);
  }
  std::ifstream log(Path("runs.log"));
  int runs = 0;
  for (std::string line; std::getline(log, line);) ++runs;
  EXPECT_EQ(runs, 3);

  // A program whose output the check rejects fails the trial.
  auto wrong = Shell("echo wrong > out.txt", {}, {"n"}, {"time"}, s);
  RunResult bad = wrong->Run(N(0), 1);
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.failure_reason, "check failed: exit code 1");
  // A failing program fails before the check: its exit code says it went wrong.
  auto crash = Shell("exit 4", {}, {"n"}, {"time"}, s);
  EXPECT_EQ(crash->Run(N(0), 2).failure_reason, "warm-up run 1 of 1: exit code 4");
}

TEST_F(CommandRunnerTest, AMissingProgramIsFatalUnlessAPlaceholderChoosesIt) {
  CommandSettings s;
  s.command = {"no-such-program-here", "{n}"};
  RunResult r = (*MakeCommandRunner(s, {"n"}, {"t"}))->Run(N(0), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.fatal);
  s.command = {"{n}"};
  RunResult chosen = (*MakeCommandRunner(s, {"n"}, {"t"}))->Run(N(0), 0);
  EXPECT_FALSE(chosen.ok);
  EXPECT_FALSE(chosen.fatal);
  // A failing run of an existing program is not fatal.
  EXPECT_FALSE(Shell("exit 1")->Run(N(0), 0).fatal);
}

}  // namespace
}  // namespace sysopt

namespace sysopt {
namespace {

// CPU time counts what the program computed, not the time it waited.
TEST(SubprocessCpuTimeTest, CountsComputingNotWaiting) {
  SubprocessOptions sleeper;
  sleeper.argv = {"sleep", "0.3"};
  sleeper.env = CurrentEnvironment();
  const SubprocessOutcome slept = RunSubprocess(sleeper);
  ASSERT_EQ(slept.exit_code, 0);
  EXPECT_GE(slept.exit_seconds, 0.29);
  EXPECT_LT(slept.cpu_seconds, 0.1);
  SubprocessOptions busy;
  busy.argv = {"sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"};
  busy.env = CurrentEnvironment();
  const SubprocessOutcome worked = RunSubprocess(busy);
  ASSERT_EQ(worked.exit_code, 0);
  EXPECT_GT(worked.cpu_seconds, 0.02);
  EXPECT_LE(worked.cpu_seconds, worked.exit_seconds + 0.01);
}

}  // namespace
}  // namespace sysopt
