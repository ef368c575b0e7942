#include "sysopt/study/study.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/temp_dir.h"

namespace sysopt {
namespace {

using nlohmann::json;

json SpecJson() {
  return {{"name", "demo"},
          {"parameters",
           {{{"name", "x"}, {"type", "integer"}, {"low", 0}, {"high", 9}},
            {{"name", "mode"}, {"type", "categorical"}, {"values", {"fast", "safe"}}}}},
          {"constraints", {"x != 3"}},
          {"objectives", {{{"name", "time"}, {"goal", "minimize"}},
                          {{"name", "gflops"}, {"goal", "maximize"}}}}};
}

Spec MakeSpec(const json& j) {
  auto spec = ParseSpec(j, "spec.json");
  EXPECT_TRUE(spec.ok()) << spec.error().message();
  return *spec;
}

Config C(int64_t x, const char* mode = "fast") { return {Value(x), Value(std::string(mode))}; }

// Runs one trial to completion with the given objective values.
TrialRecord Record(Study& study, const Config& config, std::vector<double> values) {
  auto trial = study.Start(config, WorkerName(0));
  EXPECT_TRUE(trial.ok());
  TrialOutcome outcome;
  outcome.values = std::move(values);
  auto rec = study.Finish(*trial, outcome);
  EXPECT_TRUE(rec.ok());
  return *rec;
}

// A pid that belonged to a process of this host that has exited.
pid_t DeadPid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

double Fresh() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string HostOf(const std::string& worker) { return worker.substr(0, worker.find(':')); }

TEST(StudyTest, DominatesFollowsEachDirection) {
  EXPECT_TRUE(Dominates({1, 1}, {2, 2}, {true, true}));
  EXPECT_TRUE(Dominates({1, 2}, {1, 3}, {true, true}));
  EXPECT_FALSE(Dominates({1, 2}, {1, 2}, {true, true}));  // equal: not strictly better
  EXPECT_FALSE(Dominates({1, 3}, {2, 2}, {true, true}));  // a trade-off
  EXPECT_TRUE(Dominates({1, 5}, {2, 4}, {true, false}));  // larger second value is better
  EXPECT_FALSE(Dominates({1, 4}, {2, 5}, {true, false}));
  EXPECT_TRUE(Dominates({9}, {8}, {false}));
  EXPECT_FALSE(Dominates({8}, {9}, {false}));
}

TEST(StudyTest, CountsTowardsBudget) {
  TrialRecord t;
  t.state = TrialState::kComplete;
  EXPECT_TRUE(CountsTowardsBudget(t));
  t.state = TrialState::kFailed;
  t.failure_reason = "exit status 1";
  EXPECT_TRUE(CountsTowardsBudget(t));
  t.failure_reason = "interrupted";
  EXPECT_FALSE(CountsTowardsBudget(t));
  t.state = TrialState::kRunning;
  t.failure_reason.clear();
  EXPECT_FALSE(CountsTowardsBudget(t));
}

TEST(StudyTest, OpenCreatesThenResumes) {
  auto storage = MakeMemoryStorage();
  ResumeInfo info;
  auto study = Study::Open(*storage, "s1", MakeSpec(SpecJson()), {{"name", "random"}}, &info);
  ASSERT_TRUE(study.ok()) << study.error().message();
  EXPECT_TRUE(info.created);
  EXPECT_EQ((*study)->name(), "s1");
  Record(**study, C(1), {2.0, 10.0});
  ResumeInfo again;
  auto reopened = Study::Open(*storage, "s1", MakeSpec(SpecJson()), {}, &again);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message();
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.interrupted, 0);
  ASSERT_EQ((*reopened)->Finished().size(), 1u);
  EXPECT_EQ((*reopened)->Finished()[0].config, C(1));
  EXPECT_EQ((*reopened)->BudgetUsed(), 1);
  auto loaded = Study::Load(*storage, "s1");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ((*loaded)->space().Names(), (std::vector<std::string>{"x", "mode"}));
  EXPECT_EQ((*loaded)->Finished().size(), 1u);
  auto missing = Study::Load(*storage, "s2");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("s1"), std::string::npos) << missing.error().message();
}

TEST(StudyTest, OpenRefusesADifferentSpaceNamingTheParameter) {
  auto storage = MakeMemoryStorage();
  ASSERT_TRUE(Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, nullptr).ok());
  json changed = SpecJson();
  changed["parameters"][0]["high"] = 12;
  auto refused = Study::Open(*storage, "s", MakeSpec(changed), {}, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("\"x\""), std::string::npos)
      << refused.error().message();
  EXPECT_NE(refused.error().message().find("12"), std::string::npos);

  json extra = SpecJson();
  extra["parameters"].push_back({{"name", "threads"}, {"type", "integer"}, {"low", 1}, {"high", 4}});
  refused = Study::Open(*storage, "s", MakeSpec(extra), {}, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("threads"), std::string::npos)
      << refused.error().message();

  json constrained = SpecJson();
  constrained["constraints"] = {"x != 4"};
  refused = Study::Open(*storage, "s", MakeSpec(constrained), {}, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("x != 4"), std::string::npos)
      << refused.error().message();

  json goal = SpecJson();
  goal["objectives"][1]["goal"] = "minimize";
  refused = Study::Open(*storage, "s", MakeSpec(goal), {}, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("gflops"), std::string::npos)
      << refused.error().message();

  // A change outside the space (the run command) is accepted.
  json run = SpecJson();
  run["run"] = {{"command", {"./bench", "{x}"}}};
  EXPECT_TRUE(Study::Open(*storage, "s", MakeSpec(run), {}, nullptr).ok());
}

TEST(StudyTest, TrialsOfDeadProcessesAreMarkedInterrupted) {
  auto storage = MakeMemoryStorage();
  auto first = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, nullptr);
  ASSERT_TRUE(first.ok());
  Record(**first, C(0), {1.0, 1.0});
  const int64_t id = (*first)->record().id;
  const std::string host = HostOf(WorkerName(0));
  const pid_t dead = DeadPid();
  // A trial of a dead process on this host, one of another host, one of this very process;
  // all with a fresh heartbeat, so that only the dead process's are taken for gone.
  ASSERT_TRUE(storage->CreateTrial(id, C(5), host + ":" + std::to_string(dead) + ":0", Fresh()).ok());
  ASSERT_TRUE(storage->CreateTrial(id, C(6, "safe"), "elsewhere.example:1:0", Fresh()).ok());
  ASSERT_TRUE(storage->CreateTrial(id, C(7), WorkerName(2), Fresh()).ok());
  ASSERT_TRUE(
      storage->CreateTrial(id, C(8), host + ":" + std::to_string(dead) + ":3", Fresh()).ok());

  ResumeInfo info;
  auto study = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, &info);
  ASSERT_TRUE(study.ok()) << study.error().message();
  EXPECT_FALSE(info.created);
  EXPECT_EQ(info.interrupted, 2);
  EXPECT_EQ(info.to_rerun, (std::vector<Config>{C(5), C(8)}));
  auto trials = storage->GetTrials(id);
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 5u);
  EXPECT_EQ((*trials)[1].state, TrialState::kFailed);
  EXPECT_EQ((*trials)[1].failure_reason, "interrupted");
  EXPECT_EQ((*trials)[2].state, TrialState::kRunning);  // another host: maybe still running
  EXPECT_EQ((*trials)[3].state, TrialState::kRunning);  // this process
  EXPECT_EQ((*trials)[4].state, TrialState::kFailed);
  // Interrupted trials are finished but do not use the budget.
  EXPECT_EQ((*study)->Finished().size(), 3u);
  EXPECT_EQ((*study)->BudgetUsed(), 1);
  // Opening again finds nothing new to interrupt, but the interrupted configurations have not
  // run since, so they are still queued to run again.
  ResumeInfo later;
  ASSERT_TRUE(Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, &later).ok());
  EXPECT_EQ(later.interrupted, 0);
  EXPECT_EQ(later.stopped, 2);
  EXPECT_EQ(later.to_rerun, (std::vector<Config>{C(5), C(8)}));
  // Once one of them has run again, only the other is.
  auto resumed = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, nullptr);
  ASSERT_TRUE(resumed.ok());
  Record(**resumed, C(5), {2.0, 2.0});
  ResumeInfo last;
  ASSERT_TRUE(Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, &last).ok());
  EXPECT_EQ(last.to_rerun, (std::vector<Config>{C(8)}));
}

TEST(StudyTest, ReusedPidDoesNotKeepADeadTunersTrial) {
  auto storage = MakeMemoryStorage();
  auto first = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, nullptr);
  ASSERT_TRUE(first.ok());
  const int64_t id = (*first)->record().id;
  const std::string me = WorkerName(0);
  const std::string host = HostOf(me);
  // This process's own name ends in its start time.
  const size_t last = me.rfind(':');
  ASSERT_EQ(std::count(me.begin(), me.end(), ':'), 3) << me;
  const std::string start = me.substr(last + 1);
  // A live process (its pid reused) started at another time than the recorded tuner's...
  const pid_t live = getppid();
  const std::string reused = host + ":" + std::to_string(live) + ":0:1";
  ASSERT_TRUE(storage->CreateTrial(id, C(1), reused, Fresh()).ok());
  // ...while this process, named with its true start time, is alive; so is an old-style name.
  ASSERT_TRUE(storage->CreateTrial(id, C(2), WorkerName(1), Fresh()).ok());
  ASSERT_TRUE(storage->CreateTrial(id, C(4), host + ":" + std::to_string(live) + ":0", Fresh()).ok());
  ResumeInfo info;
  auto study = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, &info);
  ASSERT_TRUE(study.ok()) << study.error().message();
  EXPECT_EQ(info.interrupted, 1);
  EXPECT_EQ(info.to_rerun, (std::vector<Config>{C(1)}));
  auto trials = storage->GetTrials(id);
  ASSERT_TRUE(trials.ok());
  EXPECT_EQ((*trials)[0].failure_reason, "interrupted");
  EXPECT_EQ((*trials)[1].state, TrialState::kRunning);
  EXPECT_EQ((*trials)[2].state, TrialState::kRunning);
  EXPECT_NE(start, "1");
}

TEST(StudyTest, MalformedWorkerNamesDoNotBreakResuming) {
  auto storage = MakeMemoryStorage();
  auto first = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, nullptr);
  ASSERT_TRUE(first.ok());
  const int64_t id = (*first)->record().id;
  const std::string host = HostOf(WorkerName(0));
  // No process can be found behind these names: their trials are interrupted, not fatal.
  ASSERT_TRUE(storage->CreateTrial(id, C(1), host + ":not-a-pid:0", Fresh()).ok());
  ASSERT_TRUE(storage->CreateTrial(id, C(2), "no-colons", Fresh()).ok());
  ResumeInfo info;
  auto study = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, &info);
  ASSERT_TRUE(study.ok()) << study.error().message();
  EXPECT_EQ(info.interrupted, 2);
  EXPECT_EQ(info.to_rerun, (std::vector<Config>{C(1), C(2)}));
}

// A worker on another host cannot be asked whether it lives: its trial is taken for dead once
// its heartbeat is older than the grace period, and then only.
TEST(StudyTest, TrialOfAnotherHostIsInterruptedWhenItsHeartbeatStops) {
  auto storage = MakeMemoryStorage();
  auto opened = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, nullptr);
  ASSERT_TRUE(opened.ok());
  Study& study = **opened;
  const int64_t id = study.record().id;
  auto silent = storage->CreateTrial(id, C(5), "elsewhere.example:1:0", Fresh() - 30);
  auto reserved = storage->ReserveTrial(
      id, TrialRequest{C(6), "elsewhere.example:2:0", Fresh() - 30, ConfigKey(study.space(), C(6)),
                       0});
  ASSERT_TRUE(silent.ok() && reserved.ok());
  auto beating = reserved->trial;
  study.SetHeartbeatGrace(20);
  ASSERT_TRUE(storage->Heartbeat({beating.id}, Fresh()).ok());
  auto back = study.Refresh();
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, (std::vector<Config>{C(5)}));
  auto s5 = storage->GetTrial(silent->id);
  auto s6 = storage->GetTrial(beating.id);
  EXPECT_EQ(s5->state, TrialState::kFailed);
  EXPECT_EQ(s5->failure_reason, "interrupted");
  EXPECT_TRUE(s5->released);
  EXPECT_EQ(s6->state, TrialState::kRunning);
  EXPECT_EQ(study.RunningCount(), 1);
  EXPECT_EQ(study.Pending(), (std::vector<Config>{C(6)}));
  EXPECT_EQ(study.BudgetUsed(), 0);
  // The configuration given back can be reserved again; the running one cannot.
  auto again = study.Reserve(C(5), WorkerName(0), 0, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, ReserveStatus::kCreated);
  auto twice = study.Reserve(C(6), WorkerName(0), 0, 0);
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->status, ReserveStatus::kTaken);
  // With a longer grace nothing more is taken.
  study.SetHeartbeatGrace(3600);
  auto none = study.Refresh();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// What another process does to the study is seen at the next Refresh, and only what changed
// is read.
TEST(StudyTest, RefreshSeesOtherProcessesTrials) {
  auto storage = MakeMemoryStorage();
  auto mine = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, nullptr);
  auto theirs = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, nullptr);
  ASSERT_TRUE(mine.ok() && theirs.ok());
  {
    auto first = (*theirs)->Reserve(C(1), WorkerName(1), 0, 10);
    ASSERT_TRUE(first.ok());
    TrialOutcome measured;
    measured.values = {1.0, 2.0};
    ASSERT_TRUE((*theirs)->Finish(first->trial, measured).ok());
  }
  auto running = (*theirs)->Reserve(C(2), WorkerName(1), 0, 10);
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->status, ReserveStatus::kCreated);
  EXPECT_EQ((*mine)->BudgetUsed(), 0);
  ASSERT_TRUE((*mine)->Refresh().ok());
  EXPECT_EQ((*mine)->BudgetUsed(), 1);
  EXPECT_EQ((*mine)->Finished().size(), 1u);
  EXPECT_EQ((*mine)->Pending(), (std::vector<Config>{C(2)}));
  // The same configuration is refused to this process; a re-measurement of the measured one is
  // its next measurement, reserved once.
  EXPECT_EQ((*mine)->Reserve(C(2), WorkerName(0), 0, 10)->status, ReserveStatus::kTaken);
  EXPECT_EQ((*mine)->Reserve(C(1), WorkerName(0), 0, 10)->status, ReserveStatus::kTaken);
  EXPECT_EQ((*mine)->Measurements(C(1)), 1);
  EXPECT_EQ((*mine)->Reserve(C(1), WorkerName(0), 1, 10)->status, ReserveStatus::kCreated);
  EXPECT_EQ((*theirs)->Reserve(C(1), WorkerName(1), 1, 10)->status, ReserveStatus::kTaken);
  // The budget counts every process's trials: 1 finished + 2 running.
  EXPECT_EQ((*mine)->Reserve(C(4), WorkerName(0), 0, 3)->status, ReserveStatus::kBudgetFull);
  TrialOutcome done;
  done.values = {3.0, 3.0};
  ASSERT_TRUE((*theirs)->Finish(running->trial, done).ok());
  ASSERT_TRUE((*mine)->Refresh().ok());
  EXPECT_EQ((*mine)->BudgetUsed(), 2);
  EXPECT_EQ((*mine)->Finished().size(), 2u);
  EXPECT_EQ((*mine)->RunningCount(), 1);  // its own re-measurement
  // Another process's change made before this one's own is still read after it.
  Record(**theirs, C(7), {7.0, 7.0});
  auto own = (*mine)->Reserve(C(8), WorkerName(0), 0, 10);
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE((*mine)->Finish(own->trial, done).ok());
  ASSERT_TRUE((*mine)->Refresh().ok());
  EXPECT_EQ((*mine)->BudgetUsed(), 4);
  EXPECT_EQ((*mine)->Finished().size(), 4u);
}

TEST(StudyTest, BestAndParetoFrontOnHandMadeValues) {
  auto storage = MakeMemoryStorage();
  auto study = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, nullptr);
  ASSERT_TRUE(study.ok());
  Study& s = **study;
  EXPECT_FALSE(s.Best().has_value());
  EXPECT_TRUE(s.ParetoFront().empty());
  EXPECT_FALSE(s.FirstComplete().has_value());
  // (time minimised, gflops maximised)
  Record(s, C(0), {5.0, 10.0});  // 0: dominated by 2
  Record(s, C(1), {3.0, 8.0});   // 1: front (fastest but one)
  Record(s, C(2), {4.0, 12.0});  // 2: front
  {
    auto t = s.Start(C(4), WorkerName(0));
    ASSERT_TRUE(t.ok());
    TrialOutcome failed;
    failed.state = TrialState::kFailed;
    failed.failure_reason = "segfault";
    ASSERT_TRUE(s.Finish(*t, failed).ok());  // 3: failed, never best
  }
  Record(s, C(5), {3.0, 7.0});   // 4: same time as 1, worse gflops: dominated by 1
  Record(s, C(6), {2.5, 1.0});   // 5: front, best time
  Record(s, C(7), {6.0, 12.0});  // 6: dominated by 2 (equal gflops, slower)
  Record(s, C(8), {4.0, 12.0});  // 7: equal to 2: neither dominates, both on the front
  ASSERT_TRUE(s.Best().has_value());
  EXPECT_EQ(s.Best()->number, 5);
  std::vector<int64_t> front;
  for (const auto& t : s.ParetoFront()) front.push_back(t.number);
  EXPECT_EQ(front, (std::vector<int64_t>{1, 2, 5, 7}));
  EXPECT_EQ(s.FirstComplete()->number, 0);
  EXPECT_EQ(s.BudgetUsed(), 8);
  EXPECT_EQ(s.Directions(), (std::vector<bool>{true, false}));
}

TEST(StudyTest, BestOfAMaximisedObjectiveAndTies) {
  json j = SpecJson();
  j["objectives"] = {{{"name", "throughput"}, {"goal", "maximize"}}};
  auto storage = MakeMemoryStorage();
  auto study = Study::Open(*storage, "s", MakeSpec(j), {}, nullptr);
  ASSERT_TRUE(study.ok());
  Study& s = **study;
  Record(s, C(0), {10.0});
  Record(s, C(1), {30.0});
  Record(s, C(2), {30.0});  // a tie: the earlier trial stays best
  Record(s, C(4), {20.0});
  ASSERT_TRUE(s.Best().has_value());
  EXPECT_EQ(s.Best()->number, 1);
  std::vector<int64_t> front;
  for (const auto& t : s.ParetoFront()) front.push_back(t.number);
  EXPECT_EQ(front, (std::vector<int64_t>{1, 2}));

  json m = SpecJson();
  m["objectives"] = {{{"name", "time"}}};
  auto min_study = Study::Open(*storage, "m", MakeSpec(m), {}, nullptr);
  ASSERT_TRUE(min_study.ok());
  Record(**min_study, C(0), {10.0});
  Record(**min_study, C(1), {4.0});
  Record(**min_study, C(2), {4.0});
  Record(**min_study, C(4), {7.0});
  EXPECT_EQ((*min_study)->Best()->number, 1);
}

TEST(StudyTest, PendingAndOutOfOrderFinishes) {
  auto storage = MakeMemoryStorage();
  auto study = Study::Open(*storage, "s", MakeSpec(SpecJson()), {}, nullptr);
  ASSERT_TRUE(study.ok());
  Study& s = **study;
  auto a = s.Start(C(0), WorkerName(0));
  auto b = s.Start(C(1), WorkerName(1));
  auto c = s.Start(C(2), WorkerName(2));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->number, 0);
  EXPECT_EQ(c->number, 2);
  EXPECT_EQ(s.Pending(), (std::vector<Config>{C(0), C(1), C(2)}));
  TrialOutcome outcome;
  outcome.values = {1.0, 1.0};
  ASSERT_TRUE(s.Finish(*c, outcome).ok());
  ASSERT_TRUE(s.Finish(*a, outcome).ok());
  EXPECT_EQ(s.Pending(), (std::vector<Config>{C(1)}));
  ASSERT_TRUE(s.Finish(*b, outcome).ok());
  std::vector<int64_t> numbers;
  for (const auto& t : s.Finished()) numbers.push_back(t.number);
  EXPECT_EQ(numbers, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_TRUE(s.Pending().empty());
  // A trial is finished once.
  EXPECT_FALSE(s.Finish(*a, outcome).ok());
}

}  // namespace
}  // namespace sysopt

namespace sysopt {
namespace {

TEST(HypervolumeTest, TwoDimensionsByHand) {
  const std::vector<double> ref = {10, 10};
  EXPECT_EQ(Hypervolume({}, ref), 0.0);
  EXPECT_EQ(Hypervolume({{1, 5}}, ref), 45.0);             // 9 x 5
  EXPECT_EQ(Hypervolume({{3, 2}, {1, 5}}, ref), 66.0);     // 9 x 5 + 7 x 3
  EXPECT_EQ(Hypervolume({{3, 2}, {1, 5}, {4, 6}}, ref), 66.0);  // a dominated point adds nothing
  EXPECT_EQ(Hypervolume({{12, 1}, {1, 5}}, ref), 45.0);    // beyond the reference: nothing
}

TEST(HypervolumeTest, ThreeDimensionsByHand) {
  const std::vector<double> ref = {2, 2, 2};
  EXPECT_DOUBLE_EQ(Hypervolume({{1, 1, 1}}, ref), 1.0);
  // Boxes [0,2]x[1,2]x[1,2] and [1,2]x[0,2]x[1,2] (volume 2 each) overlap in a unit cube.
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 1, 1}, {1, 0, 1}}, ref), 3.0);
  // Adding (1,1,0): box [1,2]x[1,2]x[0,2] of volume 2, overlapping the union above in [1,2]^3.
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 1, 1}, {1, 0, 1}, {1, 1, 0}}, ref), 4.0);
}

TEST(HypervolumeTest, StudyFrontNegatesMaximisedObjectives) {
  auto spec = ParseSpec({{"parameters", {{{"name", "x"}, {"type", "real"}, {"low", 0.0},
                                          {"high", 1.0}}}},
                         {"objectives", {{{"name", "time"}, {"goal", "minimize"}},
                                         {{"name", "score"}, {"goal", "maximize"}}}}},
                        "test");
  ASSERT_TRUE(spec.ok());
  auto storage = MakeMemoryStorage();
  auto study = Study::Open(*storage, "s", *spec, {}, nullptr);
  ASSERT_TRUE(study.ok());
  for (auto [time, score] : {std::pair{1.0, 5.0}, std::pair{3.0, 8.0}, std::pair{4.0, 4.0}}) {
    auto trial = (*study)->Start({Value(time / 10)}, "w");
    ASSERT_TRUE(trial.ok());
    TrialOutcome outcome;
    outcome.values = {time, score};
    ASSERT_TRUE((*study)->Finish(*trial, outcome).ok());
  }
  std::vector<double> reference = {10, 0};  // time 10, score 0, in the objectives' directions
  // In minimisation terms: points (1,-5) and (3,-8), reference (10, 0):
  // 9 x 5 + 7 x 3 = 66.
  EXPECT_DOUBLE_EQ((*study)->FrontHypervolume(&reference), 66.0);
  std::vector<double> automatic;
  (*study)->FrontHypervolume(&automatic);
  // Nadir plus a tenth of the range: time 4 + 0.3, score 4 - 0.4.
  ASSERT_EQ(automatic.size(), 2u);
  EXPECT_DOUBLE_EQ(automatic[0], 4.3);
  EXPECT_DOUBLE_EQ(automatic[1], 3.6);
}

// A conditional study stored in SQLite: inactive parameters come back as Inactive, the study
// resumes under the same spec, and a spec that adds or changes a condition is refused.
TEST(StudyTest, ConditionalStudyRoundTripsThroughSqlite) {
  testing::TempDir dir;
  const json spec_json = {
      {"name", "solver"},
      {"parameters",
       {{{"name", "solver"}, {"type", "categorical"}, {"values", {"cg", "gmres"}}},
        {{"name", "restart"},
         {"type", "integer"},
         {"low", 1},
         {"high", 50},
         {"active_if", "solver == 'gmres'"}}}}};
  const Config cg = {Value(std::string("cg")), Value(Inactive{})};
  const Config gmres = {Value(std::string("gmres")), Value(int64_t{20})};
  {
    auto storage = OpenSqliteStorage(dir.File("s.db"));
    ASSERT_TRUE(storage.ok()) << storage.error().message();
    auto study = Study::Open(**storage, "s", MakeSpec(spec_json), {}, nullptr);
    ASSERT_TRUE(study.ok()) << study.error().message();
    Record(**study, cg, {3.0});
    Record(**study, gmres, {1.0});
  }
  auto storage = OpenSqliteStorage(dir.File("s.db"));
  ASSERT_TRUE(storage.ok()) << storage.error().message();
  auto reopened = Study::Open(**storage, "s", MakeSpec(spec_json), {}, nullptr);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message();
  const auto finished = (*reopened)->Finished();
  ASSERT_EQ(finished.size(), 2u);
  EXPECT_EQ(finished[0].config, cg);
  EXPECT_TRUE(IsInactive(finished[0].config[1]));
  EXPECT_EQ(finished[1].config, gmres);
  EXPECT_EQ((*reopened)->Best()->config, gmres);
  auto loaded = Study::Load(**storage, "s");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ((*loaded)->space().parameters()[1].active_if, "solver == 'gmres'");
  EXPECT_TRUE((*loaded)->space().Check(finished[0].config).ok());

  json changed = spec_json;
  changed["parameters"][1]["active_if"] = "solver != 'cg'";
  auto refused = Study::Open(**storage, "s", MakeSpec(changed), {}, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("restart"), std::string::npos)
      << refused.error().message();
  json unconditional = spec_json;
  unconditional["parameters"][1].erase("active_if");
  EXPECT_FALSE(Study::Open(**storage, "s", MakeSpec(unconditional), {}, nullptr).ok());
}

// A storage whose FinishTrial fails as on a full disk; everything else goes to a memory storage.
class FullDiskStorage final : public Storage {
 public:
  Expected<StudyRecord> CreateStudy(const std::string& name, const json& spec,
                                    const json& sampler) override {
    return inner_->CreateStudy(name, spec, sampler);
  }
  Expected<std::optional<StudyRecord>> FindStudy(const std::string& name) override {
    return inner_->FindStudy(name);
  }
  Expected<std::vector<StudyRecord>> ListStudies() override { return inner_->ListStudies(); }
  Expected<void> SetStudyAttr(int64_t id, const std::string& key, const json& value) override {
    return inner_->SetStudyAttr(id, key, value);
  }
  Expected<Reservation> ReserveTrial(int64_t study_id, const TrialRequest& request) override {
    return inner_->ReserveTrial(study_id, request);
  }
  Expected<void> Heartbeat(const std::vector<int64_t>& ids, double now) override {
    return inner_->Heartbeat(ids, now);
  }
  Expected<void> FinishTrial(int64_t, const TrialOutcome&) override {
    return IoError("s.db: database or disk is full");
  }
  Expected<std::vector<TrialRecord>> GetTrials(int64_t study_id) override {
    return inner_->GetTrials(study_id);
  }
  Expected<std::vector<TrialRecord>> GetTrialsSince(int64_t study_id, int64_t revision) override {
    return inner_->GetTrialsSince(study_id, revision);
  }
  Expected<std::vector<TrialRecord>> GetRunningTrials(int64_t study_id) override {
    return inner_->GetRunningTrials(study_id);
  }
  Expected<TrialRecord> GetTrial(int64_t id) override { return inner_->GetTrial(id); }

 private:
  std::unique_ptr<Storage> inner_ = MakeMemoryStorage();
};

TEST(StudyTest, ResultThatCannotBeRecordedIsReportedNotLost) {
  FullDiskStorage storage;
  auto study = Study::Open(storage, "s", MakeSpec(SpecJson()), {}, nullptr);
  ASSERT_TRUE(study.ok());
  auto trial = (*study)->Start(C(4, "safe"), WorkerName(0));
  ASSERT_TRUE(trial.ok());
  TrialOutcome outcome;
  outcome.values = {1.25, 80};
  auto finished = (*study)->Finish(*trial, outcome);
  ASSERT_FALSE(finished.ok());
  EXPECT_EQ(finished.error().kind(), ErrorKind::kIo);
  EXPECT_EQ(finished.error().message(),
            "trial 0 ({\"mode\":\"safe\",\"x\":4}) finished with values [1.25, 80] but could "
            "not be recorded, and will run again on resume: s.db: database or disk is full");
  // Still RUNNING where it is stored: a resume marks it interrupted and runs it again.
  auto stored = storage.GetTrial(trial->id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state, TrialState::kRunning);
  TrialOutcome failed;
  failed.state = TrialState::kFailed;
  failed.failure_reason = "exit code 3";
  auto second = (*study)->Start(C(5), WorkerName(0));
  ASSERT_TRUE(second.ok());
  EXPECT_NE((*study)->Finish(*second, failed).error().message().find("failed: exit code 3"),
            std::string::npos);
}

// Many processes opening one study on a fresh file at the same moment: each must open it (one
// creates the schema and the study, the others find them), none may see a half-made file.
TEST(StudyConcurrencyTest, ProcessesStartedTogetherOnAFreshFileAllOpenTheStudy) {
  constexpr int kRounds = 12;
  constexpr int kProcesses = 10;
  int failures = 0;
  for (int round = 0; round < kRounds; ++round) {
    testing::TempDir dir;
    const std::string path = dir.File("fresh.db");
    int gate[2];
    ASSERT_EQ(pipe(gate), 0);
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
      const pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        close(gate[1]);
        char c;
        // Every child waits here until the parent closes the pipe, then all start at once.
        while (read(gate[0], &c, 1) > 0) {
        }
        // A failure says why on stderr, which the test's output shows.
        auto storage = OpenSqliteStorage(path);
        if (!storage.ok()) {
          fprintf(stderr, "process %d: %s\n", p, storage.error().message().c_str());
          _exit(10);
        }
        auto study = Study::Open(**storage, "shared", MakeSpec(SpecJson()), {}, nullptr);
        if (!study.ok()) fprintf(stderr, "process %d: %s\n", p, study.error().message().c_str());
        _exit(study.ok() ? 0 : 11);
      }
      children.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      failures += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    auto storage = OpenSqliteStorage(path);
    ASSERT_TRUE(storage.ok()) << storage.error().message();
    auto studies = (*storage)->ListStudies();
    ASSERT_TRUE(studies.ok());
    EXPECT_EQ(studies->size(), 1u);
  }
  EXPECT_EQ(failures, 0) << "of " << kRounds * kProcesses << " processes";
}

}  // namespace
}  // namespace sysopt
