#include "sysopt/tuner/tuner.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "sysopt/runner/function_runner.h"

namespace sysopt {
namespace {

using nlohmann::json;

json SpaceJson(bool with_default) {
  json j = {{"name", "demo"},
            {"parameters",
             {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 30}},
              {{"name", "y"}, {"type", "ordinal"}, {"values", {1, 2, 4, 8}}}}},
            {"constraints", {"x * y <= 120"}},
            {"objectives", {{{"name", "value"}}}}};
  if (with_default) j["parameters"][0]["default"] = 17;
  return j;
}

Spec MakeSpec(const json& j) {
  auto spec = ParseSpec(j, "spec.json");
  EXPECT_TRUE(spec.ok()) << spec.error().message();
  return *spec;
}

double F(const Config& c) {
  const double x = AsDouble(c[0]), y = AsDouble(c[1]);
  return (x - 11) * (x - 11) + 3 * y;
}

std::unique_ptr<Runner> Quadratic() {
  return MakeFunctionRunner([](const Config& c) -> Expected<std::vector<double>> {
    return std::vector<double>{F(c)};
  });
}

struct Fixture {
  std::unique_ptr<Storage> storage = MakeMemoryStorage();
  std::unique_ptr<Study> study;
  std::unique_ptr<Sampler> sampler;
  explicit Fixture(const json& spec, const std::string& sampler_name = "random",
                   uint64_t seed = 1) {
    auto s = Study::Open(*storage, "study", MakeSpec(spec), {}, nullptr);
    EXPECT_TRUE(s.ok());
    study = std::move(*s);
    auto m = MakeSampler(sampler_name, SamplerOptions{seed, 50});
    EXPECT_TRUE(m.ok());
    sampler = std::move(*m);
  }
};

TuneOptions Budget(int budget, int workers = 1) {
  TuneOptions options;
  options.budget = budget;
  options.workers = workers;
  return options;
}

std::set<std::string> DistinctConfigs(const std::vector<TrialRecord>& trials) {
  std::set<std::string> out;
  for (const auto& t : trials) {
    std::string key;
    for (const auto& v : t.config) key += ValueToString(v) + ",";
    out.insert(key);
  }
  return out;
}

TEST(TunerTest, ReachesExactlyTheBudget) {
  Fixture f(SpaceJson(false));
  auto runner = Quadratic();
  int progress_calls = 0;
  int last_used = 0;
  TuneOptions options = Budget(12);
  options.on_trial = [&](const TuneProgress& p) {
    ++progress_calls;
    EXPECT_EQ(p.budget, 12);
    EXPECT_EQ(p.budget_used, last_used + 1);
    last_used = p.budget_used;
    ASSERT_TRUE(p.best.has_value());
    EXPECT_LE(p.best->values[0], p.trial.values[0]);
  };
  auto report = Tune(*f.study, *f.sampler, *runner, options, {});
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->started, 12);
  EXPECT_EQ(report->failed, 0);
  EXPECT_FALSE(report->exhausted);
  EXPECT_FALSE(report->stopped);
  EXPECT_EQ(progress_calls, 12);
  const auto trials = f.study->Finished();
  ASSERT_EQ(trials.size(), 12u);
  EXPECT_EQ(f.study->BudgetUsed(), 12);
  EXPECT_EQ(DistinctConfigs(trials).size(), 12u);
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].number, static_cast<int64_t>(i));
    EXPECT_EQ(trials[i].state, TrialState::kComplete);
    EXPECT_TRUE(f.study->space().Check(trials[i].config).ok());
    ASSERT_EQ(trials[i].values.size(), 1u);
    EXPECT_DOUBLE_EQ(trials[i].values[0], F(trials[i].config));  // the runner's value, recorded
  }
  // Everything is durable in the storage too.
  auto stored = f.storage->GetTrials(f.study->record().id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 12u);
}

TEST(TunerTest, FourWorkersReachExactlyTheBudget) {
  for (const char* name : {"random", "lhs", "evolution", "exhaustive"}) {
    Fixture f(SpaceJson(false), name, 3);
    std::atomic<int> concurrent{0}, most{0};
    auto runner = MakeFunctionRunner([&](const Config& c) -> Expected<std::vector<double>> {
      const int now = ++concurrent;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      usleep(2000);
      --concurrent;
      return std::vector<double>{F(c)};
    });
    auto report = Tune(*f.study, *f.sampler, *runner, Budget(30, 4), {});
    ASSERT_TRUE(report.ok()) << name << ": " << report.error().message();
    EXPECT_EQ(report->started, 30) << name;
    EXPECT_EQ(f.study->Finished().size(), 30u) << name;
    EXPECT_EQ(f.study->BudgetUsed(), 30) << name;
    EXPECT_TRUE(f.study->Pending().empty());
    EXPECT_EQ(DistinctConfigs(f.study->Finished()).size(), 30u) << name;
    EXPECT_GT(most.load(), 1) << name << ": the workers never overlapped";
    EXPECT_LE(most.load(), 4) << name;
  }
}

TEST(TunerTest, ResumingAddsExactlyTheDifference) {
  Fixture f(SpaceJson(false));
  auto runner = Quadratic();
  auto first = Tune(*f.study, *f.sampler, *runner, Budget(10), {});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->started, 10);
  auto second = Tune(*f.study, *f.sampler, *runner, Budget(15, 3), {});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->started, 5);
  EXPECT_EQ(f.study->BudgetUsed(), 15);
  // A new process opening the same study.
  auto reopened = Study::Open(*f.storage, "study", MakeSpec(SpaceJson(false)), {}, nullptr);
  ASSERT_TRUE(reopened.ok());
  auto third = Tune(**reopened, *f.sampler, *runner, Budget(22), {});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->started, 7);
  EXPECT_EQ((*reopened)->BudgetUsed(), 22);
  EXPECT_EQ(DistinctConfigs((*reopened)->Finished()).size(), 22u);
  // A budget already reached starts nothing.
  auto fourth = Tune(**reopened, *f.sampler, *runner, Budget(20), {});
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fourth->started, 0);
}

TEST(TunerTest, FailuresAreRecordedWithTheirReason) {
  Fixture f(SpaceJson(false));
  auto runner = MakeFunctionRunner([](const Config& c) -> Expected<std::vector<double>> {
    const int64_t x = std::get<int64_t>(c[0]);
    if (x % 2 == 1) return InvalidInput("odd x = {} is not supported", x);
    if (x == 4) return std::vector<double>{std::nan("")};
    return std::vector<double>{F(c)};
  });
  auto report = Tune(*f.study, *f.sampler, *runner, Budget(25), {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->started, 25);
  int failed = 0;
  for (const auto& t : f.study->Finished()) {
    const int64_t x = std::get<int64_t>(t.config[0]);
    if (x % 2 == 1) {
      ++failed;
      EXPECT_EQ(t.state, TrialState::kFailed);
      EXPECT_EQ(t.failure_reason, "odd x = " + std::to_string(x) + " is not supported");
      EXPECT_TRUE(t.values.empty());
    } else if (x == 4) {
      ++failed;
      EXPECT_EQ(t.state, TrialState::kFailed);
      EXPECT_EQ(t.failure_reason, "objective 1 is NaN");
    } else {
      EXPECT_EQ(t.state, TrialState::kComplete);
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_EQ(report->failed, failed);
  // Failed trials count towards the budget: they were measured.
  EXPECT_EQ(f.study->BudgetUsed(), 25);
  ASSERT_TRUE(f.study->Best().has_value());
  EXPECT_EQ(f.study->Best()->state, TrialState::kComplete);
}

TEST(TunerTest, TheDefaultConfigurationIsTrialZero) {
  Fixture f(SpaceJson(true));
  auto runner = Quadratic();
  auto report = Tune(*f.study, *f.sampler, *runner, Budget(6), {});
  ASSERT_TRUE(report.ok());
  const auto trials = f.study->Finished();
  ASSERT_EQ(trials.size(), 6u);
  const Config def = {Value(int64_t{17}), Value(int64_t{1})};
  EXPECT_EQ(trials[0].config, def);
  EXPECT_EQ(f.study->FirstComplete()->config, def);
  // Resumed, the default is not run again.
  ASSERT_TRUE(Tune(*f.study, *f.sampler, *runner, Budget(12), {}).ok());
  int defaults = 0;
  for (const auto& t : f.study->Finished()) defaults += t.config == def;
  EXPECT_EQ(defaults, 1);
  // Without a declared default, trial 0 is whatever the sampler proposes first.
  Fixture g(SpaceJson(false));
  ASSERT_TRUE(Tune(*g.study, *g.sampler, *runner, Budget(1), {}).ok());
  auto sampler = MakeSampler("random", SamplerOptions{1, 50});
  const std::vector<TrialRecord> none;
  const std::vector<Config> pending;
  auto first = (*sampler)->Ask(
      SamplerContext{g.study->space(), g.study->spec().objectives, none, pending}, 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(g.study->Finished()[0].config, first->front());
}

TEST(TunerTest, InterruptedTrialsAreRerunFirstAndDoNotUseTheBudget) {
  auto storage = MakeMemoryStorage();
  auto first = Study::Open(*storage, "study", MakeSpec(SpaceJson(false)), {}, nullptr);
  ASSERT_TRUE(first.ok());
  const int64_t id = (*first)->record().id;
  const std::string worker = WorkerName(0);
  const std::string host = worker.substr(0, worker.find(':'));
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  const Config lost_a = {Value(int64_t{3}), Value(int64_t{8})};
  const Config lost_b = {Value(int64_t{29}), Value(int64_t{4})};
  ASSERT_TRUE(storage->CreateTrial(id, lost_a, host + ":" + std::to_string(child) + ":0", 1).ok());
  ASSERT_TRUE(storage->CreateTrial(id, lost_b, host + ":" + std::to_string(child) + ":1", 1).ok());

  ResumeInfo info;
  auto study = Study::Open(*storage, "study", MakeSpec(SpaceJson(false)), {}, &info);
  ASSERT_TRUE(study.ok());
  ASSERT_EQ(info.interrupted, 2);
  EXPECT_EQ((*study)->BudgetUsed(), 0);
  auto sampler = MakeSampler("random", SamplerOptions{2, 5});
  auto runner = Quadratic();
  auto report = Tune(**study, **sampler, *runner, Budget(5), info.to_rerun);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->started, 5);
  const auto trials = (*study)->Finished();
  ASSERT_EQ(trials.size(), 7u);  // two interrupted, five counted
  EXPECT_EQ((*study)->BudgetUsed(), 5);
  EXPECT_EQ(trials[0].failure_reason, "interrupted");
  EXPECT_EQ(trials[1].failure_reason, "interrupted");
  EXPECT_EQ(trials[2].config, lost_a);
  EXPECT_EQ(trials[2].state, TrialState::kComplete);
  EXPECT_EQ(trials[3].config, lost_b);
}

TEST(TunerTest, ASmallSpaceIsExhausted) {
  json j = SpaceJson(false);
  j["parameters"][0]["high"] = 2;  // 3 x 4 = 12 configurations, all feasible
  for (const char* name : {"random", "exhaustive", "lhs", "evolution"}) {
    Fixture f(j, name);
    auto runner = Quadratic();
    auto report = Tune(*f.study, *f.sampler, *runner, Budget(20, 2), {});
    ASSERT_TRUE(report.ok()) << name;
    EXPECT_TRUE(report->exhausted) << name;
    EXPECT_EQ(report->started, 12) << name;
    EXPECT_EQ(DistinctConfigs(f.study->Finished()).size(), 12u) << name;
  }
}

TEST(TunerTest, StopsOnRequestAndReportsSamplerErrors) {
  Fixture f(SpaceJson(false));
  auto runner = Quadratic();
  std::atomic<bool> stop{false};
  TuneOptions options = Budget(10);
  options.stop = &stop;
  options.on_trial = [&](const TuneProgress& p) {
    if (p.budget_used == 3) stop = true;
  };
  auto report = Tune(*f.study, *f.sampler, *runner, options, {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->stopped);
  EXPECT_EQ(report->started, 3);

  json empty = SpaceJson(false);
  empty["constraints"] = {"x > 100"};
  Fixture g(empty);
  auto failed = Tune(*g.study, *g.sampler, *runner, Budget(5), {});
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(g.study->Finished().empty());
}

}  // namespace
}  // namespace sysopt

#include <chrono>
#include <thread>

#include "sysopt/runner/command_runner.h"

namespace sysopt {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(TunerTest, TheTimeLimitStopsStartingTrials) {
  Fixture f(SpaceJson(false));
  auto slow = MakeFunctionRunner([](const Config& c) -> Expected<std::vector<double>> {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    return std::vector<double>{F(c)};
  });
  TuneOptions options = Budget(100);
  options.time_limit_s = 0.5;
  const auto t0 = std::chrono::steady_clock::now();
  auto report = Tune(*f.study, *f.sampler, *slow, options, {});
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_TRUE(report->time_limit_reached);
  EXPECT_GE(report->started, 3);
  EXPECT_LE(report->started, 5);
  EXPECT_LT(SecondsSince(t0), 1.0);
}

TEST(TunerTest, TheTimeLimitInterruptsTrialsInFlight) {
  Fixture f(SpaceJson(false));
  Cancellation cancel;
  CommandSettings settings;
  settings.command = {"sleep", "30"};
  settings.cancel = &cancel;
  auto runner = MakeCommandRunner(settings, {"x", "y"}, {"value"});
  ASSERT_TRUE(runner.ok());
  TuneOptions options = Budget(10, 2);
  options.time_limit_s = 0.3;
  options.cancel = &cancel;
  const auto t0 = std::chrono::steady_clock::now();
  auto report = Tune(*f.study, *f.sampler, **runner, options, {});
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_LT(SecondsSince(t0), 3.0);
  EXPECT_TRUE(report->time_limit_reached);
  EXPECT_EQ(report->started, 2);
  EXPECT_EQ(report->interrupted, 2);
  EXPECT_EQ(report->failed, 0);
  EXPECT_EQ(f.study->BudgetUsed(), 0);  // interrupted trials do not use the budget
  for (const auto& t : f.study->Finished()) EXPECT_EQ(t.failure_reason, "interrupted");

  // Reopening the study queues them to run again.
  ResumeInfo info;
  auto reopened = Study::Open(*f.storage, "study", f.study->spec(), {}, &info);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(info.stopped, 2);
  EXPECT_EQ(info.to_rerun.size(), 2u);
}

TEST(TunerTest, ReMeasurementsAreMarkedWithTheTrialTheyRepeat) {
  Fixture f(SpaceJson(false));
  const Config c = {Value(int64_t{3}), Value(int64_t{2})};
  std::vector<std::optional<int64_t>> seen;
  TuneOptions options = Budget(3);
  options.on_trial = [&](const TuneProgress& p) { seen.push_back(p.remeasure_of); };
  auto report = Tune(*f.study, *f.sampler, *Quadratic(), options, {c, c});
  ASSERT_TRUE(report.ok());
  const auto trials = f.study->Finished();
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_FALSE(trials[0].attrs.contains("remeasure_of"));
  EXPECT_EQ(trials[1].attrs.value("remeasure_of", -1), 0);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_FALSE(seen[0].has_value());
  EXPECT_EQ(seen[1], std::optional<int64_t>(0));
  EXPECT_EQ(f.study->BudgetUsed(), 3);  // a re-measurement counts towards the budget
}

TEST(TunerTest, AProgramThatCannotRunStopsTheStudyAfterOneTrial) {
  Fixture f(SpaceJson(false));
  CommandSettings settings;
  settings.command = {"no-such-program-anywhere", "{x}"};
  auto runner = MakeCommandRunner(settings, {"x", "y"}, {"value"});
  ASSERT_TRUE(runner.ok());
  auto report = Tune(*f.study, *f.sampler, **runner, Budget(20), {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(report.error().message().find("cannot execute 'no-such-program-anywhere'"),
            std::string::npos)
      << report.error().message();
  EXPECT_EQ(f.study->Finished().size(), 1u);
}

TEST(AskTellTest, ProposesTheDefaultAndReruns) {
  Fixture f(SpaceJson(true));
  const Config rerun = {Value(int64_t{3}), Value(int64_t{4})};
  AskTell asker(*f.study, *f.sampler, {rerun});
  auto first = asker.Ask(1, WorkerName(0));
  ASSERT_TRUE(first.ok()) << first.error().message();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].config, f.study->space().Default());
  EXPECT_EQ((*first)[0].number, 0);
  auto batch = asker.Ask(4, WorkerName(0));
  ASSERT_TRUE(batch.ok()) << batch.error().message();
  ASSERT_EQ(batch->size(), 4u);
  EXPECT_EQ((*batch)[0].config, rerun);
  // Every trial asked is RUNNING in the storage at once, and all five differ.
  EXPECT_EQ(f.study->Pending().size(), 5u);
  std::set<std::string> distinct;
  for (const auto& t : *batch) {
    std::string key;
    for (const auto& v : t.config) key += ValueToString(v) + ",";
    distinct.insert(key);
    EXPECT_TRUE(f.study->space().IsFeasible(t.config));
  }
  EXPECT_EQ(distinct.size(), 4u);
  auto told = asker.Tell((*first)[0], OutcomeFromValues(*f.study, {F((*first)[0].config)}));
  ASSERT_TRUE(told.ok()) << told.error().message();
  EXPECT_EQ(told->state, TrialState::kComplete);
  EXPECT_DOUBLE_EQ(told->values.at(0), F((*first)[0].config));
  auto again = asker.Tell((*first)[0], OutcomeFromValues(*f.study, {1.0}));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("already finished"), std::string::npos)
      << again.error().message();
  EXPECT_EQ(asker.Ask(0, WorkerName(0)).ok(), false);
}

TEST(AskTellTest, QueuedConfigurationsGoToTuneOnce) {
  Fixture f(SpaceJson(true));
  const Config rerun = {Value(int64_t{3}), Value(int64_t{4})};
  AskTell asker(*f.study, *f.sampler, {rerun});
  auto first = asker.Ask(1, WorkerName(0));  // the default, now in flight
  ASSERT_TRUE(first.ok());
  std::vector<Config> queued = asker.TakeQueued();
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0], rerun);
  EXPECT_TRUE(asker.TakeQueued().empty());
  // The default in flight is not queued a second time.
  const auto queue = FirstConfigs(*f.study, queued);
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.front(), rerun);
}

TEST(AskTellTest, OutcomesFromValuesCheckCountAndFiniteness) {
  Fixture f(SpaceJson(false));
  EXPECT_EQ(OutcomeFromValues(*f.study, {2.5}).state, TrialState::kComplete);
  const TrialOutcome nan = OutcomeFromValues(*f.study, {std::nan("")});
  EXPECT_EQ(nan.state, TrialState::kFailed);
  EXPECT_EQ(nan.failure_reason, "objective 1 is NaN");
  const TrialOutcome two = OutcomeFromValues(*f.study, {1.0, 2.0});
  EXPECT_EQ(two.state, TrialState::kFailed);
  EXPECT_EQ(two.failure_reason, "2 objective values given for 1 objective");
  EXPECT_EQ(FailedOutcome("no GPU").failure_reason, "no GPU");
}

TEST(TunerTest, ConfirmInterleavesTheConfigurations) {
  Fixture f(SpaceJson(false));
  const Config a = {Value(int64_t{3}), Value(int64_t{2})};
  const Config b = {Value(int64_t{11}), Value(int64_t{1})};
  ASSERT_TRUE(Tune(*f.study, *f.sampler, *Quadratic(), Budget(2), {a, b}).ok());
  auto report = Confirm(*f.study, *Quadratic(), {b, a}, 2, Budget(100));
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->started, 4);
  const auto trials = f.study->Finished();
  ASSERT_EQ(trials.size(), 6u);
  const std::vector<Config> order = {b, a, b, a};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(trials[2 + i].config, order[i]) << i;
    EXPECT_EQ(trials[2 + i].attrs.value("confirm", 0), static_cast<int>(i / 2 + 1)) << i;
    EXPECT_EQ(trials[2 + i].attrs.value("remeasure_of", -1), order[i] == a ? 0 : 1) << i;
  }
}

}  // namespace
}  // namespace sysopt
