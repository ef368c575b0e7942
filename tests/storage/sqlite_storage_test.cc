// Behaviour only the SQLite backend has: its on-disk format, persistence, sharing one file
// between connections and processes, and refusing files it cannot use.

#include "sysopt/storage/sqlite_storage.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/temp_dir.h"

namespace sysopt {
namespace {

using nlohmann::json;

// The format of schema version 2, written out by hand: any change to the schema in
// sqlite_storage.cc must fail here, and comes with a new kSqliteSchemaVersion. Version 2 is
// version 1 with columns added by ALTER TABLE (SQLite writes them into the stored CREATE
// statement as shown) and four indexes.
constexpr const char* kExpectedSchema = R"(index|sqlite_autoindex_studies_1|studies|
index|sqlite_autoindex_study_attrs_1|study_attrs|
index|sqlite_autoindex_trials_1|trials|
index|trials_holding|trials|CREATE INDEX trials_holding ON trials (study_id, released)
index|trials_key|trials|CREATE UNIQUE INDEX trials_key ON trials (study_id, config_key) WHERE config_key IS NOT NULL
index|trials_revision|trials|CREATE INDEX trials_revision ON trials (study_id, revision)
index|trials_running|trials|CREATE INDEX trials_running ON trials (study_id, number) WHERE state = 'RUNNING'
table|studies|studies|CREATE TABLE studies (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  sampler TEXT NOT NULL,
  created_at REAL NOT NULL
, revision INTEGER NOT NULL DEFAULT 0)
table|study_attrs|study_attrs|CREATE TABLE study_attrs (
  study_id INTEGER NOT NULL REFERENCES studies(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, key)
)
table|trials|trials|CREATE TABLE trials (
  id INTEGER PRIMARY KEY,
  study_id INTEGER NOT NULL REFERENCES studies(id),
  number INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('RUNNING', 'COMPLETE', 'FAILED')),
  config TEXT NOT NULL,
  objective_values TEXT NOT NULL,
  samples TEXT NOT NULL,
  failure_reason TEXT NOT NULL,
  stderr_tail TEXT NOT NULL,
  start_time REAL NOT NULL,
  end_time REAL,
  worker TEXT NOT NULL,
  attrs TEXT NOT NULL, heartbeat REAL, revision INTEGER NOT NULL DEFAULT 0, config_key TEXT, released INTEGER NOT NULL DEFAULT 0,
  UNIQUE (study_id, number)
)
)";

// Direct access to a database file, bypassing the storage, to inspect or tamper with it.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 10'000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Rows joined by '\n', columns by '|', NULL as empty.
  std::string Query(const std::string& sql) {
    std::string out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        if (c > 0) out += '|';
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        if (text != nullptr) out += text;
      }
      out += '\n';
    }
    sqlite3_finalize(stmt);
    return out;
  }
  void Exec(const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<Storage> MustOpen(const std::string& path) {
  auto s = OpenSqliteStorage(path);
  EXPECT_TRUE(s.ok()) << s.error().message();
  return s.ok() ? std::move(*s) : nullptr;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class SqliteStorageTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  std::string path_ = dir_.File("study.db");
};

TEST_F(SqliteStorageTest, SchemaMatchesGoldenFormat) {
  ASSERT_NE(MustOpen(path_), nullptr);
  RawDb raw(path_);
  EXPECT_EQ(raw.Query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"),
            kExpectedSchema);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), "2\n");
  EXPECT_EQ(kSqliteSchemaVersion, 2);
  EXPECT_EQ(raw.Query("PRAGMA application_id"), std::to_string(0x5359534F) + "\n");
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal\n");
}

// Guards the encoding of each column, not only the table layout.
TEST_F(SqliteStorageTest, RowsMatchGoldenEncoding) {
  {
    auto storage = MustOpen(path_);
    auto study = storage->CreateStudy("s", json{{"b", 0.1}, {"a", {1, "x"}}}, json{{"seed", 3}});
    ASSERT_TRUE(study.ok());
    ASSERT_TRUE(storage->SetStudyAttr(study->id, "fingerprint", "ab12").ok());
    auto trial = storage->CreateTrial(
        study->id,
        {Value(int64_t{3}), Value(0.1 + 0.2), Value(2.0), Value(std::string("x")),
         Value(Permutation{{1, 0}}), Value(Inactive{})},
        "h:1:2", 10.5);
    ASSERT_TRUE(trial.ok());
    TrialOutcome outcome;
    outcome.values = {0.5, std::numeric_limits<double>::infinity()};
    outcome.samples = {{0.25, 1}, {0.75, 2}};
    outcome.stderr_tail = "err";
    outcome.end_time = 11.25;
    outcome.attrs = {{"k", 1}};
    ASSERT_TRUE(storage->FinishTrial(trial->id, outcome).ok());
    ASSERT_TRUE(storage->CreateTrial(study->id, {}, "h:1:3", 12.0).ok());
  }
  RawDb raw(path_);
  EXPECT_EQ(raw.Query("SELECT id, name, spec, sampler FROM studies"),
            "1|s|{\"a\":[1,\"x\"],\"b\":0.1}|{\"seed\":3}\n");
  EXPECT_EQ(raw.Query("SELECT * FROM study_attrs"), "1|fingerprint|\"ab12\"\n");
  EXPECT_EQ(raw.Query("SELECT * FROM trials ORDER BY id"),
            "1|1|0|COMPLETE|[3,0.30000000000000004,2.0,\"x\",[1,0],null]|[0.5,\"Infinity\"]|"
            "[[0.25,1.0],[0.75,2.0]]||err|10.5|11.25|h:1:2|{\"k\":1}|10.5|2||0\n"
            "2|1|1|RUNNING|[]|[]|[]|||12.0||h:1:3|{}|12.0|3||0\n");
  EXPECT_EQ(raw.Query("SELECT revision FROM studies"), "3\n");
}

TEST_F(SqliteStorageTest, ReopenedDatabaseReturnsIdenticalRecords) {
  std::vector<StudyRecord> studies;
  std::vector<std::vector<TrialRecord>> trials;
  {
    auto storage = MustOpen(path_);
    for (const char* name : {"a", "b"}) {
      auto study = storage->CreateStudy(name, json{{"x", 0.1 + 0.2}}, json{{"kind", "bo"}});
      ASSERT_TRUE(study.ok());
      ASSERT_TRUE(storage->SetStudyAttr(study->id, "fp", name).ok());
      for (int i = 0; i < 4; ++i) {
        auto t = storage->CreateTrial(study->id, {Value(i * 0.1), Value(Permutation{{1, 0}})}, "w",
                                      1.0 / 3.0 + i);
        ASSERT_TRUE(t.ok());
        if (i == 3) continue;  // left RUNNING, as when a run is killed
        TrialOutcome outcome;
        outcome.state = i == 1 ? TrialState::kFailed : TrialState::kComplete;
        if (i != 1) outcome.values = {i / 7.0};
        outcome.samples = {{i / 7.0}, {i / 9.0}};
        outcome.failure_reason = i == 1 ? "exit code 3" : "";
        outcome.end_time = 2.0 / 3.0 + i;
        outcome.attrs = {{"i", i}};
        ASSERT_TRUE(storage->FinishTrial(t->id, outcome).ok());
      }
    }
    auto listed = storage->ListStudies();
    ASSERT_TRUE(listed.ok());
    studies = *listed;
    for (const StudyRecord& s : studies) trials.push_back(*storage->GetTrials(s.id));
  }

  auto storage = MustOpen(path_);
  auto listed = storage->ListStudies();
  ASSERT_TRUE(listed.ok()) << listed.error().message();
  EXPECT_EQ(*listed, studies);
  for (size_t i = 0; i < studies.size(); ++i) {
    auto again = storage->GetTrials(studies[i].id);
    ASSERT_TRUE(again.ok()) << again.error().message();
    ASSERT_EQ(again->size(), trials[i].size());
    for (size_t j = 0; j < trials[i].size(); ++j) {
      EXPECT_EQ((*again)[j], trials[i][j]);
      EXPECT_EQ((*again)[j].config[0].index(), trials[i][j].config[0].index());
    }
  }
  // Numbering resumes after the last trial; the RUNNING one can still be finished.
  auto next = storage->CreateTrial(studies[0].id, {}, "w", 9.0);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->number, 4);
  TrialOutcome outcome;
  outcome.values = {1.0};
  EXPECT_TRUE(storage->FinishTrial(trials[0][3].id, outcome).ok());
}

TEST_F(SqliteStorageTest, TwoConnectionsOnOneFileGetDistinctNumbers) {
  auto a = MustOpen(path_);
  auto b = MustOpen(path_);
  auto study = a->CreateStudy("shared", json::object(), json::object());
  ASSERT_TRUE(study.ok());
  auto seen = b->FindStudy("shared");
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((**seen).id, study->id);
  auto duplicate = b->CreateStudy("shared", json::object(), json::object());
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().kind(), ErrorKind::kInvalidInput);

  for (int i = 0; i < 6; ++i) {
    Storage& s = (i % 2 == 0) ? *a : *b;
    auto t = s.CreateTrial(study->id, {}, "w", 0.0);
    ASSERT_TRUE(t.ok()) << t.error().message();
    EXPECT_EQ(t->number, i);
  }

  // Concurrently, each thread through its own connection.
  std::atomic<int> failures{0};
  auto work = [&](Storage& s) {
    for (int i = 0; i < 40; ++i) {
      auto t = s.CreateTrial(study->id, {}, "w", 0.0);
      if (!t.ok()) {
        ++failures;
        continue;
      }
      TrialOutcome outcome;
      outcome.values = {1.0};
      if (!s.FinishTrial(t->id, outcome).ok()) ++failures;
    }
  };
  std::thread ta(work, std::ref(*a));
  std::thread tb(work, std::ref(*b));
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  auto trials = a->GetTrials(study->id);
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 86u);
  for (size_t n = 0; n < trials->size(); ++n) EXPECT_EQ((*trials)[n].number, int64_t(n));
}

// Real processes (fork): file locks between processes, not only between connections.
TEST_F(SqliteStorageTest, SeveralProcessesShareOneStudy) {
  int64_t study_id = 0;
  {
    auto storage = MustOpen(path_);
    auto study = storage->CreateStudy("shared", json::object(), json::object());
    ASSERT_TRUE(study.ok());
    study_id = study->id;
  }
  constexpr int kProcesses = 3;
  constexpr int kPerProcess = 30;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      auto storage = OpenSqliteStorage(path_);
      if (!storage.ok()) _exit(10);
      for (int i = 0; i < kPerProcess && code == 0; ++i) {
        auto t = (*storage)->CreateTrial(study_id, {Value(int64_t{p})}, "p", 0.0);
        if (!t.ok()) code = 11;
        TrialOutcome outcome;
        outcome.values = {static_cast<double>(p)};
        if (code == 0 && !(*storage)->FinishTrial(t->id, outcome).ok()) code = 12;
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto storage = MustOpen(path_);
  auto trials = storage->GetTrials(study_id);
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), static_cast<size_t>(kProcesses * kPerProcess));
  for (size_t n = 0; n < trials->size(); ++n) {
    EXPECT_EQ((*trials)[n].number, int64_t(n));
    EXPECT_EQ((*trials)[n].state, TrialState::kComplete);
  }
}

TEST_F(SqliteStorageTest, TrialSurvivesKilledProcess) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto storage = OpenSqliteStorage(path_);
    if (!storage.ok()) _exit(10);
    auto study = (*storage)->CreateStudy("s", json::object(), json::object());
    if (!study.ok()) _exit(11);
    auto done = (*storage)->CreateTrial(study->id, {}, "w", 1.0);
    if (!done.ok()) _exit(12);
    TrialOutcome outcome;
    outcome.values = {42.0};
    if (!(*storage)->FinishTrial(done->id, outcome).ok()) _exit(13);
    if (!(*storage)->CreateTrial(study->id, {}, "w", 2.0).ok()) _exit(14);
    kill(getpid(), SIGKILL);  // no destructor, no checkpoint, no close
    _exit(15);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

  auto storage = MustOpen(path_);
  auto study = storage->FindStudy("s");
  ASSERT_TRUE(study.ok() && study->has_value());
  auto trials = storage->GetTrials((**study).id);
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 2u);
  EXPECT_EQ((*trials)[0].values, std::vector<double>{42.0});
  EXPECT_EQ((*trials)[1].state, TrialState::kRunning);
}

TEST_F(SqliteStorageTest, DamagedRowIsReportedWithoutHidingTheOthers) {
  int64_t study_id = 0;
  {
    auto storage = MustOpen(path_);
    auto study = storage->CreateStudy("s", json::object(), json::object());
    ASSERT_TRUE(study.ok());
    study_id = study->id;
    for (int i = 0; i < 3; ++i) {
      auto t = storage->CreateTrial(study_id, {Value(int64_t{i})}, "w", 0.0);
      ASSERT_TRUE(t.ok());
      TrialOutcome outcome;
      outcome.values = {1.0 * i};
      ASSERT_TRUE(storage->FinishTrial(t->id, outcome).ok());
    }
  }
  RawDb raw(path_);
  raw.Exec("UPDATE trials SET config = '[\"\x01\x02 broken' WHERE number = 1");
  raw.Exec("UPDATE trials SET objective_values = '[1, ' WHERE number = 2");
  auto storage = MustOpen(path_);
  auto trials = storage->GetTrials(study_id);
  ASSERT_TRUE(trials.ok()) << trials.error().message();
  ASSERT_EQ(trials->size(), 3u);
  EXPECT_EQ((*trials)[0].damage, "");
  EXPECT_EQ((*trials)[0].config, (Config{Value(int64_t{0})}));
  // The damage names the column; the raw bytes are not repeated.
  EXPECT_TRUE(Contains((*trials)[1].damage, "column config: not valid JSON"))
      << (*trials)[1].damage;
  EXPECT_FALSE(Contains((*trials)[1].damage, "broken")) << (*trials)[1].damage;
  EXPECT_TRUE((*trials)[1].config.empty());
  EXPECT_EQ((*trials)[1].values, (std::vector<double>{1.0}));
  EXPECT_TRUE(Contains((*trials)[2].damage, "column objective_values")) << (*trials)[2].damage;
  EXPECT_EQ((*trials)[2].config, (Config{Value(int64_t{2})}));
}

TEST_F(SqliteStorageTest, FileThatIsNotADatabaseIsIoErrorNamingPath) {
  {
    std::ofstream out(path_);
    for (int i = 0; i < 200; ++i) out << "this is a text file, not a database\n";
  }
  auto storage = OpenSqliteStorage(path_);
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.error().kind(), ErrorKind::kIo);
  EXPECT_TRUE(Contains(storage.error().message(), path_)) << storage.error().message();
}

TEST_F(SqliteStorageTest, UnwritablePathIsIoErrorNamingPath) {
  const std::string path = dir_.File("no/such/dir/study.db");
  auto storage = OpenSqliteStorage(path);
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.error().kind(), ErrorKind::kIo);
  EXPECT_TRUE(Contains(storage.error().message(), path)) << storage.error().message();
}

TEST_F(SqliteStorageTest, RefusesNewerSchemaNamingPathAndVersion) {
  ASSERT_NE(MustOpen(path_), nullptr);
  RawDb(path_).Exec("PRAGMA user_version = 3");
  auto storage = OpenSqliteStorage(path_);
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(storage.error().message(), path_)) << storage.error().message();
  EXPECT_TRUE(Contains(storage.error().message(), "version 3")) << storage.error().message();
}

// A file written by the previous format (version 1, built here by hand with its statements) is
// upgraded in place: its trials keep every field, an interrupted one gives its place back, and
// numbering and reservations go on from there.
TEST_F(SqliteStorageTest, VersionOneFileIsUpgradedInPlace) {
  {
    RawDb raw(path_);
    raw.Exec(
        "CREATE TABLE studies (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, spec TEXT NOT "
        "NULL, sampler TEXT NOT NULL, created_at REAL NOT NULL)");
    raw.Exec(
        "CREATE TABLE study_attrs (study_id INTEGER NOT NULL REFERENCES studies(id), key TEXT "
        "NOT NULL, value TEXT NOT NULL, PRIMARY KEY (study_id, key))");
    raw.Exec(
        "CREATE TABLE trials (id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL REFERENCES "
        "studies(id), number INTEGER NOT NULL, state TEXT NOT NULL CHECK (state IN ('RUNNING', "
        "'COMPLETE', 'FAILED')), config TEXT NOT NULL, objective_values TEXT NOT NULL, samples "
        "TEXT NOT NULL, failure_reason TEXT NOT NULL, stderr_tail TEXT NOT NULL, start_time REAL "
        "NOT NULL, end_time REAL, worker TEXT NOT NULL, attrs TEXT NOT NULL, UNIQUE (study_id, "
        "number))");
    raw.Exec("INSERT INTO studies VALUES (1, 'old', '{}', '{}', 5.0)");
    raw.Exec(
        "INSERT INTO trials VALUES (1, 1, 0, 'COMPLETE', '[1]', '[0.5]', '[]', '', '', 6.0, 7.0, "
        "'w', '{}'), (2, 1, 1, 'FAILED', '[2]', '[]', '[]', 'interrupted', '', 8.0, 9.0, 'w', "
        "'{}')");
    raw.Exec("PRAGMA application_id = 1398362959");
    raw.Exec("PRAGMA user_version = 1");
  }
  auto storage = MustOpen(path_);
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(RawDb(path_).Query("PRAGMA user_version"), "2\n");
  auto trials = storage->GetTrials(1);
  ASSERT_TRUE(trials.ok()) << trials.error().message();
  ASSERT_EQ(trials->size(), 2u);
  EXPECT_EQ((*trials)[0].values, std::vector<double>{0.5});
  EXPECT_EQ((*trials)[0].heartbeat, 6.0);  // none stored: the start time stands for it
  EXPECT_FALSE((*trials)[0].released);
  EXPECT_TRUE((*trials)[1].released);
  EXPECT_EQ((*trials)[1].failure_reason, "interrupted");
  // Only the measured trial holds a budget place.
  auto full = storage->ReserveTrial(1, TrialRequest{{Value(int64_t{3})}, "w", 10.0, "k", 1});
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->status, ReserveStatus::kBudgetFull);
  auto next = storage->ReserveTrial(1, TrialRequest{{Value(int64_t{3})}, "w", 10.0, "k", 2});
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->status, ReserveStatus::kCreated);
  EXPECT_EQ(next->trial.number, 2);
  EXPECT_GT(next->trial.revision, 0);
}

TEST_F(SqliteStorageTest, RefusesAndLeavesAloneAnotherApplicationsDatabase) {
  RawDb(path_).Exec("CREATE TABLE things (x INTEGER)");
  auto storage = OpenSqliteStorage(path_);
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(storage.error().message(), path_)) << storage.error().message();
  RawDb raw(path_);
  EXPECT_EQ(raw.Query("SELECT name FROM sqlite_master"), "things\n");
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "delete\n");

  const std::string tagged = dir_.File("tagged.db");
  RawDb(tagged).Exec("PRAGMA application_id = 1234");
  auto other = OpenSqliteStorage(tagged);
  ASSERT_FALSE(other.ok());
  EXPECT_TRUE(Contains(other.error().message(), tagged)) << other.error().message();
}

TEST_F(SqliteStorageTest, EmptyExistingFileGetsTheSchema) {
  { std::ofstream touch(path_); }
  auto storage = MustOpen(path_);
  ASSERT_NE(storage, nullptr);
  EXPECT_TRUE(storage->CreateStudy("s", json::object(), json::object()).ok());
}

TEST(OpenStorageTest, ChoosesBackendFromUrl) {
  testing::TempDir dir;
  for (const char* url : {"memory", ":memory:"}) {
    auto storage = OpenStorage(url);
    ASSERT_TRUE(storage.ok()) << storage.error().message();
    EXPECT_TRUE((*storage)->CreateStudy("s", json::object(), json::object()).ok());
    EXPECT_FALSE(std::filesystem::exists(url));
  }
  // Plain path, "sqlite:" path, and SQLAlchemy's "sqlite:////absolute/path".
  const std::vector<std::pair<std::string, std::string>> cases = {
      {dir.File("plain.db"), dir.File("plain.db")},
      {"sqlite:" + dir.File("prefixed.db"), dir.File("prefixed.db")},
      {"sqlite:///" + dir.File("alchemy.db"), dir.File("alchemy.db")},
  };
  for (const auto& [url, file] : cases) {
    auto storage = OpenStorage(url);
    ASSERT_TRUE(storage.ok()) << url << ": " << storage.error().message();
    EXPECT_TRUE(std::filesystem::exists(file)) << url;
  }
  auto empty = OpenStorage("sqlite:");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind(), ErrorKind::kInvalidInput);
}

}  // namespace
}  // namespace sysopt
