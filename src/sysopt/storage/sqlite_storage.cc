#include "sysopt/storage/sqlite_storage.h"

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "sysopt/core/json.h"
#include "sysopt/storage/row_encoding.h"

namespace sysopt {
namespace {

// Long enough for any other process's single short transaction; a writer holds the lock only
// for one CreateTrial/FinishTrial, never across a measurement.
constexpr int kBusyTimeoutMs = 60'000;

// The schema of version kSqliteSchemaVersion. Changing any statement changes the file format:
// raise kSqliteSchemaVersion and update the golden schema in tests/storage/.
constexpr const char* kSchema[] = {
    R"sql(CREATE TABLE studies (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  sampler TEXT NOT NULL,
  created_at REAL NOT NULL
))sql",
    R"sql(CREATE TABLE study_attrs (
  study_id INTEGER NOT NULL REFERENCES studies(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, key)
))sql",
    R"sql(CREATE TABLE trials (
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
  attrs TEXT NOT NULL,
  UNIQUE (study_id, number)
))sql",
};

// Version 2 adds what several processes sharing a study need: reservation keys, budget places,
// heartbeats and revisions, with their indexes. A version 1 file is brought up to version 2 by
// these same statements, so that a migrated file and a new one are alike.
constexpr const char* kSchemaV2[] = {
    "ALTER TABLE studies ADD COLUMN revision INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE trials ADD COLUMN heartbeat REAL",
    "ALTER TABLE trials ADD COLUMN revision INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE trials ADD COLUMN config_key TEXT",
    "ALTER TABLE trials ADD COLUMN released INTEGER NOT NULL DEFAULT 0",
    "UPDATE trials SET released = 1 WHERE state = 'FAILED' AND failure_reason = 'interrupted'",
    "CREATE UNIQUE INDEX trials_key ON trials (study_id, config_key) WHERE config_key IS NOT NULL",
    "CREATE INDEX trials_revision ON trials (study_id, revision)",
    "CREATE INDEX trials_holding ON trials (study_id, released)",
    "CREATE INDEX trials_running ON trials (study_id, number) WHERE state = 'RUNNING'",
};

constexpr std::string_view kTrialColumns =
    "id, study_id, number, state, config, objective_values, samples, failure_reason, "
    "stderr_tail, start_time, end_time, worker, attrs, heartbeat, revision, released";

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// One use of a cached prepared statement: binds parameters in order and resets the statement
// when it goes out of scope, so the next use starts clean and no read stays open.
class Query {
 public:
  explicit Query(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Query(Query&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)), next_(other.next_), bind_rc_(other.bind_rc_) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& operator=(Query&&) = delete;
  ~Query() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  Query& Bind(int64_t v) { return Check(sqlite3_bind_int64(stmt_, ++next_, v)); }
  Query& Bind(double v) { return Check(sqlite3_bind_double(stmt_, ++next_, v)); }
  Query& Bind(std::string_view v) {
    return Check(
        sqlite3_bind_text64(stmt_, ++next_, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }

  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(stmt_); }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    if (p == nullptr) return {};
    return std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }

 private:
  Query& Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }

  sqlite3_stmt* stmt_;
  int next_ = 0;
  int bind_rc_ = SQLITE_OK;
};

// Rolls back an open transaction unless Release() was called after COMMIT, so that every
// early error return leaves the database as it was.
class RollbackGuard {
 public:
  explicit RollbackGuard(sqlite3* db) : db_(db) {}
  RollbackGuard(const RollbackGuard&) = delete;
  RollbackGuard& operator=(const RollbackGuard&) = delete;
  ~RollbackGuard() {
    if (db_ != nullptr) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void Release() { db_ = nullptr; }

 private:
  sqlite3* db_;
};

class SqliteStorage final : public Storage {
 public:
  SqliteStorage(std::string path, DbPtr db) : path_(std::move(path)), db_(std::move(db)) {}

  Expected<StudyRecord> CreateStudy(const std::string& name, const nlohmann::json& spec,
                                    const nlohmann::json& sampler) override {
    StudyRecord study;
    study.name = name;
    study.spec = spec;
    study.sampler = sampler;
    study.created_at = NowSeconds();
    const std::string spec_text = Dump(spec);
    const std::string sampler_text = Dump(sampler);

    std::lock_guard lock(mutex_);
    SYSOPT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    RollbackGuard guard(db_.get());
    {
      auto q = Prepare("SELECT 1 FROM studies WHERE name = ?");
      if (!q.ok()) return q.error();
      int rc = q->Bind(std::string_view(name)).Step();
      if (rc == SQLITE_ROW) {
        return InvalidInput("{}: study '{}' already exists", path_, name);
      }
      if (rc != SQLITE_DONE) return DbError("looking up study '" + name + "'");
    }
    {
      auto q = Prepare("INSERT INTO studies (name, spec, sampler, created_at) VALUES (?, ?, ?, ?)");
      if (!q.ok()) return q.error();
      q->Bind(std::string_view(name))
          .Bind(std::string_view(spec_text))
          .Bind(std::string_view(sampler_text))
          .Bind(study.created_at);
      if (q->Step() != SQLITE_DONE) return DbError("creating study '" + name + "'");
    }
    study.id = sqlite3_last_insert_rowid(db_.get());
    SYSOPT_RETURN_IF_ERROR(Exec("COMMIT"));
    guard.Release();
    return study;
  }

  Expected<std::optional<StudyRecord>> FindStudy(const std::string& name) override {
    std::lock_guard lock(mutex_);
    SYSOPT_RETURN_IF_ERROR(Exec("BEGIN"));
    RollbackGuard guard(db_.get());
    auto studies = ReadStudiesLocked("WHERE name = ?", name);
    if (!studies.ok()) return studies.error();
    SYSOPT_RETURN_IF_ERROR(Exec("COMMIT"));
    guard.Release();
    if (studies->empty()) return std::optional<StudyRecord>();
    return std::optional<StudyRecord>(std::move(studies->front()));
  }

  Expected<std::vector<StudyRecord>> ListStudies() override {
    std::lock_guard lock(mutex_);
    SYSOPT_RETURN_IF_ERROR(Exec("BEGIN"));
    RollbackGuard guard(db_.get());
    auto studies = ReadStudiesLocked("", std::nullopt);
    if (!studies.ok()) return studies.error();
    SYSOPT_RETURN_IF_ERROR(Exec("COMMIT"));
    guard.Release();
    return studies;
  }

  Expected<void> SetStudyAttr(int64_t study_id, const std::string& key,
                              const nlohmann::json& value) override {
    const std::string value_text = Dump(value);
    std::lock_guard lock(mutex_);
    SYSOPT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    RollbackGuard guard(db_.get());
    SYSOPT_RETURN_IF_ERROR(CheckStudyExistsLocked(study_id));
    {
      auto q = Prepare(
          "INSERT INTO study_attrs (study_id, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT (study_id, key) DO UPDATE SET value = excluded.value");
      if (!q.ok()) return q.error();
      q->Bind(study_id).Bind(std::string_view(key)).Bind(std::string_view(value_text));
      if (q->Step() != SQLITE_DONE) {
        return DbError(fmt::format("setting attribute '{}' of study {}", key, study_id));
      }
    }
    SYSOPT_RETURN_IF_ERROR(Exec("COMMIT"));
    guard.Release();
    return Ok();
  }

  Expected<Reservation> ReserveTrial(int64_t study_id, const TrialRequest& request) override {
    TrialRecord trial;
    trial.study_id = study_id;
    trial.state = TrialState::kRunning;
    trial.config = request.config;
    trial.start_time = request.start_time;
    trial.heartbeat = request.start_time;
    trial.worker = request.worker;
    const std::string config_text = Dump(EncodeConfig(request.config));
    const std::string empty_array = "[]";
    const std::string attrs_text = Dump(trial.attrs);

    std::lock_guard lock(mutex_);
    // IMMEDIATE takes the write lock before reading MAX(number), the key and the budget, so two
    // processes cannot both read the same state; the UNIQUE constraints back this up.
    SYSOPT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    RollbackGuard guard(db_.get());
    SYSOPT_RETURN_IF_ERROR(CheckStudyExistsLocked(study_id));
    if (!request.key.empty()) {
      auto q = Prepare("SELECT 1 FROM trials WHERE study_id = ? AND config_key = ?");
      if (!q.ok()) return q.error();
      int rc = q->Bind(study_id).Bind(std::string_view(request.key)).Step();
      if (rc == SQLITE_ROW) return Reservation{ReserveStatus::kTaken, {}};
      if (rc != SQLITE_DONE) return DbError("looking up a reservation key");
    }
    {
      auto q = Prepare("SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?");
      if (!q.ok()) return q.error();
      if (q->Bind(study_id).Step() != SQLITE_ROW) {
        return DbError(fmt::format("numbering a trial of study {}", study_id));
      }
      trial.number = q->Int(0);
    }
    if (request.budget > 0) {
      // The trials holding a place are all of them (numbered 0 to number - 1) but the released
      // ones, which are few: counted through the index without reading every trial of a long
      // study at every reservation.
      auto q = Prepare("SELECT COUNT(*) FROM trials WHERE study_id = ? AND released = 1");
      if (!q.ok()) return q.error();
      if (q->Bind(study_id).Step() != SQLITE_ROW) {
        return DbError(fmt::format("counting trials of study {}", study_id));
      }
      if (trial.number - q->Int(0) >= request.budget) {
        return Reservation{ReserveStatus::kBudgetFull, {}};
      }
    }
    auto revision = NextRevisionLocked(study_id);
    if (!revision.ok()) return revision.error();
    trial.revision = *revision;
    {
      auto q = Prepare(
          "INSERT INTO trials (study_id, number, state, config, objective_values, samples, "
          "failure_reason, stderr_tail, start_time, end_time, worker, attrs, heartbeat, "
          "revision, config_key, released) "
          "VALUES (?, ?, 'RUNNING', ?, ?, ?, '', '', ?, NULL, ?, ?, ?, ?, NULLIF(?, ''), 0)");
      if (!q.ok()) return q.error();
      q->Bind(study_id)
          .Bind(trial.number)
          .Bind(std::string_view(config_text))
          .Bind(std::string_view(empty_array))
          .Bind(std::string_view(empty_array))
          .Bind(request.start_time)
          .Bind(std::string_view(request.worker))
          .Bind(std::string_view(attrs_text))
          .Bind(request.start_time)
          .Bind(trial.revision)
          .Bind(std::string_view(request.key));
      if (q->Step() != SQLITE_DONE) {
        return DbError(fmt::format("creating trial {} of study {}", trial.number, study_id));
      }
    }
    trial.id = sqlite3_last_insert_rowid(db_.get());
    SYSOPT_RETURN_IF_ERROR(Exec("COMMIT"));
    guard.Release();
    return Reservation{ReserveStatus::kCreated, std::move(trial)};
  }

  Expected<void> Heartbeat(const std::vector<int64_t>& trial_ids, double now) override {
    if (trial_ids.empty()) return Ok();
    std::lock_guard lock(mutex_);
    SYSOPT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    RollbackGuard guard(db_.get());
    for (int64_t id : trial_ids) {
      auto q = Prepare("UPDATE trials SET heartbeat = ? WHERE id = ? AND state = 'RUNNING'");
      if (!q.ok()) return q.error();
      if (q->Bind(now).Bind(id).Step() != SQLITE_DONE) {
        return DbError(fmt::format("renewing the heartbeat of trial {}", id));
      }
    }
    SYSOPT_RETURN_IF_ERROR(Exec("COMMIT"));
    guard.Release();
    return Ok();
  }

  Expected<void> FinishTrial(int64_t trial_id, const TrialOutcome& outcome) override {
    if (outcome.state == TrialState::kRunning) {
      return InvalidInput("{}: trial {} cannot be finished as RUNNING", path_, trial_id);
    }
    const std::string values_text = Dump(EncodeReals(outcome.values));
    const std::string samples_text = Dump(EncodeSamples(outcome.samples));
    const std::string attrs_text =
        Dump(outcome.attrs.is_null() ? nlohmann::json::object() : outcome.attrs);

    std::lock_guard lock(mutex_);
    SYSOPT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    RollbackGuard guard(db_.get());
    int64_t study_id = 0;
    {
      auto q = Prepare("SELECT state, study_id FROM trials WHERE id = ?");
      if (!q.ok()) return q.error();
      int rc = q->Bind(trial_id).Step();
      if (rc == SQLITE_DONE) return NotFound("{}: no trial with id {}", path_, trial_id);
      if (rc != SQLITE_ROW) return DbError(fmt::format("reading trial {}", trial_id));
      const std::string state = q->Text(0);
      study_id = q->Int(1);
      if (state != TrialStateName(TrialState::kRunning)) {
        return InvalidInput("{}: trial {} is already {}; a finished trial never changes", path_,
                            trial_id, state);
      }
    }
    auto revision = NextRevisionLocked(study_id);
    if (!revision.ok()) return revision.error();
    {
      auto q = Prepare(
          "UPDATE trials SET state = ?, objective_values = ?, samples = ?, failure_reason = ?, "
          "stderr_tail = ?, end_time = ?, attrs = ?, revision = ?, "
          "config_key = CASE WHEN ? THEN NULL ELSE config_key END, released = ? "
          "WHERE id = ? AND state = 'RUNNING'");
      if (!q.ok()) return q.error();
      q->Bind(TrialStateName(outcome.state))
          .Bind(std::string_view(values_text))
          .Bind(std::string_view(samples_text))
          .Bind(std::string_view(outcome.failure_reason))
          .Bind(std::string_view(outcome.stderr_tail))
          .Bind(outcome.end_time)
          .Bind(std::string_view(attrs_text))
          .Bind(*revision)
          .Bind(int64_t{outcome.release})
          .Bind(int64_t{outcome.release})
          .Bind(trial_id);
      if (q->Step() != SQLITE_DONE) return DbError(fmt::format("finishing trial {}", trial_id));
    }
    SYSOPT_RETURN_IF_ERROR(Exec("COMMIT"));
    guard.Release();
    return Ok();
  }

  Expected<std::vector<TrialRecord>> GetTrials(int64_t study_id) override {
    static const std::string kSql = fmt::format(
        "SELECT {} FROM trials WHERE study_id = ? AND number >= ? ORDER BY number", kTrialColumns);
    return ReadTrials(kSql, study_id, 0);
  }

  Expected<std::vector<TrialRecord>> GetTrialsSince(int64_t study_id,
                                                    int64_t revision) override {
    static const std::string kSql = fmt::format(
        "SELECT {} FROM trials WHERE study_id = ? AND revision > ? ORDER BY revision",
        kTrialColumns);
    return ReadTrials(kSql, study_id, revision);
  }

  Expected<std::vector<TrialRecord>> GetRunningTrials(int64_t study_id) override {
    static const std::string kSql = fmt::format(
        "SELECT {} FROM trials WHERE study_id = ? AND state = 'RUNNING' AND number >= ? "
        "ORDER BY number",
        kTrialColumns);
    return ReadTrials(kSql, study_id, 0);
  }

  Expected<TrialRecord> GetTrial(int64_t trial_id) override {
    std::lock_guard lock(mutex_);
    static const std::string kSql =
        fmt::format("SELECT {} FROM trials WHERE id = ?", kTrialColumns);
    auto q = Prepare(kSql);
    if (!q.ok()) return q.error();
    int rc = q->Bind(trial_id).Step();
    if (rc == SQLITE_DONE) return NotFound("{}: no trial with id {}", path_, trial_id);
    if (rc != SQLITE_ROW) return DbError(fmt::format("reading trial {}", trial_id));
    return ReadTrialRow(*q);
  }

 private:
  // Runs `sql` (a SELECT of kTrialColumns with two parameters: the study id and `arg`) in one
  // read transaction.
  Expected<std::vector<TrialRecord>> ReadTrials(const std::string& sql, int64_t study_id,
                                                int64_t arg) {
    std::lock_guard lock(mutex_);
    SYSOPT_RETURN_IF_ERROR(Exec("BEGIN"));
    RollbackGuard guard(db_.get());
    SYSOPT_RETURN_IF_ERROR(CheckStudyExistsLocked(study_id));
    std::vector<TrialRecord> trials;
    {
      auto q = Prepare(sql);
      if (!q.ok()) return q.error();
      q->Bind(study_id).Bind(arg);
      int rc;
      while ((rc = q->Step()) == SQLITE_ROW) {
        auto trial = ReadTrialRow(*q);
        if (!trial.ok()) return trial.error();
        trials.push_back(std::move(*trial));
      }
      if (rc != SQLITE_DONE) return DbError(fmt::format("reading trials of study {}", study_id));
    }
    SYSOPT_RETURN_IF_ERROR(Exec("COMMIT"));
    guard.Release();
    return trials;
  }

  // The study's next revision, inside the caller's write transaction.
  Expected<int64_t> NextRevisionLocked(int64_t study_id) {
    auto q = Prepare("UPDATE studies SET revision = revision + 1 WHERE id = ? RETURNING revision");
    if (!q.ok()) return q.error();
    if (q->Bind(study_id).Step() != SQLITE_ROW) {
      return DbError(fmt::format("advancing the revision of study {}", study_id));
    }
    return q->Int(0);
  }

  Error DbError(std::string_view what) const {
    return IoError("SQLite database '{}': {} failed: {}", path_, what, sqlite3_errmsg(db_.get()));
  }

  Expected<void> Exec(const char* sql) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return DbError(sql);
    }
    return Ok();
  }

  // Statements are prepared once per connection and kept; the key is the SQL text.
  Expected<Query> Prepare(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size() + 1),
                                  SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      StmtPtr stmt(raw);
      if (rc != SQLITE_OK) return DbError("preparing \"" + sql + "\"");
      it = statements_.emplace(sql, std::move(stmt)).first;
    }
    return Query(it->second.get());
  }

  Expected<void> CheckStudyExistsLocked(int64_t study_id) {
    auto q = Prepare("SELECT 1 FROM studies WHERE id = ?");
    if (!q.ok()) return q.error();
    int rc = q->Bind(study_id).Step();
    if (rc == SQLITE_ROW) return Ok();
    if (rc == SQLITE_DONE) return NotFound("{}: no study with id {}", path_, study_id);
    return DbError(fmt::format("looking up study {}", study_id));
  }

  Expected<nlohmann::json> ParseJson(const std::string& text, std::string_view where) const {
    auto json = sysopt::ParseJson(text);
    if (!json.ok()) {
      return IoError("SQLite database '{}': {} holds invalid JSON ({})", path_, where,
                     json.error().message());
    }
    return json;
  }

  // `where` is "" or a WHERE clause with one text parameter, bound to `arg`.
  Expected<std::vector<StudyRecord>> ReadStudiesLocked(const std::string& where,
                                                       const std::optional<std::string>& arg) {
    std::vector<StudyRecord> studies;
    {
      auto q = Prepare("SELECT id, name, spec, sampler, created_at FROM studies " + where +
                       " ORDER BY id");
      if (!q.ok()) return q.error();
      if (arg) q->Bind(std::string_view(*arg));
      int rc;
      while ((rc = q->Step()) == SQLITE_ROW) {
        StudyRecord s;
        s.id = q->Int(0);
        s.name = q->Text(1);
        auto spec = ParseJson(q->Text(2), fmt::format("spec of study '{}'", s.name));
        if (!spec.ok()) return spec.error();
        s.spec = std::move(*spec);
        auto sampler = ParseJson(q->Text(3), fmt::format("sampler of study '{}'", s.name));
        if (!sampler.ok()) return sampler.error();
        s.sampler = std::move(*sampler);
        s.created_at = q->Real(4);
        studies.push_back(std::move(s));
      }
      if (rc != SQLITE_DONE) return DbError("reading studies");
    }
    for (StudyRecord& s : studies) {
      auto q = Prepare("SELECT key, value FROM study_attrs WHERE study_id = ? ORDER BY key");
      if (!q.ok()) return q.error();
      q->Bind(s.id);
      int rc;
      while ((rc = q->Step()) == SQLITE_ROW) {
        const std::string key = q->Text(0);
        auto value =
            ParseJson(q->Text(1), fmt::format("attribute '{}' of study '{}'", key, s.name));
        if (!value.ok()) return value.error();
        s.attrs[key] = std::move(*value);
      }
      if (rc != SQLITE_DONE) return DbError(fmt::format("reading attributes of study {}", s.id));
    }
    return studies;
  }

  // A row whose columns cannot be decoded is returned with `damage` saying which and why (the
  // raw bytes are not repeated), so that one bad row does not hide the rest of a study.
  Expected<TrialRecord> ReadTrialRow(const Query& q) const {
    TrialRecord t;
    t.id = q.Int(0);
    t.study_id = q.Int(1);
    t.number = q.Int(2);
    DecodeTrialColumns(q.Text(3), q.Text(4), q.Text(5), q.Text(6), q.Text(12), t);
    t.failure_reason = q.Text(7);
    t.stderr_tail = q.Text(8);
    t.start_time = q.Real(9);
    t.end_time = q.IsNull(10) ? 0.0 : q.Real(10);
    t.worker = q.Text(11);
    t.heartbeat = q.IsNull(13) ? t.start_time : q.Real(13);
    t.revision = q.Int(14);
    t.released = q.Int(15) != 0;
    return t;
  }

  const std::string path_;
  std::mutex mutex_;  // One connection, used by one thread at a time.
  DbPtr db_;
  // Declared after db_ so that statements are finalized before the connection closes.
  std::map<std::string, StmtPtr, std::less<>> statements_;
};

Expected<void> ExecOnOpen(sqlite3* db, const std::string& path, const std::string& sql) {
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return IoError("cannot set up SQLite database '{}' ({}): {}", path, sql, sqlite3_errmsg(db));
  }
  return Ok();
}

// Refuses files this build cannot read. version 0 with application id 0 is a new (or foreign)
// database; CreateSchema tells those apart.
Expected<void> CheckSchemaVersion(const std::string& path, int64_t version, int64_t app_id) {
  if (version == 0 && app_id == 0) return Ok();
  if (app_id != kSqliteApplicationId) {
    return InvalidInput(
        "'{}' is a SQLite database of another application (application_id {:#x}, expected "
        "{:#x}); refusing to use it",
        path, app_id, kSqliteApplicationId);
  }
  if (version > kSqliteSchemaVersion) {
    return InvalidInput(
        "'{}' has sysopt schema version {}, newer than version {} that this build reads; use a "
        "newer sysopt",
        path, version, kSqliteSchemaVersion);
  }
  if (version != kSqliteSchemaVersion && version != 1) {
    return InvalidInput("'{}' has unknown sysopt schema version {} (this build reads version {})",
                        path, version, kSqliteSchemaVersion);
  }
  return Ok();
}

// What a file holds, read in one statement and so from one snapshot: another process creating
// the schema meanwhile is seen either not at all or completely, never half (version 0 with the
// application id set, or schema objects without a version).
struct SchemaState {
  int64_t version = 0;
  int64_t app_id = 0;
  int64_t objects = 0;
};

Expected<SchemaState> ReadSchemaState(sqlite3* db, const std::string& path) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db,
                              "SELECT (SELECT user_version FROM pragma_user_version), "
                              "(SELECT application_id FROM pragma_application_id), "
                              "(SELECT COUNT(*) FROM sqlite_master)",
                              -1, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_ROW) {
      return SchemaState{sqlite3_column_int64(stmt.get(), 0), sqlite3_column_int64(stmt.get(), 1),
                         sqlite3_column_int64(stmt.get(), 2)};
    }
  }
  return IoError("cannot read SQLite database '{}': {}", path, sqlite3_errmsg(db));
}

// Refuses a file this build cannot use: another application's, another schema version, or
// one holding tables without a sysopt schema version.
Expected<void> CheckSchemaState(const std::string& path, const SchemaState& state) {
  SYSOPT_RETURN_IF_ERROR(CheckSchemaVersion(path, state.version, state.app_id));
  if (state.version == 0 && state.objects != 0) {
    return InvalidInput(
        "'{}' is a SQLite database without a sysopt schema version (it already holds {} "
        "schema objects); refusing to use it",
        path, state.objects);
  }
  return Ok();
}

Expected<void> CreateSchemaIfMissing(sqlite3* db, const std::string& path) {
  SYSOPT_RETURN_IF_ERROR(ExecOnOpen(db, path, "BEGIN IMMEDIATE"));
  RollbackGuard guard(db);
  // Checked again under the write lock: another process may have created it meanwhile.
  auto state = ReadSchemaState(db, path);
  if (!state.ok()) return state.error();
  SYSOPT_RETURN_IF_ERROR(CheckSchemaState(path, *state));
  if (state->version == kSqliteSchemaVersion) return Ok();  // Guard rolls back.
  if (state->version == 0) {
    for (const char* sql : kSchema) SYSOPT_RETURN_IF_ERROR(ExecOnOpen(db, path, sql));
  }
  // Version 1 (or the tables just made) up to version 2.
  for (const char* sql : kSchemaV2) SYSOPT_RETURN_IF_ERROR(ExecOnOpen(db, path, sql));
  SYSOPT_RETURN_IF_ERROR(
      ExecOnOpen(db, path, fmt::format("PRAGMA application_id = {}", kSqliteApplicationId)));
  SYSOPT_RETURN_IF_ERROR(
      ExecOnOpen(db, path, fmt::format("PRAGMA user_version = {}", kSqliteSchemaVersion)));
  SYSOPT_RETURN_IF_ERROR(ExecOnOpen(db, path, "COMMIT"));
  guard.Release();
  return Ok();
}

}  // namespace

Expected<std::unique_ptr<Storage>> OpenSqliteStorage(const std::string& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: the storage serialises use of its connection with its own mutex.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return IoError("cannot open SQLite database '{}': {}", path,
                   db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);

  // Read-only checks first, so that a foreign or newer file is refused before anything (such as
  // the journal mode) is written to it.
  auto state = ReadSchemaState(db.get(), path);
  if (!state.ok()) return state.error();
  SYSOPT_RETURN_IF_ERROR(CheckSchemaState(path, *state));

  // WAL lets readers proceed while one writer commits, which several tuning processes sharing a
  // file need. In WAL mode synchronous=NORMAL does not fsync on each commit: a committed trial
  // survives the process being killed, but the last commits may be lost on power loss or an OS
  // crash (the file itself stays consistent). That is the durability a resumable study needs.
  {
    sqlite3_stmt* stmt_raw = nullptr;
    rc = sqlite3_prepare_v2(db.get(), "PRAGMA journal_mode = WAL", -1, &stmt_raw, nullptr);
    StmtPtr stmt(stmt_raw);
    // The switch needs the file to itself and SQLite answers SQLITE_BUSY at once, without the
    // busy handler, while another process starting at the same moment reads or switches it:
    // wait for it as the busy timeout would.
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt.get())) == SQLITE_BUSY &&
           std::chrono::steady_clock::now() < give_up) {
      sqlite3_reset(stmt.get());
      rc = SQLITE_OK;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (rc != SQLITE_ROW) {
      return IoError("cannot switch SQLite database '{}' to WAL mode: {}", path,
                     sqlite3_errmsg(db.get()));
    }
    const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
    const std::string_view mode_view = mode ? mode : "";
    if (mode_view != "wal" && mode_view != "memory") {
      return IoError(
          "cannot switch SQLite database '{}' to WAL mode (journal mode stays '{}'); is it on a "
          "file system without shared memory support?",
          path, mode_view);
    }
  }
  SYSOPT_RETURN_IF_ERROR(ExecOnOpen(db.get(), path, "PRAGMA synchronous = NORMAL"));
  SYSOPT_RETURN_IF_ERROR(ExecOnOpen(db.get(), path, "PRAGMA foreign_keys = ON"));
  if (state->version != kSqliteSchemaVersion) {
    SYSOPT_RETURN_IF_ERROR(CreateSchemaIfMissing(db.get(), path));
  }

  return std::unique_ptr<Storage>(std::make_unique<SqliteStorage>(path, std::move(db)));
}

}  // namespace sysopt
