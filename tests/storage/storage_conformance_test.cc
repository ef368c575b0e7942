// One suite of behaviour every Storage backend must show, run over each backend.

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sysopt/storage/memory_storage.h"
#include "sysopt/storage/sqlite_storage.h"
#include "sysopt/storage/storage.h"
#include "common/postgres_server.h"
#include "common/temp_dir.h"

namespace sysopt {
namespace {

using nlohmann::json;

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Storage>(const testing::TempDir&)> open;
};

std::ostream& operator<<(std::ostream& os, const Backend& b) { return os << b.name; }

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Compares configs value by value, including the kind (int64_t vs double) and the sign of zero,
// which operator== on doubles would not see.
void ExpectSameConfig(const Config& actual, const Config& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "value " << i);
    ASSERT_EQ(actual[i].index(), expected[i].index());
    EXPECT_EQ(actual[i], expected[i]);
    if (const double* d = std::get_if<double>(&expected[i])) {
      EXPECT_EQ(std::signbit(std::get<double>(actual[i])), std::signbit(*d));
    }
  }
}

class StorageConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    storage_ = GetParam().open(dir_);
    ASSERT_NE(storage_, nullptr);
  }

  int64_t NewStudy(const std::string& name) {
    auto study = storage_->CreateStudy(name, json{{"name", name}}, json{{"kind", "random"}});
    EXPECT_TRUE(study.ok()) << study.error().message();
    return study.ok() ? study->id : -1;
  }

  TrialRecord NewTrial(int64_t study_id, Config config = {Value(int64_t{1})}) {
    auto trial = storage_->CreateTrial(study_id, config, "host:1:0", 100.5);
    EXPECT_TRUE(trial.ok()) << trial.error().message();
    return trial.ok() ? *trial : TrialRecord{};
  }

  testing::TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_P(StorageConformanceTest, CreatesFindsAndListsStudies) {
  const json spec = {{"parameters", {{{"name", "x"}, {"type", "real"}, {"low", 0.1 + 0.2}}}},
                     {"objectives", {"time"}},
                     {"command", {"./run", "{x}"}}};
  const json sampler = {{"kind", "bo"}, {"seed", 7}, {"xi", 0.01}};
  const double before = Now();
  auto a = storage_->CreateStudy("alpha", spec, sampler);
  const double after = Now();
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->name, "alpha");
  EXPECT_EQ(a->spec, spec);
  EXPECT_EQ(a->sampler, sampler);
  EXPECT_EQ(a->attrs, json::object());
  EXPECT_GE(a->created_at, before - 1);
  EXPECT_LE(a->created_at, after + 1);

  auto b = storage_->CreateStudy("beta", json::object(), json());
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_NE(a->id, b->id);

  auto found = storage_->FindStudy("alpha");
  ASSERT_TRUE(found.ok()) << found.error().message();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, *a);
  EXPECT_EQ((**found).spec["parameters"][0]["low"].get<double>(), 0.1 + 0.2);

  auto missing = storage_->FindStudy("gamma");
  ASSERT_TRUE(missing.ok()) << missing.error().message();
  EXPECT_FALSE(missing->has_value());

  auto all = storage_->ListStudies();
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], *a);
  EXPECT_EQ((*all)[1], *b);
}

TEST_P(StorageConformanceTest, RefusesDuplicateStudyName) {
  ASSERT_TRUE(storage_->CreateStudy("s", json{{"v", 1}}, json::object()).ok());
  auto again = storage_->CreateStudy("s", json{{"v", 2}}, json::object());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(again.error().message().find("'s'"), std::string::npos) << again.error().message();

  auto all = storage_->ListStudies();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].spec, (json{{"v", 1}}));
}

TEST_P(StorageConformanceTest, SetsAndReplacesStudyAttributes) {
  const int64_t a = NewStudy("a");
  const int64_t b = NewStudy("b");
  ASSERT_TRUE(storage_->SetStudyAttr(a, "fingerprint", "3f2a").ok());
  ASSERT_TRUE(storage_->SetStudyAttr(a, "n", 3).ok());
  ASSERT_TRUE(storage_->SetStudyAttr(a, "n", json{{"nested", {1.5, 0.1 + 0.2}}}).ok());

  const json expected = {{"fingerprint", "3f2a"}, {"n", {{"nested", {1.5, 0.1 + 0.2}}}}};
  auto found = storage_->FindStudy("a");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((**found).attrs, expected);
  auto all = storage_->ListStudies();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].attrs, expected);
  EXPECT_EQ((*all)[1].attrs, json::object());

  auto unknown = storage_->SetStudyAttr(a + b + 100, "k", 1);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind(), ErrorKind::kNotFound);
}

TEST_P(StorageConformanceTest, NumbersTrialsFromZeroPerStudyInCreationOrder) {
  const int64_t a = NewStudy("a");
  const int64_t b = NewStudy("b");
  std::set<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    TrialRecord ta = NewTrial(a, {Value(int64_t{i})});
    EXPECT_EQ(ta.number, i);
    EXPECT_EQ(ta.study_id, a);
    EXPECT_TRUE(ids.insert(ta.id).second) << "trial ids must be unique across studies";
    if (i < 3) {
      TrialRecord tb = NewTrial(b);
      EXPECT_EQ(tb.number, i);
      EXPECT_TRUE(ids.insert(tb.id).second);
    }
  }

  auto trials = storage_->GetTrials(a);
  ASSERT_TRUE(trials.ok()) << trials.error().message();
  ASSERT_EQ(trials->size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const TrialRecord& t = (*trials)[i];
    EXPECT_EQ(t.number, i);
    EXPECT_EQ(t.study_id, a);
    EXPECT_EQ(t.state, TrialState::kRunning);
    ExpectSameConfig(t.config, {Value(int64_t{i})});
    EXPECT_TRUE(t.values.empty());
    EXPECT_TRUE(t.samples.empty());
    EXPECT_EQ(t.failure_reason, "");
    EXPECT_EQ(t.stderr_tail, "");
    EXPECT_EQ(t.start_time, 100.5);
    EXPECT_EQ(t.end_time, 0.0);
    EXPECT_EQ(t.worker, "host:1:0");
    EXPECT_EQ(t.attrs, json::object());
    auto one = storage_->GetTrial(t.id);
    ASSERT_TRUE(one.ok()) << one.error().message();
    EXPECT_EQ(*one, t);
  }
  auto trials_b = storage_->GetTrials(b);
  ASSERT_TRUE(trials_b.ok());
  EXPECT_EQ(trials_b->size(), 3u);
}

TEST_P(StorageConformanceTest, FinishTrialRecordsEverythingExactly) {
  const int64_t s = NewStudy("s");
  TrialRecord done = NewTrial(s);
  TrialRecord failed = NewTrial(s);
  TrialRecord running = NewTrial(s);

  TrialOutcome ok;
  ok.state = TrialState::kComplete;
  ok.values = {0.1 + 0.2, -1e-300, 1.7976931348623157e308, 4.9e-324, -0.0};
  ok.samples = {{0.3, 1.0 / 3.0, 2, 1e-300, -0.0}, {0.30000000000000004, 1, 2, 3, 4}};
  ok.stderr_tail = "warning: \"x\" \\ \t tab\nline 2 — ünïcödé\n";
  ok.end_time = 1700000000.1234567;
  ok.attrs = {{"run_seconds", {0.25, 0.5}}, {"exit_code", 0}, {"note", "ok"}};
  ASSERT_TRUE(storage_->FinishTrial(done.id, ok).ok());

  TrialOutcome bad;
  bad.state = TrialState::kFailed;
  bad.failure_reason = "timeout after 10 s";
  bad.stderr_tail = "Segmentation fault";
  bad.end_time = 123.0;
  bad.attrs = json();  // null is stored as an empty object
  ASSERT_TRUE(storage_->FinishTrial(failed.id, bad).ok());

  TrialRecord expected_done = done;
  expected_done.state = TrialState::kComplete;
  expected_done.values = ok.values;
  expected_done.samples = ok.samples;
  expected_done.stderr_tail = ok.stderr_tail;
  expected_done.end_time = ok.end_time;
  expected_done.attrs = ok.attrs;

  TrialRecord expected_failed = failed;
  expected_failed.state = TrialState::kFailed;
  expected_failed.failure_reason = bad.failure_reason;
  expected_failed.stderr_tail = bad.stderr_tail;
  expected_failed.end_time = bad.end_time;
  expected_failed.attrs = json::object();

  auto got = storage_->GetTrial(done.id);
  ASSERT_TRUE(got.ok()) << got.error().message();
  // Finishing is a change: each finished trial has a revision after every creation, in the
  // order they were finished.
  auto got_failed = storage_->GetTrial(failed.id);
  ASSERT_TRUE(got_failed.ok());
  EXPECT_GT(got->revision, running.revision);
  EXPECT_GT(got_failed->revision, got->revision);
  expected_done.revision = got->revision;
  expected_failed.revision = got_failed->revision;
  EXPECT_EQ(*got, expected_done);
  EXPECT_TRUE(std::signbit(got->values[4]));
  EXPECT_EQ(got->values[3], 4.9e-324);
  EXPECT_EQ(got->end_time, 1700000000.1234567);

  auto trials = storage_->GetTrials(s);
  ASSERT_TRUE(trials.ok()) << trials.error().message();
  ASSERT_EQ(trials->size(), 3u);
  EXPECT_EQ((*trials)[0], expected_done);
  EXPECT_EQ((*trials)[1], expected_failed);
  EXPECT_EQ((*trials)[2], running);
  EXPECT_EQ(TrialStateName((*trials)[1].state), "FAILED");
}

TEST_P(StorageConformanceTest, FinishedTrialNeverChanges) {
  const int64_t s = NewStudy("s");
  TrialRecord t = NewTrial(s);
  TrialOutcome first;
  first.state = TrialState::kFailed;
  first.failure_reason = "crashed";
  first.end_time = 200;
  ASSERT_TRUE(storage_->FinishTrial(t.id, first).ok());
  auto before = storage_->GetTrial(t.id);
  ASSERT_TRUE(before.ok());

  TrialOutcome second;
  second.state = TrialState::kComplete;
  second.values = {1.0};
  second.end_time = 300;
  second.attrs = {{"k", 1}};
  for (const TrialOutcome& again : {first, second}) {
    auto r = storage_->FinishTrial(t.id, again);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(r.error().message().find(std::to_string(t.id)), std::string::npos);
  }
  auto after = storage_->GetTrial(t.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
}

TEST_P(StorageConformanceTest, RefusesUnknownTrialAndRunningOutcome) {
  const int64_t s = NewStudy("s");
  TrialRecord t = NewTrial(s);
  TrialOutcome outcome;
  outcome.values = {1.0};
  auto unknown = storage_->FinishTrial(t.id + 1000, outcome);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind(), ErrorKind::kNotFound);

  outcome.state = TrialState::kRunning;
  auto running = storage_->FinishTrial(t.id, outcome);
  ASSERT_FALSE(running.ok());
  EXPECT_EQ(running.error().kind(), ErrorKind::kInvalidInput);

  auto trials = storage_->GetTrials(s);
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 1u);
  EXPECT_EQ((*trials)[0], t);
}

TEST_P(StorageConformanceTest, UnknownIdsAreNotFound) {
  const int64_t s = NewStudy("s");
  const int64_t unknown = s + 1000;
  auto trials = storage_->GetTrials(unknown);
  ASSERT_FALSE(trials.ok());
  EXPECT_EQ(trials.error().kind(), ErrorKind::kNotFound);

  auto created = storage_->CreateTrial(unknown, {}, "w", 1.0);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().kind(), ErrorKind::kNotFound);

  auto trial = storage_->GetTrial(12345);
  ASSERT_FALSE(trial.ok());
  EXPECT_EQ(trial.error().kind(), ErrorKind::kNotFound);

  auto empty = storage_->GetTrials(s);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_P(StorageConformanceTest, ConcurrentThreadsGetDistinctNumbers) {
  const int64_t s = NewStudy("s");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t tag = w * 1000 + i;
        auto t = storage_->CreateTrial(s, {Value(tag)}, "w" + std::to_string(w), 1.0);
        if (!t.ok()) {
          ++failures;
          continue;
        }
        TrialOutcome outcome;
        outcome.values = {static_cast<double>(tag)};
        outcome.end_time = 2.0;
        if (!storage_->FinishTrial(t->id, outcome).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);

  auto trials = storage_->GetTrials(s);
  ASSERT_TRUE(trials.ok()) << trials.error().message();
  ASSERT_EQ(trials->size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<int64_t> tags;
  for (size_t n = 0; n < trials->size(); ++n) {
    const TrialRecord& t = (*trials)[n];
    EXPECT_EQ(t.number, static_cast<int64_t>(n));
    EXPECT_EQ(t.state, TrialState::kComplete);
    const int64_t tag = std::get<int64_t>(t.config.at(0));
    EXPECT_EQ(t.values, std::vector<double>{static_cast<double>(tag)});
    EXPECT_EQ(t.worker, "w" + std::to_string(tag / 1000));
    tags.insert(tag);
  }
  EXPECT_EQ(tags.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_P(StorageConformanceTest, ConfigsOfEveryKindRoundTripExactly) {
  const int64_t s = NewStudy("s");
  const Config config = {
      Value(int64_t{-42}),
      Value(std::numeric_limits<int64_t>::max()),
      Value(std::numeric_limits<int64_t>::min()),
      Value(0.1 + 0.2),
      Value(2.0),  // integral, but a real: must stay a double
      Value(-0.0),
      Value(4.9e-324),
      Value(1.7976931348623157e308),
      Value(std::string()),
      Value(std::string("-O3 \"quoted\" \\ ünïcödé\n")),
      Value(Permutation{{3, 0, 2, 1}}),
      Value(Permutation{}),
      // A sequence, also empty: must not come back as a permutation.
      Value(Sequence{{4, 4, 0}}),
      Value(Sequence{}),
      // An inactive conditional parameter, stored as null.
      Value(Inactive{}),
  };
  auto created = storage_->CreateTrial(s, config, "w", 1.0);
  ASSERT_TRUE(created.ok()) << created.error().message();
  ExpectSameConfig(created->config, config);
  auto got = storage_->GetTrial(created->id);
  ASSERT_TRUE(got.ok()) << got.error().message();
  ExpectSameConfig(got->config, config);
  auto all = storage_->GetTrials(s);
  ASSERT_TRUE(all.ok());
  ExpectSameConfig(all->at(0).config, config);
}

TEST_P(StorageConformanceTest, NonFiniteValuesDoNotBreakTheStore) {
  const int64_t s = NewStudy("s");
  TrialRecord t = NewTrial(s);
  TrialOutcome outcome;
  outcome.values = {std::numeric_limits<double>::quiet_NaN(),
                    std::numeric_limits<double>::infinity()};
  outcome.samples = {{-std::numeric_limits<double>::infinity(), 1.0}};
  outcome.end_time = 5;
  ASSERT_TRUE(storage_->FinishTrial(t.id, outcome).ok());
  auto got = storage_->GetTrial(t.id);
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->values.size(), 2u);
  EXPECT_TRUE(std::isnan(got->values[0]));
  EXPECT_EQ(got->values[1], std::numeric_limits<double>::infinity());
  EXPECT_EQ(got->samples[0][0], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(got->samples[0][1], 1.0);
}

std::string TrialStateNameOf(int i) { return std::string(TrialStateName(TrialState(i))); }

TEST(TrialStateTest, NamesRoundTrip) {
  EXPECT_EQ(TrialStateNameOf(0), "RUNNING");
  EXPECT_EQ(TrialStateNameOf(1), "COMPLETE");
  EXPECT_EQ(TrialStateNameOf(2), "FAILED");
  for (int i = 0; i < 3; ++i) {
    auto back = ParseTrialState(TrialStateNameOf(i));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, TrialState(i));
  }
  EXPECT_FALSE(ParseTrialState("DONE").ok());
}

// --- Sharing a study between processes: reservations, budget, heartbeats, revisions. ---

Expected<Reservation> Reserve(Storage& storage, int64_t study, const std::string& key,
                              int64_t budget = 0, int64_t tag = 0) {
  return storage.ReserveTrial(study, TrialRequest{{Value(tag)}, "host:1:0", 100.5, key, budget});
}

TrialOutcome Interrupted() {
  TrialOutcome o;
  o.state = TrialState::kFailed;
  o.failure_reason = "interrupted";
  o.end_time = 3.0;
  o.release = true;
  return o;
}

TEST_P(StorageConformanceTest, ReservationKeyIsRefusedUntilReleased) {
  const int64_t s = NewStudy("s");
  auto first = Reserve(*storage_, s, "x=1");
  ASSERT_TRUE(first.ok()) << first.error().message();
  ASSERT_EQ(first->status, ReserveStatus::kCreated);
  EXPECT_EQ(first->trial.number, 0);
  EXPECT_EQ(first->trial.state, TrialState::kRunning);
  auto again = Reserve(*storage_, s, "x=1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, ReserveStatus::kTaken);
  // Another study, another key, or no key at all: not refused.
  const int64_t other = NewStudy("other");
  EXPECT_EQ(Reserve(*storage_, other, "x=1")->status, ReserveStatus::kCreated);
  EXPECT_EQ(Reserve(*storage_, s, "x=2")->status, ReserveStatus::kCreated);
  EXPECT_EQ(Reserve(*storage_, s, "")->status, ReserveStatus::kCreated);
  EXPECT_EQ(Reserve(*storage_, s, "")->status, ReserveStatus::kCreated);
  // Released (interrupted): the configuration can be reserved again, once.
  ASSERT_TRUE(storage_->FinishTrial(first->trial.id, Interrupted()).ok());
  auto released = storage_->GetTrial(first->trial.id);
  ASSERT_TRUE(released.ok());
  EXPECT_TRUE(released->released);
  auto rerun = Reserve(*storage_, s, "x=1");
  ASSERT_EQ(rerun->status, ReserveStatus::kCreated);
  EXPECT_EQ(rerun->trial.number, 4);
  EXPECT_EQ(Reserve(*storage_, s, "x=1")->status, ReserveStatus::kTaken);
  // Finished without release (a measurement, or a failure of its own): still taken.
  TrialOutcome done;
  done.values = {1.0};
  ASSERT_TRUE(storage_->FinishTrial(rerun->trial.id, done).ok());
  EXPECT_FALSE(storage_->GetTrial(rerun->trial.id)->released);
  EXPECT_EQ(Reserve(*storage_, s, "x=1")->status, ReserveStatus::kTaken);
  auto unknown = Reserve(*storage_, s + other + 100, "x=1");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind(), ErrorKind::kNotFound);
}

TEST_P(StorageConformanceTest, BudgetCountsRunningAndFinishedButNotReleased) {
  const int64_t s = NewStudy("s");
  auto a = Reserve(*storage_, s, "a", 2);
  auto b = Reserve(*storage_, s, "b", 2);
  ASSERT_EQ(a->status, ReserveStatus::kCreated);
  ASSERT_EQ(b->status, ReserveStatus::kCreated);
  EXPECT_EQ(Reserve(*storage_, s, "c", 2)->status, ReserveStatus::kBudgetFull);
  EXPECT_EQ(Reserve(*storage_, s, "c", 3)->status, ReserveStatus::kCreated);
  EXPECT_EQ(Reserve(*storage_, s, "d", 3)->status, ReserveStatus::kBudgetFull);
  // A released trial gives its place back; a failure of its own keeps it.
  ASSERT_TRUE(storage_->FinishTrial(a->trial.id, Interrupted()).ok());
  EXPECT_EQ(Reserve(*storage_, s, "d", 3)->status, ReserveStatus::kCreated);
  TrialOutcome crashed;
  crashed.state = TrialState::kFailed;
  crashed.failure_reason = "exit code 3";
  ASSERT_TRUE(storage_->FinishTrial(b->trial.id, crashed).ok());
  EXPECT_EQ(Reserve(*storage_, s, "e", 3)->status, ReserveStatus::kBudgetFull);
  EXPECT_EQ(Reserve(*storage_, s, "e", 4)->status, ReserveStatus::kCreated);
  auto trials = storage_->GetTrials(s);
  ASSERT_TRUE(trials.ok());
  EXPECT_EQ(trials->size(), 5u);  // refusals create nothing
}

TEST_P(StorageConformanceTest, ConcurrentReservationsShareKeysAndBudgetExactly) {
  const int64_t s = NewStudy("s");
  constexpr int kThreads = 4;
  constexpr int kKeys = 30;
  constexpr int kBudget = 24;
  std::atomic<int> created{0}, failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      // Every thread tries every key, each in its own order.
      for (int i = 0; i < kKeys; ++i) {
        const int k = (i * (w + 1) * 7 + w) % kKeys;
        auto r = Reserve(*storage_, s, "k" + std::to_string(k), kBudget, k);
        if (!r.ok()) {
          ++failures;
        } else if (r->status == ReserveStatus::kCreated) {
          ++created;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(created.load(), kBudget);
  auto trials = storage_->GetTrials(s);
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), static_cast<size_t>(kBudget));
  std::set<int64_t> tags;
  for (size_t n = 0; n < trials->size(); ++n) {
    EXPECT_EQ((*trials)[n].number, static_cast<int64_t>(n));
    tags.insert(std::get<int64_t>((*trials)[n].config.at(0)));
  }
  EXPECT_EQ(tags.size(), static_cast<size_t>(kBudget)) << "a key was reserved twice";
}

TEST_P(StorageConformanceTest, TrialsSinceARevisionAreExactlyThoseChanged) {
  const int64_t s = NewStudy("s");
  const int64_t other = NewStudy("other");
  TrialRecord t0 = NewTrial(s, {Value(int64_t{0})});
  TrialRecord t1 = NewTrial(s, {Value(int64_t{1})});
  NewTrial(other);
  EXPECT_GT(t1.revision, t0.revision);
  EXPECT_GT(t0.revision, 0);
  auto none = storage_->GetTrialsSince(s, t1.revision);
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_TRUE(none->empty());
  TrialOutcome done;
  done.values = {4.0};
  ASSERT_TRUE(storage_->FinishTrial(t0.id, done).ok());
  auto changed = storage_->GetTrialsSince(s, t1.revision);
  ASSERT_TRUE(changed.ok());
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ((*changed)[0].id, t0.id);
  EXPECT_EQ((*changed)[0].state, TrialState::kComplete);
  EXPECT_GT((*changed)[0].revision, t1.revision);
  auto all = storage_->GetTrialsSince(s, 0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, t1.id);  // ordered by revision: t0 changed last
  EXPECT_EQ((*all)[1].id, t0.id);
  auto running = storage_->GetRunningTrials(s);
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ((*running)[0].id, t1.id);
  EXPECT_FALSE(storage_->GetTrialsSince(s + other + 100, 0).ok());
}

TEST_P(StorageConformanceTest, HeartbeatRenewsRunningTrialsOnly) {
  const int64_t s = NewStudy("s");
  TrialRecord a = NewTrial(s, {Value(int64_t{0})});
  TrialRecord b = NewTrial(s, {Value(int64_t{1})});
  EXPECT_EQ(a.heartbeat, 100.5);
  TrialOutcome done;
  done.values = {1.0};
  ASSERT_TRUE(storage_->FinishTrial(b.id, done).ok());
  const int64_t before = storage_->GetTrial(a.id)->revision;
  ASSERT_TRUE(storage_->Heartbeat({a.id, b.id, 9999}, 250.25).ok());
  auto ra = storage_->GetTrial(a.id);
  auto rb = storage_->GetTrial(b.id);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ(ra->heartbeat, 250.25);
  EXPECT_EQ(ra->revision, before);  // a heartbeat is no change to read again
  EXPECT_EQ(rb->heartbeat, 100.5);
  ASSERT_TRUE(storage_->Heartbeat({}, 300).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StorageConformanceTest,
    ::testing::Values(Backend{"Memory",
                              [](const testing::TempDir&) { return MakeMemoryStorage(); }},
                      Backend{"Sqlite",
                              [](const testing::TempDir& dir) {
                                auto s = OpenSqliteStorage(dir.File("study.db"));
                                EXPECT_TRUE(s.ok()) << s.error().message();
                                return s.ok() ? std::move(*s) : nullptr;
                              }},
                      // A real server, one fresh database per test, through the URL.
                      Backend{"Postgres",
                              [](const testing::TempDir&) -> std::unique_ptr<Storage> {
                                auto s = OpenStorage(
                                    testing::PostgresServer::Shared().NewDatabaseUrl());
                                EXPECT_TRUE(s.ok()) << s.error().message();
                                return s.ok() ? std::move(*s) : nullptr;
                              }},
                      // The URL path of the CLI's --storage flag, to a file in a subdirectory.
                      Backend{"SqliteUrl",
                              [](const testing::TempDir& dir) {
                                std::filesystem::create_directory(dir.path() / "sub");
                                auto s = OpenStorage("sqlite:" + dir.File("sub/study.db"));
                                EXPECT_TRUE(s.ok()) << s.error().message();
                                return s.ok() ? std::move(*s) : nullptr;
                              }}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

}  // namespace
}  // namespace sysopt
