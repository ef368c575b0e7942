#include "sysopt/storage/memory_storage.h"

#include <chrono>
#include <algorithm>
#include <map>
#include <set>
#include <mutex>
#include <utility>

namespace sysopt {
namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class MemoryStorage final : public Storage {
 public:
  Expected<StudyRecord> CreateStudy(const std::string& name, const nlohmann::json& spec,
                                    const nlohmann::json& sampler) override {
    std::lock_guard lock(mutex_);
    if (study_by_name_.contains(name)) {
      return InvalidInput("memory storage: study '{}' already exists", name);
    }
    StudyRecord study;
    study.id = static_cast<int64_t>(studies_.size()) + 1;
    study.name = name;
    study.spec = spec;
    study.sampler = sampler;
    study.created_at = NowSeconds();
    studies_.push_back(Study{study, {}, {}, 0, 0});
    study_by_name_.emplace(name, study.id);
    return study;
  }

  Expected<std::optional<StudyRecord>> FindStudy(const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto it = study_by_name_.find(name);
    if (it == study_by_name_.end()) return std::optional<StudyRecord>();
    return std::optional<StudyRecord>(studies_[it->second - 1].record);
  }

  Expected<std::vector<StudyRecord>> ListStudies() override {
    std::lock_guard lock(mutex_);
    std::vector<StudyRecord> out;
    out.reserve(studies_.size());
    for (const Study& s : studies_) out.push_back(s.record);
    return out;
  }

  Expected<void> SetStudyAttr(int64_t study_id, const std::string& key,
                              const nlohmann::json& value) override {
    std::lock_guard lock(mutex_);
    Study* study = FindStudyLocked(study_id);
    if (study == nullptr) return NotFound("memory storage: no study with id {}", study_id);
    study->record.attrs[key] = value;
    return Ok();
  }

  Expected<Reservation> ReserveTrial(int64_t study_id, const TrialRequest& request) override {
    std::lock_guard lock(mutex_);
    Study* study = FindStudyLocked(study_id);
    if (study == nullptr) return NotFound("memory storage: no study with id {}", study_id);
    if (!request.key.empty() && study->keys.contains(request.key)) {
      return Reservation{ReserveStatus::kTaken, {}};
    }
    if (request.budget > 0 && study->holding >= request.budget) {
      return Reservation{ReserveStatus::kBudgetFull, {}};
    }
    TrialRecord trial;
    trial.id = static_cast<int64_t>(trials_.size()) + 1;
    trial.study_id = study_id;
    trial.number = static_cast<int64_t>(study->trial_ids.size());
    trial.state = TrialState::kRunning;
    trial.config = request.config;
    trial.start_time = request.start_time;
    trial.heartbeat = request.start_time;
    trial.worker = request.worker;
    trial.revision = ++study->revision;
    trials_.push_back(trial);
    keys_.push_back(request.key);
    study->trial_ids.push_back(trial.id);
    if (!request.key.empty()) study->keys.insert(request.key);
    ++study->holding;
    return Reservation{ReserveStatus::kCreated, trial};
  }

  Expected<void> Heartbeat(const std::vector<int64_t>& trial_ids, double now) override {
    std::lock_guard lock(mutex_);
    for (int64_t id : trial_ids) {
      TrialRecord* trial = FindTrialLocked(id);
      if (trial != nullptr && trial->state == TrialState::kRunning) trial->heartbeat = now;
    }
    return Ok();
  }

  Expected<void> FinishTrial(int64_t trial_id, const TrialOutcome& outcome) override {
    if (outcome.state == TrialState::kRunning) {
      return InvalidInput("memory storage: trial {} cannot be finished as RUNNING", trial_id);
    }
    std::lock_guard lock(mutex_);
    TrialRecord* trial = FindTrialLocked(trial_id);
    if (trial == nullptr) return NotFound("memory storage: no trial with id {}", trial_id);
    if (trial->state != TrialState::kRunning) {
      return InvalidInput("memory storage: trial {} is already {}; a finished trial never changes",
                          trial_id, TrialStateName(trial->state));
    }
    trial->state = outcome.state;
    trial->values = outcome.values;
    trial->samples = outcome.samples;
    trial->failure_reason = outcome.failure_reason;
    trial->stderr_tail = outcome.stderr_tail;
    trial->end_time = outcome.end_time;
    trial->attrs = outcome.attrs.is_null() ? nlohmann::json::object() : outcome.attrs;
    Study& study = studies_[trial->study_id - 1];
    trial->revision = ++study.revision;
    if (outcome.release) {
      trial->released = true;
      study.keys.erase(keys_[trial_id - 1]);
      keys_[trial_id - 1].clear();
      --study.holding;
    }
    return Ok();
  }

  Expected<std::vector<TrialRecord>> GetTrials(int64_t study_id) override {
    std::lock_guard lock(mutex_);
    const Study* study = FindStudyLocked(study_id);
    if (study == nullptr) return NotFound("memory storage: no study with id {}", study_id);
    std::vector<TrialRecord> out;
    out.reserve(study->trial_ids.size());
    for (int64_t id : study->trial_ids) out.push_back(trials_[id - 1]);
    return out;
  }

  Expected<std::vector<TrialRecord>> GetTrialsSince(int64_t study_id,
                                                    int64_t revision) override {
    std::lock_guard lock(mutex_);
    const Study* study = FindStudyLocked(study_id);
    if (study == nullptr) return NotFound("memory storage: no study with id {}", study_id);
    std::vector<TrialRecord> out;
    for (int64_t id : study->trial_ids) {
      if (trials_[id - 1].revision > revision) out.push_back(trials_[id - 1]);
    }
    std::sort(out.begin(), out.end(),
              [](const TrialRecord& a, const TrialRecord& b) { return a.revision < b.revision; });
    return out;
  }

  Expected<std::vector<TrialRecord>> GetRunningTrials(int64_t study_id) override {
    std::lock_guard lock(mutex_);
    const Study* study = FindStudyLocked(study_id);
    if (study == nullptr) return NotFound("memory storage: no study with id {}", study_id);
    std::vector<TrialRecord> out;
    for (int64_t id : study->trial_ids) {
      if (trials_[id - 1].state == TrialState::kRunning) out.push_back(trials_[id - 1]);
    }
    return out;
  }

  Expected<TrialRecord> GetTrial(int64_t trial_id) override {
    std::lock_guard lock(mutex_);
    const TrialRecord* trial = FindTrialLocked(trial_id);
    if (trial == nullptr) return NotFound("memory storage: no trial with id {}", trial_id);
    return *trial;
  }

 private:
  struct Study {
    StudyRecord record;
    std::vector<int64_t> trial_ids;  // Index = trial number.
    std::set<std::string> keys;      // Reservation keys held.
    int64_t holding = 0;             // Trials holding a budget place.
    int64_t revision = 0;
  };

  Study* FindStudyLocked(int64_t id) {
    if (id < 1 || id > static_cast<int64_t>(studies_.size())) return nullptr;
    return &studies_[id - 1];
  }
  TrialRecord* FindTrialLocked(int64_t id) {
    if (id < 1 || id > static_cast<int64_t>(trials_.size())) return nullptr;
    return &trials_[id - 1];
  }

  std::mutex mutex_;
  std::vector<Study> studies_;  // Study id i is at index i - 1.
  std::map<std::string, int64_t> study_by_name_;
  std::vector<TrialRecord> trials_;  // Trial id i is at index i - 1.
  std::vector<std::string> keys_;    // The reservation key of each trial, "" once released.
};

}  // namespace

std::unique_ptr<Storage> MakeMemoryStorage() { return std::make_unique<MemoryStorage>(); }

}  // namespace sysopt
