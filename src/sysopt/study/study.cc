#include "sysopt/study/study.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <unordered_map>

#include "sysopt/core/json.h"

namespace sysopt {

namespace {

constexpr const char* kInterrupted = "interrupted";

double Now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

// When process `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat); empty
// when it does not exist or /proc cannot tell. With the pid it names one process for good: a
// pid is reused, a (pid, start time) pair is not.
std::string ProcessStartTime(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(in, line)) return "";
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return "";
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  for (int k = 3; k <= 22 && fields >> field; ++k) {
    if (k == 22) return field;
  }
  return "";
}

// A RUNNING trial belongs to a dead process when its worker names this host and a pid that no
// longer exists, or that now belongs to a process started at another time than the recorded
// one. Trials of other hosts are left alone: their owners may still be running.
bool OwnerIsGone(const std::string& worker) {
  const auto first = worker.find(':');
  const auto second = worker.find(':', first + 1);
  if (first == std::string::npos || second == std::string::npos) return true;
  if (worker.substr(0, first) != HostName()) return false;
  // A pid that does not parse names no process that could still be running it.
  pid_t pid = 0;
  const char* begin = worker.data() + first + 1;
  const char* end = worker.data() + second;
  const auto [ptr, ec] = std::from_chars(begin, end, pid);
  if (ec != std::errc() || ptr != end || pid <= 0) return true;
  // "host:pid:index:start"; names written before the start time was recorded have no fourth
  // field and are judged by the pid alone.
  const auto third = worker.find(':', second + 1);
  if (third != std::string::npos) {
    const std::string now = ProcessStartTime(pid);
    if (!now.empty()) return now != worker.substr(third + 1);
  }
  if (pid == getpid()) return false;
  return kill(pid, 0) != 0 && errno == ESRCH;
}

std::string DescribeSpaceDifference(const nlohmann::json& stored, const nlohmann::json& wanted) {
  const auto& sp = stored["parameters"];
  const auto& wp = wanted["parameters"];
  for (size_t i = 0; i < std::max(sp.size(), wp.size()); ++i) {
    if (i >= sp.size()) return fmt::format("parameter {} is new", wp[i].dump());
    if (i >= wp.size()) return fmt::format("stored parameter {} is missing", sp[i].dump());
    if (sp[i] != wp[i]) {
      return fmt::format("parameter {} was {}", wp[i].dump(), sp[i].dump());
    }
  }
  if (stored["constraints"] != wanted["constraints"]) {
    return fmt::format("constraints {} were {}", wanted["constraints"].dump(),
                       stored["constraints"].dump());
  }
  return fmt::format("objectives {} were {}", wanted["objectives"].dump(),
                     stored["objectives"].dump());
}

}  // namespace

bool CountsTowardsBudget(const TrialRecord& t) {
  if (t.state == TrialState::kComplete) return true;
  return t.state == TrialState::kFailed && t.failure_reason != kInterrupted;
}

std::string WorkerName(int index) {
  static const std::string start = ProcessStartTime(getpid());
  if (start.empty()) return fmt::format("{}:{}:{}", HostName(), getpid(), index);
  return fmt::format("{}:{}:{}:{}", HostName(), getpid(), index, start);
}

Study::Study(Storage& storage, StudyRecord record, Spec spec)
    : storage_(storage), record_(std::move(record)), name_(record_.name), spec_(std::move(spec)) {}

Expected<std::unique_ptr<Study>> Study::Open(Storage& storage, const std::string& name,
                                             const Spec& spec, const nlohmann::json& sampler,
                                             ResumeInfo* info) {
  ResumeInfo local;
  if (info == nullptr) info = &local;
  auto found = storage.FindStudy(name);
  if (!found.ok()) return found.error();
  StudyRecord record;
  const nlohmann::json wanted = spec.ToJson();
  bool created_here = false;
  if (!found->has_value()) {
    auto created = storage.CreateStudy(name, wanted, sampler);
    if (created.ok()) {
      record = std::move(*created);
      info->created = created_here = true;
    } else {
      // Another process may have created it since FindStudy: then it is opened like any
      // existing study; otherwise the creation's error stands.
      found = storage.FindStudy(name);
      if (!found.ok() || !found->has_value()) return created.error();
    }
  }
  if (!created_here) {
    record = std::move(**found);
    const auto& stored = record.spec;
    if (stored.value("parameters", nlohmann::json()) != wanted["parameters"] ||
        stored.value("constraints", nlohmann::json()) != wanted["constraints"] ||
        stored.value("objectives", nlohmann::json()) != wanted["objectives"]) {
      return InvalidInput(
          "study '{}' already exists with a different space ({}); resume it with the spec it was "
          "created with, or pick another study name with --study",
          name, DescribeSpaceDifference(stored, wanted));
    }
  }
  std::unique_ptr<Study> study(new Study(storage, std::move(record), spec));
  auto trials = storage.GetTrials(study->record_.id);
  if (!trials.ok()) return trials.error();
  for (auto& t : *trials) {
    // A damaged row is left alone: it is set aside by Reload, not run again.
    if (t.state == TrialState::kRunning && OwnerIsGone(t.worker) && study->WhyUnusable(t).empty()) {
      TrialOutcome outcome;
      outcome.state = TrialState::kFailed;
      outcome.failure_reason = kInterrupted;
      outcome.end_time = Now();
      // Another process resuming at the same moment may win the race; that is fine.
      if (storage.FinishTrial(t.id, outcome).ok()) {
        ++info->interrupted;
        info->to_rerun.push_back(t.config);
      }
    }
  }
  SYSOPT_RETURN_IF_ERROR(study->Reload());
  // Trials a stopped run marked interrupted itself (Ctrl-C, a time limit) run again too, unless
  // their configuration has been run since.
  const auto& history = study->finished_;
  for (size_t i = 0; i < history.size(); ++i) {
    const auto& t = history[i];
    if (t.state != TrialState::kFailed || t.failure_reason != kInterrupted) continue;
    const bool run_since =
        std::any_of(history.begin() + static_cast<std::ptrdiff_t>(i) + 1, history.end(),
                    [&](const TrialRecord& u) { return u.config == t.config; });
    const bool queued =
        std::find(info->to_rerun.begin(), info->to_rerun.end(), t.config) != info->to_rerun.end();
    if (!run_since && !queued) {
      info->to_rerun.push_back(t.config);
      ++info->stopped;
    }
  }
  return study;
}

Expected<std::unique_ptr<Study>> Study::Load(Storage& storage, const std::string& name) {
  auto found = storage.FindStudy(name);
  if (!found.ok()) return found.error();
  if (!found->has_value()) {
    auto all = storage.ListStudies();
    std::string names;
    if (all.ok()) {
      for (const auto& s : *all) names += (names.empty() ? "" : ", ") + s.name;
    }
    return NotFound("no study named '{}' in the storage (studies: {})", name,
                    names.empty() ? "none" : names);
  }
  auto spec = ParseSpec((*found)->spec, fmt::format("study '{}'", name));
  if (!spec.ok()) return spec.error();
  std::unique_ptr<Study> study(new Study(storage, std::move(**found), std::move(*spec)));
  SYSOPT_RETURN_IF_ERROR(study->Reload());
  return study;
}

std::string Study::WhyUnusable(const TrialRecord& t) const {
  if (!t.damage.empty()) return t.damage;
  // Each value must lie in its parameter's domain (samplers read them by type); constraints
  // are not re-checked, so that a measured default outside them stays in the history.
  const Space& space = spec_.space;
  if (t.config.size() != space.size()) {
    return fmt::format("its configuration has {} values for {} parameters", t.config.size(),
                       space.size());
  }
  for (size_t i = 0; i < t.config.size(); ++i) {
    // An inactive conditional parameter holds no value of its domain.
    if (IsInactive(t.config[i]) && !space.parameters()[i].active_if.empty()) continue;
    if (auto checked = space.parameters()[i].Check(t.config[i]); !checked.ok()) {
      return checked.error().message();
    }
  }
  if (t.state == TrialState::kComplete) {
    if (t.values.size() != spec_.objectives.size()) {
      return fmt::format("it holds {} objective values for {} objectives", t.values.size(),
                         spec_.objectives.size());
    }
    for (double v : t.values) {
      if (!std::isfinite(v)) return fmt::format("objective value {} is not finite", v);
    }
  }
  return "";
}

Expected<void> Study::Reload() {
  auto trials = storage_.GetTrials(record_.id);
  if (!trials.ok()) return trials.error();
  std::lock_guard lock(mutex_);
  finished_.clear();
  set_aside_.clear();
  for (auto& t : *trials) {
    // Every sampler and report relies on a history that fits the space.
    if (std::string why = WhyUnusable(t); !why.empty()) {
      set_aside_.push_back({t.number, std::move(why)});
      continue;
    }
    if (t.state != TrialState::kRunning) finished_.push_back(std::move(t));
  }
  return Ok();
}

std::vector<SetAsideTrial> Study::SetAside() const {
  std::lock_guard lock(mutex_);
  return set_aside_;
}

Expected<Trial> Study::Start(const Config& config, const std::string& worker) {
  auto rec = storage_.CreateTrial(record_.id, config, worker, Now());
  if (!rec.ok()) return rec.error();
  Trial trial{rec->id, rec->number, config};
  std::lock_guard lock(mutex_);
  running_.push_back(trial);
  return trial;
}

Expected<TrialRecord> Study::Finish(const Trial& trial, TrialOutcome outcome) {
  if (outcome.end_time == 0) outcome.end_time = Now();
  if (auto stored = storage_.FinishTrial(trial.id, outcome); !stored.ok()) {
    // A full disk must not lose the measurement: the error carries it, and the trial stays
    // RUNNING in the storage, to be run again when the study resumes.
    std::string result = outcome.state == TrialState::kComplete
                             ? fmt::format("values [{}]", fmt::join(outcome.values, ", "))
                             : fmt::format("failed: {}", outcome.failure_reason);
    return Error(stored.error().kind(),
                 fmt::format("trial {} ({}) finished with {} but could not be recorded, and "
                             "will run again on resume: {}",
                             trial.number, JsonExcerpt(spec_.space.ConfigToJson(trial.config), 400),
                             result, stored.error().message()));
  }
  auto rec = storage_.GetTrial(trial.id);
  if (!rec.ok()) return rec.error();
  std::lock_guard lock(mutex_);
  running_.erase(std::remove_if(running_.begin(), running_.end(),
                                [&](const Trial& t) { return t.id == trial.id; }),
                 running_.end());
  // Keep number order even when workers finish out of order.
  auto at = std::upper_bound(finished_.begin(), finished_.end(), rec->number,
                             [](int64_t n, const TrialRecord& t) { return n < t.number; });
  finished_.insert(at, *rec);
  return *rec;
}

std::vector<TrialRecord> Study::Finished() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

std::vector<Config> Study::Pending() const {
  std::lock_guard lock(mutex_);
  std::vector<Config> out;
  for (const auto& t : running_) out.push_back(t.config);
  return out;
}

std::pair<std::vector<TrialRecord>, std::vector<Config>> Study::FinishedAndPending() const {
  std::lock_guard lock(mutex_);
  std::vector<Config> pending;
  for (const auto& t : running_) pending.push_back(t.config);
  return {finished_, std::move(pending)};
}

int Study::BudgetUsed() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count_if(finished_.begin(), finished_.end(), CountsTowardsBudget));
}

std::vector<bool> Study::Directions() const {
  std::vector<bool> out;
  for (const auto& o : spec_.objectives) out.push_back(o.minimize);
  return out;
}

std::optional<TrialRecord> Study::Best() const {
  const bool minimize = spec_.objectives.front().minimize;
  std::lock_guard lock(mutex_);
  // A configuration measured several times (a re-measurement of a noisy incumbent) is judged by
  // the mean of its measurements; its first trial stands for it.
  struct Group {
    const TrialRecord* first = nullptr;
    double sum = 0;
    int count = 0;
  };
  std::unordered_map<size_t, Group> groups;
  std::vector<size_t> order;
  for (const auto& t : finished_) {
    if (t.state != TrialState::kComplete || t.values.empty()) continue;
    const size_t h = HashConfig(t.config);
    auto& g = groups[h];
    if (g.first == nullptr) {
      g.first = &t;
      order.push_back(h);
    }
    g.sum += t.values[0];
    ++g.count;
  }
  std::optional<TrialRecord> best;
  double best_value = 0;
  for (size_t h : order) {
    const Group& g = groups[h];
    const double mean = g.sum / g.count;
    if (!best || (minimize ? mean < best_value : mean > best_value)) {
      best = *g.first;
      best_value = mean;
    }
  }
  if (best && groups[HashConfig(best->config)].count > 1) {
    best->values[0] = best_value;
    best->attrs["measurements"] = groups[HashConfig(best->config)].count;
  }
  return best;
}

std::vector<TrialRecord> Study::ParetoFront() const {
  const auto minimize = Directions();
  std::lock_guard lock(mutex_);
  std::vector<TrialRecord> front;
  for (const auto& t : finished_) {
    if (t.state != TrialState::kComplete) continue;
    bool dominated = false;
    for (const auto& u : finished_) {
      if (u.state == TrialState::kComplete && Dominates(u.values, t.values, minimize)) {
        dominated = true;
        break;
      }
    }
    if (!dominated) front.push_back(t);
  }
  return front;
}

double Study::FrontHypervolume(std::vector<double>* reference) const {
  const auto minimize = Directions();
  auto as_minimised = [&](std::vector<double> v) {
    for (size_t k = 0; k < v.size(); ++k) {
      if (!minimize[k]) v[k] = -v[k];
    }
    return v;
  };
  std::vector<std::vector<double>> all, front;
  for (const auto& t : Finished()) {
    if (t.state == TrialState::kComplete) all.push_back(as_minimised(t.values));
  }
  for (const auto& t : ParetoFront()) front.push_back(as_minimised(t.values));
  std::vector<double> ref =
      reference != nullptr && !reference->empty() ? as_minimised(*reference) : NadirReference(all);
  if (reference != nullptr) *reference = as_minimised(ref);  // back in the objectives' directions
  return ref.empty() ? 0.0 : Hypervolume(front, ref);
}

std::optional<TrialRecord> Study::FirstComplete() const {
  std::lock_guard lock(mutex_);
  for (const auto& t : finished_) {
    if (t.state == TrialState::kComplete) return t;
  }
  return std::nullopt;
}

Expected<OpenedStudy> OpenExistingStudy(const std::string& storage_url, const std::string& name,
                                        std::string_view how_to_name) {
  // The URL is read exactly as OpenStorage reads it ("sqlite:///rel.db" included).
  const std::string path = StorageFilePath(storage_url);
  if (!path.empty() && !std::filesystem::exists(path)) {
    return NotFound("storage file '{}' does not exist (create a study in it first)", path);
  }
  auto storage = OpenStorage(storage_url);
  if (!storage.ok()) return storage.error();
  std::string study_name = name;
  if (study_name.empty()) {
    auto all = (*storage)->ListStudies();
    if (!all.ok()) return all.error();
    if (all->size() != 1) {
      std::string names;
      for (const auto& s : *all) names += (names.empty() ? "" : ", ") + s.name;
      return InvalidInput("storage '{}' holds {} studies ({}); choose one with {}", path,
                          all->size(), names.empty() ? "none" : names, how_to_name);
    }
    study_name = all->front().name;
  }
  auto study = Study::Load(**storage, study_name);
  if (!study.ok()) return study.error();
  return OpenedStudy{std::move(*storage), std::move(*study)};
}

}  // namespace sysopt
