#pragma once
/// \brief A study: one tuning problem (its spec) and every trial run on it, kept in a Storage so
/// that a killed run can be resumed. The study also answers the questions asked of its history:
/// the best trial, the Pareto front, how many trials count towards the budget.
///
/// Several processes may share one study through one storage (SQLite on one machine, PostgreSQL
/// on many): Refresh reads what the others did since the last read, Reserve creates a trial only
/// for a configuration nobody else holds and while the study's budget has room, Beat renews the
/// heartbeat of this process's running trials, and trials whose worker is gone (its heartbeat
/// older than the grace period, or its process dead on this host) are marked FAILED
/// "interrupted", giving their configuration back.
///
/// Thread safety: every method may be called from several threads (the tuner's workers); the
/// in-memory history is guarded by a mutex and the storage is itself thread-safe.

#include <map>
#include <memory>
#include <unordered_set>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/space/spec.h"
#include "sysopt/storage/storage.h"
#include "sysopt/study/pareto.h"

namespace sysopt {

/// \brief What resuming a stored study found.
struct ResumeInfo {
  bool created = false;  ///< True when the study did not exist before.
  int interrupted = 0;   ///< RUNNING trials of dead processes now marked failed.
  int stopped = 0;  ///< Trials an earlier run stopped itself (FAILED "interrupted"), not yet rerun.
  std::vector<Config> to_rerun;  ///< Both kinds' configurations, to be proposed again first.
};

/// \brief A stored trial that cannot be used (a damaged row, a configuration outside the space,
/// values that do not match the objectives): it is kept out of the history, and named here.
struct SetAsideTrial {
  int64_t number = 0;
  std::string reason;
};

/// \brief A trial in flight: created in storage as RUNNING, not yet finished.
struct Trial {
  int64_t id = 0;
  int64_t number = 0;
  Config config;
};

/// \brief What Study::Reserve did: the trial when status is kCreated.
struct Reserved {
  ReserveStatus status = ReserveStatus::kCreated;
  Trial trial;
};

/// \brief Seconds after its last heartbeat that a running trial of another worker is taken for
/// dead, unless Study::SetHeartbeatGrace says otherwise.
inline constexpr double kDefaultHeartbeatGraceS = 60;

/// \brief The reservation key of a configuration: equal configurations, equal keys.
std::string ConfigKey(const Space& space, const Config& config);

/// \brief True for finished trials that count towards a budget: COMPLETE, or FAILED for a reason
/// of their own (not "interrupted", which is re-proposed instead).
bool CountsTowardsBudget(const TrialRecord& trial);

class Study {
 public:
  /// \brief Opens the named study, creating it from `spec` if absent. A stored study whose space
  /// or objectives differ from `spec` is refused with a message naming the difference. RUNNING
  /// trials left by processes that are gone are marked FAILED ("interrupted") and reported in
  /// `info` so they can be run again.
  static Expected<std::unique_ptr<Study>> Open(Storage& storage, const std::string& name,
                                               const Spec& spec, const nlohmann::json& sampler,
                                               ResumeInfo* info);

  /// \brief Loads an existing study and its spec from storage (for reading commands).
  static Expected<std::unique_ptr<Study>> Load(Storage& storage, const std::string& name);

  const std::string& name() const { return name_; }
  const Spec& spec() const { return spec_; }
  const Space& space() const { return spec_.space; }
  const StudyRecord& record() const { return record_; }

  /// \brief Records a new RUNNING trial durably and returns it (no reservation, no budget: for
  /// deliberate re-measurements).
  Expected<Trial> Start(const Config& config, const std::string& worker);

  /// \brief Records a new RUNNING trial unless another trial of the study holds the same
  /// configuration (kTaken; a configuration measured `measurement` times before is reserved as
  /// its next measurement, so deliberate re-measurements are possible too) or the study already
  /// holds `budget` trials running or counting towards it (kBudgetFull; 0: no limit).
  Expected<Reserved> Reserve(const Config& config, const std::string& worker, int measurement,
                             int budget);

  /// \brief Reads the trials other processes created or finished since the last read, and
  /// marks FAILED "interrupted" the running trials of workers that are gone. Returns the
  /// configurations of trials newly seen interrupted, to be offered again.
  Expected<std::vector<Config>> Refresh();

  /// \brief Renews the heartbeat of this object's running trials.
  Expected<void> Beat();

  /// \brief Seconds without a heartbeat after which another worker's trial is taken for dead.
  void SetHeartbeatGrace(double seconds);
  double heartbeat_grace() const;

  /// \brief Trials running in the study now, in every process, as last read.
  int RunningCount() const;

  /// \brief The number of the first COMPLETE trial of `config`, if any.
  std::optional<int64_t> FirstCompleteOf(const Config& config) const;

  /// \brief How many COMPLETE trials measured `config`.
  int Measurements(const Config& config) const;
  /// \brief The state of finished trial `number`, or nothing while it is not finished.
  std::optional<TrialState> FinishedState(int64_t number) const;

  /// \brief Records the outcome of a trial durably; the finished record is returned. When the
  /// storage cannot record it (a full disk), the error names the trial, its configuration and
  /// its result, and the trial stays RUNNING there, to be run again on resume.
  Expected<TrialRecord> Finish(const Trial& trial, TrialOutcome outcome);

  /// \brief Finished trials (COMPLETE and FAILED), in number order.
  std::vector<TrialRecord> Finished() const;

  /// \brief Configurations currently RUNNING, in this process and (as last read) in others.
  std::vector<Config> Pending() const;

  /// \brief Finished() and Pending() read at one instant, so that a trial finishing meanwhile
  /// is in exactly one of them (separate calls may miss it in both, and a sampler would then
  /// propose it again).
  std::pair<std::shared_ptr<const std::vector<TrialRecord>>, std::vector<Config>>
  FinishedAndPending() const;

  /// \brief Number of finished trials that count towards the budget.
  int BudgetUsed() const;

  /// \brief The best COMPLETE trial by the first objective (ties: the earlier one). A
  /// configuration measured more than once is judged by the mean of its measurements, which the
  /// returned record then carries (with attrs["measurements"] = their number).
  std::optional<TrialRecord> Best() const;

  /// \brief COMPLETE trials not dominated by any other, in number order.
  std::vector<TrialRecord> ParetoFront() const;

  /// \brief Hypervolume of the Pareto front in minimisation terms (maximised objectives
  /// negated), against `reference` given in the objectives' own directions; with an empty
  /// reference, NadirReference of the completed trials. Returns the reference used too.
  double FrontHypervolume(std::vector<double>* reference) const;

  /// \brief The first COMPLETE trial (the default configuration when the space declares one).
  std::optional<TrialRecord> FirstComplete() const;

  /// \brief Per objective, true when it is minimised.
  std::vector<bool> Directions() const;

  /// \brief Stored trials left out of the history because they cannot be used, in number order.
  std::vector<SetAsideTrial> SetAside() const;

 private:
  Study(Storage& storage, StudyRecord record, Spec spec);
  Expected<void> Reload();
  /// Takes in trials read from storage (caller holds mutex_); appends to `interrupted` the
  /// configurations of those newly seen finished as released. `read_all`: the trials are every
  /// change since revision_ (GetTrials or GetTrialsSince), so revision_ may advance past them.
  void AbsorbLocked(std::vector<TrialRecord> trials, std::vector<Config>* interrupted,
                    bool read_all);
  /// Marks the running trials of gone workers interrupted; returns how many it marked.
  Expected<std::vector<Config>> ReclaimGone();
  /// Why a stored trial cannot be used; empty when it can.
  std::string WhyUnusable(const TrialRecord& trial) const;

  Storage& storage_;
  StudyRecord record_;
  std::string name_;
  Spec spec_;
  mutable std::mutex mutex_;
  // Shared with the snapshots handed out by FinishedAndPending and copied only when a snapshot
  // is still held at a change (copy on write): a sampler reading the history at every proposal
  // does not copy a long history each time.
  std::shared_ptr<std::vector<TrialRecord>> finished_ = std::make_shared<std::vector<TrialRecord>>();
  std::vector<TrialRecord>& MutableFinished();
  std::unordered_set<int64_t> finished_ids_;
  std::vector<Trial> running_;                  // this object's own
  std::map<int64_t, TrialRecord> running_all_;  // every process's, by id, as last read
  std::vector<SetAsideTrial> set_aside_;
  std::unordered_set<int64_t> set_aside_ids_;
  int64_t revision_ = 0;
  int budget_used_ = 0;
  int set_aside_holding_ = 0;  // rows set aside that hold a budget place in the storage
  double grace_s_ = kDefaultHeartbeatGraceS;
};

/// \brief A storage and a study loaded from it.
struct OpenedStudy {
  std::unique_ptr<Storage> storage;
  std::unique_ptr<Study> study;
};

/// \brief Opens `storage_url` (which must exist, unless it is "memory") and loads the named
/// study; with an empty name, the only study in the storage (InvalidInput naming them when it
/// holds several or none, saying to choose one with `how_to_name`, e.g. "--study").
Expected<OpenedStudy> OpenExistingStudy(const std::string& storage_url, const std::string& name,
                                        std::string_view how_to_name);

/// \brief This process's worker name for thread `index`: "host:pid:index:start", where start is
/// the process's start time from /proc/PID/stat (omitted where /proc cannot tell), so that a
/// later process that reuses the pid is not taken for this one.
std::string WorkerName(int index);

}  // namespace sysopt
