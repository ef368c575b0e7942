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
/// Concrete storages are created by factories: MakeMemoryStorage (memory_storage.h),
/// OpenSqliteStorage (sqlite_storage.h), and OpenStorage (here), which picks one from a URL.
/// One conformance suite (tests/storage/) runs over every backend.

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

  /// \brief Creates a RUNNING trial with the study's next number (atomic, also across
  /// processes sharing a file); durable when it returns. NotFound for an unknown study.
  virtual Expected<TrialRecord> CreateTrial(int64_t study_id, const Config& config,
                                            const std::string& worker, double start_time) = 0;

  /// \brief Records the outcome of a RUNNING trial; durable when it returns. NotFound for an
  /// unknown id; InvalidInput when the trial is already finished (it is left unchanged) or the
  /// outcome's state is kRunning.
  virtual Expected<void> FinishTrial(int64_t trial_id, const TrialOutcome& outcome) = 0;

  /// \brief All trials of a study ordered by number; NotFound for an unknown study.
  virtual Expected<std::vector<TrialRecord>> GetTrials(int64_t study_id) = 0;

  /// \brief One trial; NotFound for an unknown id.
  virtual Expected<TrialRecord> GetTrial(int64_t trial_id) = 0;
};

/// \brief A storage kept in this process's memory only (see memory_storage.h).
std::unique_ptr<Storage> MakeMemoryStorage();

/// \brief Opens, creating if needed, a SQLite database file (see sqlite_storage.h).
Expected<std::unique_ptr<Storage>> OpenSqliteStorage(const std::string& path);

/// \brief Opens a storage from a URL: "memory" or ":memory:" give a memory storage; anything
/// else is a SQLite file path, optionally prefixed by "sqlite:" ("sqlite:///rel.db" and
/// "sqlite:////abs.db" as in SQLAlchemy URLs are accepted too). InvalidInput for an empty path.
Expected<std::unique_ptr<Storage>> OpenStorage(const std::string& url);

/// \brief The SQLite file a storage URL names, read as OpenStorage reads it; "" for a memory
/// storage and for a URL that names no file.
std::string StorageFilePath(const std::string& url);

}  // namespace sysopt
