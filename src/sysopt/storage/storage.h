#pragma once
/// \file
/// \brief The Storage interface: where studies and their trials persist, so that a killed run
/// resumes where it stopped.
///
/// The contract is narrow and id-based. A study is created once under a unique name; trials are
/// created RUNNING with the next number of their study and finished exactly once (COMPLETE or
/// FAILED). A finished trial never changes. Every method of every backend is thread-safe, and
/// the SQLite backend is also safe for several processes sharing one file.
///
/// Several processes (on one machine with SQLite, on many with PostgreSQL) may share one study:
/// ReserveTrial creates a trial only when its configuration is not already reserved in the study
/// and the study's budget has room, in one transaction; running trials carry a heartbeat that
/// their worker renews; every change to a trial gives it the study's next revision, so that a
/// reader fetches only what changed since its last read (GetTrialsSince).
///
/// Concrete storages are created by factories: MakeMemoryStorage (memory_storage.h),
/// OpenSqliteStorage (sqlite_storage.h), OpenPostgresStorage (postgres_storage.h), and
/// OpenStorage (here), which picks one from a URL. One conformance suite (tests/storage/) runs
/// over every backend.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sysopt/core/expected.h"
#include "sysopt/core/value.h"

namespace sysopt {

/// \brief Where a trial is in its life: RUNNING until finished, then COMPLETE or FAILED forever.
enum class TrialState { kRunning, kComplete, kFailed };

/// \brief "RUNNING", "COMPLETE" or "FAILED"; ParseTrialState reads it back.
std::string_view TrialStateName(TrialState state);

/// \brief Reads a name written by TrialStateName; InvalidInput for anything else.
Expected<TrialState> ParseTrialState(std::string_view name);

/// \brief A study as stored: its spec and sampler settings verbatim, plus settable attributes
/// (for example the search space's fingerprint).
struct StudyRecord {
  int64_t id = 0;                                   ///< Unique within the storage.
  std::string name;                                 ///< Unique within the storage.
  nlohmann::json spec;                              ///< As given to CreateStudy.
  nlohmann::json sampler;                           ///< As given to CreateStudy.
  double created_at = 0;                            ///< Unix seconds.
  nlohmann::json attrs = nlohmann::json::object();  ///< key -> value, see SetStudyAttr.

  bool operator==(const StudyRecord&) const = default;
};

/// \brief A trial as stored: an immutable snapshot once its state is COMPLETE or FAILED.
struct TrialRecord {
  int64_t id = 0;  ///< Unique across the whole storage (all studies).
  int64_t study_id = 0;
  int64_t number = 0;  ///< 0, 1, 2, ... within the study, in creation order.
  TrialState state = TrialState::kRunning;
  Config config;
  std::vector<double> values;                       ///< One per objective; a FAILED trial has none.
  std::vector<std::vector<double>> samples;         ///< Per repeat, one value per objective.
  std::string failure_reason;                       ///< Why a FAILED trial failed.
  std::string stderr_tail;                          ///< The end of the evaluated command's stderr.
  double start_time = 0;                            ///< Unix seconds.
  double end_time = 0;                              ///< Unix seconds; 0 while RUNNING.
  std::string worker;                               ///< Who ran it, e.g. "host:pid:thread".
  nlohmann::json attrs = nlohmann::json::object();  ///< Extra data, set by FinishTrial.
  /// Unix seconds of the worker's last sign of life (creation, then each Heartbeat).
  double heartbeat = 0;
  /// The study's change counter when this trial last changed (created or finished); grows.
  int64_t revision = 0;
  /// True once the trial gave back its reservation and budget place (TrialOutcome::release).
  bool released = false;
  /// Why the stored row could not be read whole (a damaged file); empty when it was. The
  /// fields that could not be read keep their defaults.
  std::string damage;

  bool operator==(const TrialRecord&) const = default;
};

/// \brief What finishing a trial records.
struct TrialOutcome {
  TrialState state = TrialState::kComplete;  ///< kComplete or kFailed, never kRunning.
  std::vector<double> values;
  std::vector<std::vector<double>> samples;
  std::string failure_reason;
  std::string stderr_tail;
  double end_time = 0;                              ///< Unix seconds.
  nlohmann::json attrs = nlohmann::json::object();  ///< Replaces the trial's attrs; null -> {}.
  /// The trial gives back its reservation key and its place in the budget, so that its
  /// configuration can be reserved again (a trial interrupted before it could measure).
  bool release = false;
};

/// \brief What ReserveTrial is asked to create.
struct TrialRequest {
  Config config;
  std::string worker;
  double start_time = 0;  ///< Unix seconds; also the first heartbeat.
  /// Non-empty: refused (kTaken) while another trial of the study holds the same key and has
  /// not released it. Empty: never refused for its configuration.
  std::string key;
  /// Positive: refused (kBudgetFull) when the study already holds this many trials that have
  /// not released their place (running or finished). 0: no limit.
  int64_t budget = 0;
};

/// \brief How a reservation ended.
enum class ReserveStatus { kCreated, kTaken, kBudgetFull };

/// \brief The answer of ReserveTrial: the new trial when kCreated.
struct Reservation {
  ReserveStatus status = ReserveStatus::kCreated;
  TrialRecord trial;
};

/// \brief Persistent (or in-memory) store of studies and trials.
///
/// Thread safety: every method may be called from any thread at any time; each call is atomic.
/// Call order: CreateStudy (or FindStudy) gives a study id; CreateTrial gives a trial id;
/// FinishTrial is called once per trial id. Errors: an unknown id or name is NotFound; an
/// operation the current state forbids (duplicate study name, finishing a finished trial) is
/// InvalidInput; a failure of the underlying file or database is IoError. A call that fails
/// changes nothing.
class Storage {
 public:
  virtual ~Storage() = default;

  /// \brief Creates a study with a new unique name; InvalidInput if the name exists.
  virtual Expected<StudyRecord> CreateStudy(const std::string& name, const nlohmann::json& spec,
                                            const nlohmann::json& sampler) = 0;

  /// \brief The study with this name, or nullopt when there is none.
  virtual Expected<std::optional<StudyRecord>> FindStudy(const std::string& name) = 0;

  /// \brief All studies, ordered by id (creation order).
  virtual Expected<std::vector<StudyRecord>> ListStudies() = 0;

  /// \brief Sets (inserting or replacing) one attribute of a study; NotFound for an unknown id.
  virtual Expected<void> SetStudyAttr(int64_t study_id, const std::string& key,
                                      const nlohmann::json& value) = 0;

  /// \brief Creates a RUNNING trial with the study's next number, unless its key is taken or
  /// the budget is full (checked and created in one transaction, atomic across processes);
  /// durable when it returns. NotFound for an unknown study.
  virtual Expected<Reservation> ReserveTrial(int64_t study_id, const TrialRequest& request) = 0;

  /// \brief ReserveTrial without a key or a budget: always creates the trial.
  Expected<TrialRecord> CreateTrial(int64_t study_id, const Config& config,
                                    const std::string& worker, double start_time);

  /// \brief Sets the heartbeat of those of `trial_ids` that are still RUNNING to `now`; others
  /// are left alone. Does not change revisions.
  virtual Expected<void> Heartbeat(const std::vector<int64_t>& trial_ids, double now) = 0;

  /// \brief Records the outcome of a RUNNING trial; durable when it returns. NotFound for an
  /// unknown id; InvalidInput when the trial is already finished (it is left unchanged) or the
  /// outcome's state is kRunning.
  virtual Expected<void> FinishTrial(int64_t trial_id, const TrialOutcome& outcome) = 0;

  /// \brief All trials of a study ordered by number; NotFound for an unknown study.
  virtual Expected<std::vector<TrialRecord>> GetTrials(int64_t study_id) = 0;

  /// \brief Trials of a study whose revision is greater than `revision`, ordered by revision;
  /// GetTrialsSince(id, 0) is every trial. NotFound for an unknown study.
  virtual Expected<std::vector<TrialRecord>> GetTrialsSince(int64_t study_id,
                                                            int64_t revision) = 0;

  /// \brief RUNNING trials of a study, ordered by number; NotFound for an unknown study.
  virtual Expected<std::vector<TrialRecord>> GetRunningTrials(int64_t study_id) = 0;

  /// \brief One trial; NotFound for an unknown id.
  virtual Expected<TrialRecord> GetTrial(int64_t trial_id) = 0;
};

/// \brief A storage kept in this process's memory only (see memory_storage.h).
std::unique_ptr<Storage> MakeMemoryStorage();

/// \brief Opens, creating if needed, a SQLite database file (see sqlite_storage.h).
Expected<std::unique_ptr<Storage>> OpenSqliteStorage(const std::string& path);

/// \brief Opens a PostgreSQL database from a libpq connection URL (see postgres_storage.h).
Expected<std::unique_ptr<Storage>> OpenPostgresStorage(const std::string& url);

/// \brief Which backend a storage URL names.
enum class StorageKind { kMemory, kSqlite, kPostgres };

/// \brief A storage URL as read by OpenStorage.
struct StorageUrl {
  StorageKind kind = StorageKind::kSqlite;
  std::string location;  ///< The SQLite file path, or the PostgreSQL URL; "" for memory.
};

/// \brief Reads a storage URL: "memory" or ":memory:" name a memory storage;
/// "postgresql://..." or "postgres://..." a PostgreSQL database; anything else a SQLite file
/// path, optionally prefixed by "sqlite:" ("sqlite:///rel.db" and "sqlite:////abs.db" as in
/// SQLAlchemy URLs are accepted too).
StorageUrl ParseStorageUrl(const std::string& url);

/// \brief Opens a storage from a URL read by ParseStorageUrl. InvalidInput for an empty path.
Expected<std::unique_ptr<Storage>> OpenStorage(const std::string& url);

/// \brief The SQLite file a storage URL names, read as OpenStorage reads it; "" for a memory
/// storage, a PostgreSQL URL and a URL that names no file.
std::string StorageFilePath(const std::string& url);

/// \brief The URL with any password replaced by "***", for messages and summaries.
std::string RedactStorageUrl(const std::string& url);

}  // namespace sysopt
