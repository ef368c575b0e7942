#include "sysopt/storage/postgres_storage.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "sysopt/core/json.h"
#include "sysopt/storage/row_encoding.h"

namespace sysopt {
namespace {

// Any constant would do; all sysopt processes creating the schema take this advisory lock.
constexpr int64_t kSchemaLock = 0x5359534F;

constexpr const char* kSchema[] = {
    "CREATE TABLE sysopt_schema (version INTEGER NOT NULL)",
    R"sql(CREATE TABLE sysopt_studies (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  sampler TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  revision BIGINT NOT NULL DEFAULT 0
))sql",
    R"sql(CREATE TABLE sysopt_study_attrs (
  study_id BIGINT NOT NULL REFERENCES sysopt_studies(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, key)
))sql",
    R"sql(CREATE TABLE sysopt_trials (
  id BIGSERIAL PRIMARY KEY,
  study_id BIGINT NOT NULL REFERENCES sysopt_studies(id),
  number BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('RUNNING', 'COMPLETE', 'FAILED')),
  config TEXT NOT NULL,
  objective_values TEXT NOT NULL,
  samples TEXT NOT NULL,
  failure_reason TEXT NOT NULL,
  stderr_tail TEXT NOT NULL,
  start_time DOUBLE PRECISION NOT NULL,
  end_time DOUBLE PRECISION,
  worker TEXT NOT NULL,
  attrs TEXT NOT NULL,
  heartbeat DOUBLE PRECISION,
  revision BIGINT NOT NULL,
  config_key TEXT,
  released BOOLEAN NOT NULL DEFAULT FALSE,
  UNIQUE (study_id, number)
))sql",
    "CREATE UNIQUE INDEX sysopt_trials_key ON sysopt_trials (study_id, config_key) "
    "WHERE config_key IS NOT NULL",
    "CREATE INDEX sysopt_trials_revision ON sysopt_trials (study_id, revision)",
    "CREATE INDEX sysopt_trials_holding ON sysopt_trials (study_id, released)",
    "CREATE INDEX sysopt_trials_running ON sysopt_trials (study_id, number) "
    "WHERE state = 'RUNNING'",
};

constexpr std::string_view kTrialColumns =
    "id, study_id, number, state, config, objective_values, samples, failure_reason, "
    "stderr_tail, start_time, end_time, worker, attrs, heartbeat, revision, released";

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Shortest text that reads back as the same double (PostgreSQL 12+ prints float8 the same way).
std::string Real(double v) { return fmt::format("{}", v); }
std::string Int(int64_t v) { return std::to_string(v); }

double ParseReal(const char* text) { return std::strtod(text, nullptr); }
int64_t ParseInt(const char* text) { return std::strtoll(text, nullptr, 10); }

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;

// A parameter: a string, or SQL NULL.
using Param = std::optional<std::string>;

// Thrown inside one attempt of a call when the connection is gone; caught by WithRetry only.
struct ConnectionLost {
  std::string message;
};

double RetrySeconds() {
  if (const char* env = std::getenv("SYSOPT_STORAGE_RETRY_S")) {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end != env && v >= 0) return v;
  }
  return kPostgresRetryS;
}

Expected<void> Void(const Expected<bool>& done) {
  if (!done.ok()) return done.error();
  return Ok();
}

std::string Trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class PostgresStorage final : public Storage {
 public:
  PostgresStorage(std::string url, ConnPtr conn)
      : url_(std::move(url)), shown_(RedactStorageUrl(url_)), conn_(std::move(conn)) {}

  Expected<StudyRecord> CreateStudy(const std::string& name, const nlohmann::json& spec,
                                    const nlohmann::json& sampler) override {
    StudyRecord study;
    study.name = name;
    study.spec = spec;
    study.sampler = sampler;
    study.created_at = NowSeconds();
    const std::string spec_text = Dump(spec);
    const std::string sampler_text = Dump(sampler);
    return WithRetry<StudyRecord>("creating study '" + name + "'", [&](bool retried)
                                                                       -> Expected<StudyRecord> {
      Transaction tx(*this);
      auto found = Query("SELECT id, created_at FROM sysopt_studies WHERE name = $1", {name});
      if (!found.ok()) return found.error();
      if (PQntuples(found->get()) > 0) {
        // A retried call whose first commit went through finds its own study.
        if (retried && ParseReal(PQgetvalue(found->get(), 0, 1)) == study.created_at) {
          study.id = ParseInt(PQgetvalue(found->get(), 0, 0));
          return study;
        }
        return InvalidInput("{}: study '{}' already exists", shown_, name);
      }
      auto id = Query(
          "INSERT INTO sysopt_studies (name, spec, sampler, created_at) VALUES ($1, $2, $3, $4) "
          "RETURNING id",
          {name, spec_text, sampler_text, Real(study.created_at)});
      if (!id.ok()) return id.error();
      study.id = ParseInt(PQgetvalue(id->get(), 0, 0));
      SYSOPT_RETURN_IF_ERROR(tx.Commit());
      return study;
    });
  }

  Expected<std::optional<StudyRecord>> FindStudy(const std::string& name) override {
    return WithRetry<std::optional<StudyRecord>>(
        "looking up study '" + name + "'", [&](bool) -> Expected<std::optional<StudyRecord>> {
          auto studies = ReadStudies("WHERE name = $1", {name});
          if (!studies.ok()) return studies.error();
          if (studies->empty()) return std::optional<StudyRecord>();
          return std::optional<StudyRecord>(std::move(studies->front()));
        });
  }

  Expected<std::vector<StudyRecord>> ListStudies() override {
    return WithRetry<std::vector<StudyRecord>>(
        "listing studies", [&](bool) { return ReadStudies("", {}); });
  }

  Expected<void> SetStudyAttr(int64_t study_id, const std::string& key,
                              const nlohmann::json& value) override {
    const std::string value_text = Dump(value);
    return Void(WithRetry<bool>(
               fmt::format("setting attribute '{}' of study {}", key, study_id),
               [&](bool) -> Expected<bool> {
                 Transaction tx(*this);
                 SYSOPT_RETURN_IF_ERROR(LockStudy(study_id));
                 auto done = Query(
                     "INSERT INTO sysopt_study_attrs (study_id, key, value) VALUES ($1, $2, $3) "
                     "ON CONFLICT (study_id, key) DO UPDATE SET value = excluded.value",
                     {Int(study_id), key, value_text});
                 if (!done.ok()) return done.error();
                 SYSOPT_RETURN_IF_ERROR(tx.Commit());
                 return true;
               }));
  }

  Expected<Reservation> ReserveTrial(int64_t study_id, const TrialRequest& request) override {
    const std::string config_text = Dump(EncodeConfig(request.config));
    const std::string start = Real(request.start_time);
    return WithRetry<Reservation>(
        fmt::format("creating a trial of study {}", study_id),
        [&](bool retried) -> Expected<Reservation> {
          Transaction tx(*this);
          auto revision = LockStudy(study_id);
          if (!revision.ok()) return revision.error();
          if (retried) {
            // The first attempt may have committed before the connection broke: its trial is
            // the running one of this worker, configuration and start time.
            auto mine = ReadTrials(
                fmt::format("SELECT {} FROM sysopt_trials WHERE study_id = $1 AND worker = $2 "
                            "AND start_time = $3 AND config = $4 AND state = 'RUNNING'",
                            kTrialColumns),
                {Int(study_id), request.worker, start, config_text});
            if (!mine.ok()) return mine.error();
            if (!mine->empty()) return Reservation{ReserveStatus::kCreated, mine->front()};
          }
          if (!request.key.empty()) {
            auto taken = Query(
                "SELECT 1 FROM sysopt_trials WHERE study_id = $1 AND config_key = $2",
                {Int(study_id), request.key});
            if (!taken.ok()) return taken.error();
            if (PQntuples(taken->get()) > 0) return Reservation{ReserveStatus::kTaken, {}};
          }
          // The trials holding a place are all of them (numbered 0 to number - 1) but the
          // released ones, which are few: counted through the index without reading every
          // trial of a long study at every reservation. The study's row is locked, so the
          // numbers cannot move meanwhile.
          auto counts = Query(
              "SELECT (SELECT COALESCE(MAX(number) + 1, 0) FROM sysopt_trials WHERE study_id = "
              "$1), (SELECT COUNT(*) FROM sysopt_trials WHERE study_id = $1 AND released)",
              {Int(study_id)});
          if (!counts.ok()) return counts.error();
          const int64_t number = ParseInt(PQgetvalue(counts->get(), 0, 0));
          const int64_t released = ParseInt(PQgetvalue(counts->get(), 0, 1));
          if (request.budget > 0 && number - released >= request.budget) {
            return Reservation{ReserveStatus::kBudgetFull, {}};
          }
          auto next = Query(
              "UPDATE sysopt_studies SET revision = revision + 1 WHERE id = $1 RETURNING revision",
              {Int(study_id)});
          if (!next.ok()) return next.error();
          TrialRecord trial;
          trial.study_id = study_id;
          trial.revision = ParseInt(PQgetvalue(next->get(), 0, 0));
          trial.number = number;
          trial.state = TrialState::kRunning;
          trial.config = request.config;
          trial.start_time = request.start_time;
          trial.heartbeat = request.start_time;
          trial.worker = request.worker;
          const Param key = request.key.empty() ? Param() : Param(request.key);
          auto id = Query(
              "INSERT INTO sysopt_trials (study_id, number, state, config, objective_values, "
              "samples, failure_reason, stderr_tail, start_time, end_time, worker, attrs, "
              "heartbeat, revision, config_key, released) VALUES ($1, $2, 'RUNNING', $3, '[]', "
              "'[]', '', '', $4, NULL, $5, '{}', $4, $6, $7, FALSE) RETURNING id",
              {Int(study_id), Int(trial.number), config_text, start, request.worker,
               Int(trial.revision), key});
          if (!id.ok()) return id.error();
          trial.id = ParseInt(PQgetvalue(id->get(), 0, 0));
          SYSOPT_RETURN_IF_ERROR(tx.Commit());
          return Reservation{ReserveStatus::kCreated, std::move(trial)};
        });
  }

  Expected<void> Heartbeat(const std::vector<int64_t>& trial_ids, double now) override {
    if (trial_ids.empty()) return Ok();
    std::string ids = "{";
    for (size_t i = 0; i < trial_ids.size(); ++i) ids += (i ? "," : "") + Int(trial_ids[i]);
    ids += "}";
    return Void(WithRetry<bool>("renewing heartbeats",
                           [&](bool) -> Expected<bool> {
                             auto done = Query(
                                 "UPDATE sysopt_trials SET heartbeat = $1 WHERE id = "
                                 "ANY($2::BIGINT[]) AND state = 'RUNNING'",
                                 {Real(now), ids});
                             if (!done.ok()) return done.error();
                             return true;
                           }));
  }

  Expected<void> FinishTrial(int64_t trial_id, const TrialOutcome& outcome) override {
    if (outcome.state == TrialState::kRunning) {
      return InvalidInput("{}: trial {} cannot be finished as RUNNING", shown_, trial_id);
    }
    const std::string values_text = Dump(EncodeReals(outcome.values));
    const std::string samples_text = Dump(EncodeSamples(outcome.samples));
    const std::string attrs_text =
        Dump(outcome.attrs.is_null() ? nlohmann::json::object() : outcome.attrs);
    const std::string state_name(TrialStateName(outcome.state));
    return Void(WithRetry<bool>(
               fmt::format("finishing trial {}", trial_id),
               [&](bool retried) -> Expected<bool> {
                 Transaction tx(*this);
                 auto row = Query(
                     "SELECT state, study_id, end_time, attrs FROM sysopt_trials WHERE id = $1 "
                     "FOR UPDATE",
                     {Int(trial_id)});
                 if (!row.ok()) return row.error();
                 if (PQntuples(row->get()) == 0) {
                   return NotFound("{}: no trial with id {}", shown_, trial_id);
                 }
                 const std::string state = PQgetvalue(row->get(), 0, 0);
                 if (state != TrialStateName(TrialState::kRunning)) {
                   // A retried call whose first commit went through finds its own outcome.
                   if (retried && state == state_name && !PQgetisnull(row->get(), 0, 2) &&
                       ParseReal(PQgetvalue(row->get(), 0, 2)) == outcome.end_time &&
                       attrs_text == PQgetvalue(row->get(), 0, 3)) {
                     return true;
                   }
                   return InvalidInput("{}: trial {} is already {}; a finished trial never changes",
                                       shown_, trial_id, state);
                 }
                 const std::string study_id = PQgetvalue(row->get(), 0, 1);
                 auto done = Query(
                     "WITH bump AS (UPDATE sysopt_studies SET revision = revision + 1 WHERE "
                     "id = $9 RETURNING revision) "
                     "UPDATE sysopt_trials SET state = $1, objective_values = $2, samples = $3, "
                     "failure_reason = $4, stderr_tail = $5, end_time = $6, attrs = $7, "
                     "revision = (SELECT revision FROM bump), "
                     "config_key = CASE WHEN $8::BOOLEAN THEN NULL ELSE config_key END, "
                     "released = $8::BOOLEAN WHERE id = $10",
                     {state_name, values_text, samples_text, outcome.failure_reason,
                      outcome.stderr_tail, Real(outcome.end_time), attrs_text,
                      outcome.release ? "true" : "false", study_id, Int(trial_id)});
                 if (!done.ok()) return done.error();
                 SYSOPT_RETURN_IF_ERROR(tx.Commit());
                 return true;
               }));
  }

  Expected<std::vector<TrialRecord>> GetTrials(int64_t study_id) override {
    return ReadStudyTrials(study_id, "number >= $2 ORDER BY number", 0);
  }

  Expected<std::vector<TrialRecord>> GetTrialsSince(int64_t study_id,
                                                    int64_t revision) override {
    return ReadStudyTrials(study_id, "revision > $2 ORDER BY revision", revision);
  }

  Expected<std::vector<TrialRecord>> GetRunningTrials(int64_t study_id) override {
    return ReadStudyTrials(study_id, "state = 'RUNNING' AND number >= $2 ORDER BY number", 0);
  }

  Expected<TrialRecord> GetTrial(int64_t trial_id) override {
    return WithRetry<TrialRecord>(
        fmt::format("reading trial {}", trial_id), [&](bool) -> Expected<TrialRecord> {
          auto trials = ReadTrials(
              fmt::format("SELECT {} FROM sysopt_trials WHERE id = $1", kTrialColumns),
              {Int(trial_id)});
          if (!trials.ok()) return trials.error();
          if (trials->empty()) return NotFound("{}: no trial with id {}", shown_, trial_id);
          return std::move(trials->front());
        });
  }

 private:
  // BEGIN on construction, ROLLBACK on destruction unless committed. A broken connection
  // makes the rollback a no-op.
  class Transaction {
   public:
    explicit Transaction(PostgresStorage& s) : s_(s) {
      auto begun = s_.Query("BEGIN", {});
      if (!begun.ok()) throw ConnectionLost{begun.error().message()};
    }
    ~Transaction() {
      if (!done_ && PQstatus(s_.conn_.get()) == CONNECTION_OK) {
        Result(PQexec(s_.conn_.get(), "ROLLBACK"));
      }
    }
    Expected<void> Commit() {
      auto committed = s_.Query("COMMIT", {});
      if (!committed.ok()) return committed.error();
      done_ = true;
      return Ok();
    }

   private:
    PostgresStorage& s_;
    bool done_ = false;
  };

  // Runs `attempt` under the mutex; when the connection is lost, reconnects with backoff and
  // runs it again (with retried = true) until kPostgresRetryS have passed.
  template <typename T>
  Expected<T> WithRetry(const std::string& what, const std::function<Expected<T>(bool)>& attempt) {
    std::lock_guard lock(mutex_);
    const auto give_up = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(RetrySeconds()));
    double backoff_s = 0.1;
    bool retried = false;
    std::string last;
    for (;;) {
      if (PQstatus(conn_.get()) == CONNECTION_OK) {
        try {
          return attempt(retried);
        } catch (const ConnectionLost& lost) {
          last = lost.message;
        }
      } else {
        last = Trimmed(PQerrorMessage(conn_.get()));
      }
      retried = true;
      if (std::chrono::steady_clock::now() >= give_up) break;
      std::this_thread::sleep_for(std::chrono::duration<double>(backoff_s));
      backoff_s = std::min(2.0, backoff_s * 2);
      PQreset(conn_.get());
    }
    return IoError("PostgreSQL database '{}': {} failed: the connection is lost and was retried "
                   "for {:g} s: {}",
                   shown_, what, RetrySeconds(), last);
  }

  // One statement with text parameters. A lost connection throws ConnectionLost (to WithRetry);
  // any other failure is an IoError naming the statement.
  Expected<Result> Query(const std::string& sql, const std::vector<Param>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
    Result r(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    const std::string message = Trimmed(PQerrorMessage(conn_.get()));
    if (PQstatus(conn_.get()) != CONNECTION_OK) throw ConnectionLost{message};
    const char* code = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    // 57P01 admin_shutdown and friends (class 57, 08) arrive before the socket is seen closed.
    if (code != nullptr && (std::string_view(code).starts_with("08") ||
                            std::string_view(code).starts_with("57P"))) {
      throw ConnectionLost{message};
    }
    return IoError("PostgreSQL database '{}': statement \"{}\" failed: {}", shown_,
                   sql.substr(0, 80), message);
  }

  // The study's current revision, its row locked until the transaction ends.
  Expected<int64_t> LockStudy(int64_t study_id) {
    auto r = Query("SELECT revision FROM sysopt_studies WHERE id = $1 FOR UPDATE", {Int(study_id)});
    if (!r.ok()) return r.error();
    if (PQntuples(r->get()) == 0) return NotFound("{}: no study with id {}", shown_, study_id);
    return ParseInt(PQgetvalue(r->get(), 0, 0));
  }

  Expected<std::vector<TrialRecord>> ReadStudyTrials(int64_t study_id, const std::string& where,
                                                     int64_t arg) {
    return WithRetry<std::vector<TrialRecord>>(
        fmt::format("reading trials of study {}", study_id),
        [&](bool) -> Expected<std::vector<TrialRecord>> {
          // One snapshot for the existence check and the rows.
          Transaction tx(*this);
          auto exists = Query("SELECT 1 FROM sysopt_studies WHERE id = $1", {Int(study_id)});
          if (!exists.ok()) return exists.error();
          if (PQntuples(exists->get()) == 0) {
            return NotFound("{}: no study with id {}", shown_, study_id);
          }
          auto trials = ReadTrials(
              fmt::format("SELECT {} FROM sysopt_trials WHERE study_id = $1 AND {}",
                          kTrialColumns, where),
              {Int(study_id), Int(arg)});
          if (!trials.ok()) return trials.error();
          SYSOPT_RETURN_IF_ERROR(tx.Commit());
          return trials;
        });
  }

  Expected<std::vector<TrialRecord>> ReadTrials(const std::string& sql,
                                                const std::vector<Param>& params) {
    auto r = Query(sql, params);
    if (!r.ok()) return r.error();
    PGresult* res = r->get();
    std::vector<TrialRecord> out;
    out.reserve(PQntuples(res));
    for (int i = 0; i < PQntuples(res); ++i) {
      auto text = [&](int col) { return std::string(PQgetvalue(res, i, col)); };
      TrialRecord t;
      t.id = ParseInt(PQgetvalue(res, i, 0));
      t.study_id = ParseInt(PQgetvalue(res, i, 1));
      t.number = ParseInt(PQgetvalue(res, i, 2));
      DecodeTrialColumns(text(3), text(4), text(5), text(6), text(12), t);
      t.failure_reason = text(7);
      t.stderr_tail = text(8);
      t.start_time = ParseReal(PQgetvalue(res, i, 9));
      t.end_time = PQgetisnull(res, i, 10) ? 0.0 : ParseReal(PQgetvalue(res, i, 10));
      t.worker = text(11);
      t.heartbeat = PQgetisnull(res, i, 13) ? t.start_time : ParseReal(PQgetvalue(res, i, 13));
      t.revision = ParseInt(PQgetvalue(res, i, 14));
      t.released = text(15) == "t";
      out.push_back(std::move(t));
    }
    return out;
  }

  Expected<std::vector<StudyRecord>> ReadStudies(const std::string& where,
                                                 const std::vector<Param>& params) {
    Transaction tx(*this);
    auto r = Query(
        "SELECT id, name, spec, sampler, created_at FROM sysopt_studies " + where + " ORDER BY id",
        params);
    if (!r.ok()) return r.error();
    std::vector<StudyRecord> studies;
    for (int i = 0; i < PQntuples(r->get()); ++i) {
      StudyRecord s;
      s.id = ParseInt(PQgetvalue(r->get(), i, 0));
      s.name = PQgetvalue(r->get(), i, 1);
      auto spec = ParseStoredJson(PQgetvalue(r->get(), i, 2), "spec of study '" + s.name + "'");
      if (!spec.ok()) return spec.error();
      s.spec = std::move(*spec);
      auto sampler =
          ParseStoredJson(PQgetvalue(r->get(), i, 3), "sampler of study '" + s.name + "'");
      if (!sampler.ok()) return sampler.error();
      s.sampler = std::move(*sampler);
      s.created_at = ParseReal(PQgetvalue(r->get(), i, 4));
      studies.push_back(std::move(s));
    }
    for (StudyRecord& s : studies) {
      auto a = Query("SELECT key, value FROM sysopt_study_attrs WHERE study_id = $1 ORDER BY key",
                     {Int(s.id)});
      if (!a.ok()) return a.error();
      for (int i = 0; i < PQntuples(a->get()); ++i) {
        const std::string key = PQgetvalue(a->get(), i, 0);
        auto value = ParseStoredJson(PQgetvalue(a->get(), i, 1),
                                     fmt::format("attribute '{}' of study '{}'", key, s.name));
        if (!value.ok()) return value.error();
        s.attrs[key] = std::move(*value);
      }
    }
    SYSOPT_RETURN_IF_ERROR(tx.Commit());
    return studies;
  }

  Expected<nlohmann::json> ParseStoredJson(const std::string& text, const std::string& where) {
    auto json = sysopt::ParseJson(text);
    if (!json.ok()) {
      return IoError("PostgreSQL database '{}': {} holds invalid JSON ({})", shown_, where,
                     json.error().message());
    }
    return json;
  }

  const std::string url_;
  const std::string shown_;  // url_ without its password
  std::mutex mutex_;         // One connection, used by one thread at a time.
  ConnPtr conn_;
};

Expected<void> ExecSetup(PGconn* conn, const std::string& shown, const std::string& sql) {
  Result r(PQexec(conn, sql.c_str()));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Ok();
  return IoError("cannot set up PostgreSQL database '{}' ({}): {}", shown, sql.substr(0, 60),
                 Trimmed(PQerrorMessage(conn)));
}

// Creates the schema when missing, under an advisory lock so that workers starting together
// make it once; refuses a schema of another version.
Expected<void> CheckOrCreateSchema(PGconn* conn, const std::string& shown) {
  SYSOPT_RETURN_IF_ERROR(ExecSetup(conn, shown, "BEGIN"));
  auto rollback = [&] { Result(PQexec(conn, "ROLLBACK")); };
  if (auto locked = ExecSetup(conn, shown, fmt::format("SELECT pg_advisory_xact_lock({})",
                                                       kSchemaLock));
      !locked.ok()) {
    rollback();
    return locked.error();
  }
  Result exists(PQexec(conn, "SELECT to_regclass('sysopt_schema') IS NOT NULL"));
  if (!exists || PQresultStatus(exists.get()) != PGRES_TUPLES_OK) {
    const std::string message = Trimmed(PQerrorMessage(conn));
    rollback();
    return IoError("cannot read PostgreSQL database '{}': {}", shown, message);
  }
  if (std::string_view(PQgetvalue(exists.get(), 0, 0)) == "t") {
    Result version(PQexec(conn, "SELECT version FROM sysopt_schema"));
    rollback();
    if (!version || PQresultStatus(version.get()) != PGRES_TUPLES_OK ||
        PQntuples(version.get()) != 1) {
      return InvalidInput("PostgreSQL database '{}' has a damaged sysopt_schema table", shown);
    }
    const int64_t v = ParseInt(PQgetvalue(version.get(), 0, 0));
    if (v != kPostgresSchemaVersion) {
      return InvalidInput(
          "PostgreSQL database '{}' has sysopt schema version {}, but this build reads version "
          "{}; use a sysopt of that version, or another database",
          shown, v, kPostgresSchemaVersion);
    }
    return Ok();
  }
  for (const char* sql : kSchema) {
    if (auto done = ExecSetup(conn, shown, sql); !done.ok()) {
      rollback();
      return done.error();
    }
  }
  for (const std::string& sql :
       {fmt::format("INSERT INTO sysopt_schema (version) VALUES ({})", kPostgresSchemaVersion),
        std::string("COMMIT")}) {
    if (auto done = ExecSetup(conn, shown, sql); !done.ok()) {
      rollback();
      return done.error();
    }
  }
  return Ok();
}

}  // namespace

Expected<std::unique_ptr<Storage>> OpenPostgresStorage(const std::string& url) {
  const std::string shown = RedactStorageUrl(url);
  // A bad URL makes PQconnectdb report it like a connection failure; both are the user's input.
  ConnPtr conn(PQconnectdb(url.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    return InvalidInput("cannot connect to PostgreSQL database '{}': {}", shown,
                        conn ? Trimmed(PQerrorMessage(conn.get())) : "out of memory");
  }
  // Notices (for example "relation already exists, skipping") are not the user's business.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  SYSOPT_RETURN_IF_ERROR(CheckOrCreateSchema(conn.get(), shown));
  return std::unique_ptr<Storage>(std::make_unique<PostgresStorage>(url, std::move(conn)));
}

}  // namespace sysopt
