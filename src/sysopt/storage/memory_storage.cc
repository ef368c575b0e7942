#include "sysopt/storage/memory_storage.h"

#include <chrono>
#include <map>
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
    studies_.push_back(Study{study, {}});
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

  Expected<TrialRecord> CreateTrial(int64_t study_id, const Config& config,
                                    const std::string& worker, double start_time) override {
    std::lock_guard lock(mutex_);
    Study* study = FindStudyLocked(study_id);
    if (study == nullptr) return NotFound("memory storage: no study with id {}", study_id);
    TrialRecord trial;
    trial.id = static_cast<int64_t>(trials_.size()) + 1;
    trial.study_id = study_id;
    trial.number = static_cast<int64_t>(study->trial_ids.size());
    trial.state = TrialState::kRunning;
    trial.config = config;
    trial.start_time = start_time;
    trial.worker = worker;
    trials_.push_back(trial);
    study->trial_ids.push_back(trial.id);
    return trial;
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
};

}  // namespace

std::unique_ptr<Storage> MakeMemoryStorage() { return std::make_unique<MemoryStorage>(); }

}  // namespace sysopt
