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
#include "sysopt/core/log.h"

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

std::string ConfigKey(const Space& space, const Config& config) {
  const std::string text = space.ConfigToJson(config).dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace);
  // Short keys are the configuration itself (readable in the database); long ones (index
  // limits) two independent 64-bit FNV-1a hashes of it.
  if (text.size() <= 200) return text;
  uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
  for (unsigned char c : text) a = (a ^ c) * 0x100000001b3ULL;
  for (auto it = text.rbegin(); it != text.rend(); ++it) {
    b = (b ^ static_cast<unsigned char>(*it)) * 0x100000001b3ULL;
  }
  return fmt::format("fnv:{:016x}{:016x}:{}", a, b, text.size());
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
  SYSOPT_RETURN_IF_ERROR(study->Reload());
  // Trials left running by processes that are gone (dead on this host, or silent for the grace
  // period on any host) are interrupted and run again first.
  auto reclaimed = study->ReclaimGone();
  if (!reclaimed.ok()) return reclaimed.error();
  info->interrupted = static_cast<int>(reclaimed->size());
  for (auto& c : *reclaimed) info->to_rerun.push_back(std::move(c));
  {
    auto changed = storage.GetTrialsSince(study->record_.id, study->revision_);
    if (!changed.ok()) return changed.error();
    std::lock_guard lock(study->mutex_);
    study->AbsorbLocked(std::move(*changed), nullptr, /*read_all=*/true);
  }
  // Trials a stopped run marked interrupted itself (Ctrl-C, a time limit) run again too, unless
  // their configuration has been run since.
  const auto& history = *study->finished_;
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
  MutableFinished().clear();
  finished_ids_.clear();
  running_all_.clear();
  set_aside_.clear();
  set_aside_ids_.clear();
  set_aside_holding_ = 0;
  budget_used_ = 0;
  revision_ = 0;
  for (const Trial& t : running_) {
    // This object's own trials stay pending whatever the read shows.
    running_all_[t.id] = TrialRecord{.id = t.id, .number = t.number, .config = t.config};
  }
  AbsorbLocked(std::move(*trials), nullptr, /*read_all=*/true);
  return Ok();
}

void Study::AbsorbLocked(std::vector<TrialRecord> trials, std::vector<Config>* interrupted,
                         bool read_all) {
  for (auto& t : trials) {
    // Only a read of every change up to a revision moves the mark: a trial of this process
    // read alone may be newer than another process's change not read yet.
    if (read_all) revision_ = std::max(revision_, t.revision);
    // Every sampler and report relies on a history that fits the space.
    if (std::string why = WhyUnusable(t); !why.empty()) {
      running_all_.erase(t.id);
      if (set_aside_ids_.insert(t.id).second) {
        // It holds a budget place in the storage that the history does not count.
        if (!t.released) ++set_aside_holding_;
        auto at = std::upper_bound(
            set_aside_.begin(), set_aside_.end(), t.number,
            [](int64_t n, const SetAsideTrial& s) { return n < s.number; });
        set_aside_.insert(at, {t.number, std::move(why)});
      }
      continue;
    }
    if (t.state == TrialState::kRunning) {
      if (!finished_ids_.contains(t.id)) running_all_[t.id] = std::move(t);
      continue;
    }
    running_all_.erase(t.id);
    if (!finished_ids_.insert(t.id).second) continue;
    if (CountsTowardsBudget(t)) ++budget_used_;
    if (interrupted != nullptr && t.released && t.failure_reason == kInterrupted) {
      interrupted->push_back(t.config);
    }
    // Keep number order even when trials finish out of order.
    auto& finished = MutableFinished();
    auto at = std::upper_bound(finished.begin(), finished.end(), t.number,
                               [](int64_t n, const TrialRecord& u) { return n < u.number; });
    finished.insert(at, std::move(t));
  }
}

Expected<std::vector<Config>> Study::ReclaimGone() {
  std::vector<TrialRecord> gone;
  {
    std::lock_guard lock(mutex_);
    const double stale = Now() - grace_s_;
    for (const auto& [trial_id, t] : running_all_) {
      const int64_t id = trial_id;  // a structured binding cannot be captured before C++20
      const bool mine = std::any_of(running_.begin(), running_.end(),
                                    [&](const Trial& r) { return r.id == id; });
      if (mine) continue;
      if (t.heartbeat < stale || OwnerIsGone(t.worker)) gone.push_back(t);
    }
  }
  std::vector<Config> out;
  for (const TrialRecord& t : gone) {
    TrialOutcome outcome;
    outcome.state = TrialState::kFailed;
    outcome.failure_reason = kInterrupted;
    outcome.end_time = Now();
    outcome.release = true;
    outcome.attrs = {{"interrupted_by", "heartbeat"}};
    // Another process may win the race to mark it; that is fine.
    if (storage_.FinishTrial(t.id, outcome).ok()) out.push_back(t.config);
  }
  return out;
}

Expected<std::vector<Config>> Study::Refresh() {
  std::vector<Config> interrupted;
  auto read = [&]() -> Expected<void> {
    int64_t since = 0;
    {
      std::lock_guard lock(mutex_);
      since = revision_;
    }
    auto changed = storage_.GetTrialsSince(record_.id, since);
    if (!changed.ok()) return changed.error();
    std::lock_guard lock(mutex_);
    AbsorbLocked(std::move(*changed), &interrupted, /*read_all=*/true);
    return Ok();
  };
  SYSOPT_RETURN_IF_ERROR(read());
  auto reclaimed = ReclaimGone();
  if (!reclaimed.ok()) return reclaimed.error();
  if (!reclaimed->empty()) SYSOPT_RETURN_IF_ERROR(read());
  return interrupted;
}

Expected<void> Study::Beat() {
  std::vector<int64_t> ids;
  {
    std::lock_guard lock(mutex_);
    for (const Trial& t : running_) ids.push_back(t.id);
  }
  return storage_.Heartbeat(ids, Now());
}

void Study::SetHeartbeatGrace(double seconds) {
  std::lock_guard lock(mutex_);
  grace_s_ = seconds;
}

double Study::heartbeat_grace() const {
  std::lock_guard lock(mutex_);
  return grace_s_;
}

int Study::RunningCount() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(running_all_.size());
}

std::optional<int64_t> Study::FirstCompleteOf(const Config& config) const {
  std::lock_guard lock(mutex_);
  for (const auto& t : *finished_) {
    if (t.state == TrialState::kComplete && t.config == config) return t.number;
  }
  return std::nullopt;
}

std::optional<TrialState> Study::FinishedState(int64_t number) const {
  std::lock_guard lock(mutex_);
  auto at = std::lower_bound(finished_->begin(), finished_->end(), number,
                             [](const TrialRecord& t, int64_t n) { return t.number < n; });
  if (at == finished_->end() || at->number != number) return std::nullopt;
  return at->state;
}

int Study::Measurements(const Config& config) const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count_if(finished_->begin(), finished_->end(), [&](const auto& t) {
    return t.state == TrialState::kComplete && t.config == config;
  }));
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
  running_all_[rec->id] = std::move(*rec);
  return trial;
}

Expected<Reserved> Study::Reserve(const Config& config, const std::string& worker,
                                  int measurement, int budget) {
  int holding_aside = 0;
  {
    std::lock_guard lock(mutex_);
    holding_aside = set_aside_holding_;
  }
  // The storage counts the rows set aside here too.
  TrialRequest request{config, worker, Now(), ConfigKey(spec_.space, config),
                       budget > 0 ? budget + holding_aside : 0};
  if (measurement > 0) request.key += fmt::format("#{}", measurement);
  auto reserved = storage_.ReserveTrial(record_.id, request);
  if (!reserved.ok()) return reserved.error();
  Reserved out{reserved->status, {}};
  if (reserved->status != ReserveStatus::kCreated) return out;
  out.trial = Trial{reserved->trial.id, reserved->trial.number, config};
  std::lock_guard lock(mutex_);
  running_.push_back(out.trial);
  running_all_[reserved->trial.id] = std::move(reserved->trial);
  return out;
}

Expected<TrialRecord> Study::Finish(const Trial& trial, TrialOutcome outcome) {
  if (outcome.end_time == 0) outcome.end_time = Now();
  if (outcome.state == TrialState::kFailed && outcome.failure_reason == kInterrupted) {
    outcome.release = true;  // run again, by this process or another
  }
  auto forget = [&] {
    running_.erase(std::remove_if(running_.begin(), running_.end(),
                                  [&](const Trial& t) { return t.id == trial.id; }),
                   running_.end());
    running_all_.erase(trial.id);
  };
  if (auto stored = storage_.FinishTrial(trial.id, outcome); !stored.ok()) {
    // Another worker took this one for dead (its heartbeat came too late) and gave its
    // configuration back: the result is dropped and the configuration runs again.
    if (stored.error().kind() == ErrorKind::kInvalidInput) {
      auto now = storage_.GetTrial(trial.id);
      if (now.ok() && now->state == TrialState::kFailed && now->released) {
        Log(LogLevel::kWarning,
            fmt::format("trial {} was marked interrupted by another worker while it ran (its "
                        "heartbeat was late); its result is dropped and its configuration is "
                        "offered again",
                        trial.number));
        std::lock_guard lock(mutex_);
        forget();
        std::vector<TrialRecord> one{*now};
        AbsorbLocked(std::move(one), nullptr, /*read_all=*/false);
        return *now;
      }
    }
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
  forget();
  std::vector<TrialRecord> one{*rec};
  AbsorbLocked(std::move(one), nullptr, /*read_all=*/false);
  return *rec;
}

std::vector<TrialRecord>& Study::MutableFinished() {
  if (finished_.use_count() > 1) finished_ = std::make_shared<std::vector<TrialRecord>>(*finished_);
  return *finished_;
}

std::vector<TrialRecord> Study::Finished() const {
  std::lock_guard lock(mutex_);
  return *finished_;
}

std::vector<Config> Study::Pending() const {
  std::lock_guard lock(mutex_);
  std::vector<Config> out;
  for (const auto& [id, t] : running_all_) out.push_back(t.config);
  return out;
}

std::pair<std::shared_ptr<const std::vector<TrialRecord>>, std::vector<Config>>
Study::FinishedAndPending() const {
  std::lock_guard lock(mutex_);
  std::vector<Config> pending;
  for (const auto& [id, t] : running_all_) pending.push_back(t.config);
  return {finished_, std::move(pending)};
}

int Study::BudgetUsed() const {
  std::lock_guard lock(mutex_);
  return budget_used_;
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
  for (const auto& t : *finished_) {
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
  for (const auto& t : *finished_) {
    if (t.state != TrialState::kComplete) continue;
    bool dominated = false;
    for (const auto& u : *finished_) {
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
  for (const auto& t : *finished_) {
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
      return InvalidInput("storage '{}' holds {} studies ({}); choose one with {}",
                          RedactStorageUrl(storage_url), all->size(),
                          names.empty() ? "none" : names, how_to_name);
    }
    study_name = all->front().name;
  }
  auto study = Study::Load(**storage, study_name);
  if (!study.ok()) return study.error();
  return OpenedStudy{std::move(*storage), std::move(*study)};
}

}  // namespace sysopt
