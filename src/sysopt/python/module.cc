// The Python module sysopt (imported as sysopt._core; sysopt/__init__.py re-exports it): a thin
// layer over the spec parser, the study, the samplers, the tuner and the memory planner. Every
// call into the engine runs with the GIL released, so Python threads and the objective overlap
// with it; the objective itself is called with the GIL held.
#include <fmt/ranges.h>
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sysopt/core/json.h"
#include "sysopt/remat/graph.h"
#include "sysopt/remat/planner.h"
#include "sysopt/remat/schedule.h"
#include "sysopt/report/export.h"
#include "sysopt/runner/cancellation.h"
#include "sysopt/runner/function_runner.h"
#include "sysopt/sampler/sampler.h"
#include "sysopt/space/spec.h"
#include "sysopt/storage/storage.h"
#include "sysopt/study/study.h"
#include "sysopt/tuner/tuner.h"

namespace py = pybind11;
using nlohmann::json;

namespace sysopt::python {
namespace {

// ---------------------------------------------------------------------------------------------
// Errors: the engine's message, unchanged, as sysopt.Error (a ValueError).

class EngineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Raise(const Error& error) { throw EngineError(error.message()); }

template <typename T>
T Take(Expected<T> value) {
  if (!value.ok()) Raise(value.error());
  return std::move(*value);
}

// ---------------------------------------------------------------------------------------------
// JSON <-> Python.

py::object ToPy(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return py::none();
    case json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case json::value_t::number_integer:
      return py::int_(j.get<int64_t>());
    case json::value_t::number_unsigned:
      return py::int_(j.get<uint64_t>());
    case json::value_t::number_float:
      return py::float_(j.get<double>());
    case json::value_t::string:
      return py::str(j.get<std::string>());
    case json::value_t::array: {
      py::list out;
      for (const auto& x : j) out.append(ToPy(x));
      return out;
    }
    case json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : j.items()) out[py::str(k)] = ToPy(v);
      return out;
    }
    default:
      return py::none();
  }
}

json FromPy(py::handle h, const std::string& where) {
  if (h.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(h)) return h.cast<bool>();
  if (py::isinstance<py::int_>(h)) return h.cast<int64_t>();
  if (py::isinstance<py::float_>(h)) return h.cast<double>();
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  if (py::isinstance<py::dict>(h)) {
    json out = json::object();
    for (auto [k, v] : h.cast<py::dict>()) {
      if (!py::isinstance<py::str>(k)) {
        throw py::type_error(where + ": dictionary keys must be strings, got " +
                             py::repr(k).cast<std::string>());
      }
      const std::string key = k.cast<std::string>();
      out[key] = FromPy(v, where + "." + key);
    }
    return out;
  }
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
    json out = json::array();
    size_t i = 0;
    for (auto x : h) out.push_back(FromPy(x, where + "[" + std::to_string(i++) + "]"));
    return out;
  }
  // numpy scalars and other number-likes.
  if (py::hasattr(h, "__index__"))
    return py::int_(py::reinterpret_borrow<py::object>(h)).cast<int64_t>();
  if (py::hasattr(h, "__float__")) {
    return py::float_(py::reinterpret_borrow<py::object>(h)).cast<double>();
  }
  throw py::type_error(where + ": cannot be written as JSON: " + py::repr(h).cast<std::string>());
}

std::string PathOrString(py::handle h) {
  return py::str(py::module_::import("os").attr("fspath")(h)).cast<std::string>();
}

// ---------------------------------------------------------------------------------------------
// Space.

struct PySpace {
  Spec spec;

  static PySpace FromList(py::handle parameters, py::handle constraints, const std::string& name) {
    json j = {{"name", name}, {"parameters", FromPy(parameters, "parameters")}};
    if (!constraints.is_none()) j["constraints"] = FromPy(constraints, "constraints");
    py::gil_scoped_release release;
    auto parsed = ParseSpec(j, "Space");
    if (!parsed.ok()) throw EngineError(parsed.error().message());
    return PySpace{std::move(*parsed)};
  }

  static PySpace FromSpec(py::handle path) {
    const std::string p = PathOrString(path);
    py::gil_scoped_release release;
    auto parsed = LoadSpec(p);
    if (!parsed.ok()) throw EngineError(parsed.error().message());
    return PySpace{std::move(*parsed)};
  }
};

// The spec a study is created from: the space's, with the objectives given.
json ObjectivesJson(py::handle objectives) {
  json out = json::array();
  if (py::isinstance<py::str>(objectives)) {
    out.push_back({{"name", objectives.cast<std::string>()}});
  } else if (py::isinstance<py::dict>(objectives)) {
    for (auto [k, v] : objectives.cast<py::dict>()) {
      out.push_back({{"name", FromPy(k, "objectives")}, {"goal", FromPy(v, "objectives")}});
    }
  } else {
    size_t i = 0;
    for (auto o : objectives) {
      const std::string where = "objectives[" + std::to_string(i++) + "]";
      out.push_back(py::isinstance<py::str>(o) ? json{{"name", o.cast<std::string>()}}
                                               : FromPy(o, where));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Trials.

struct PyTrial {
  Trial trial;
  int64_t study_id = 0;
  std::string study_name;
  py::object config;  // a dict, built once
};

struct PyRecord {
  TrialRecord record;
  py::object config;
  std::vector<std::string> objectives;
};

PyRecord MakeRecord(const Study& study, TrialRecord record) {
  PyRecord out;
  out.config = ToPy(study.space().ConfigToJson(record.config));
  for (const auto& o : study.spec().objectives) out.objectives.push_back(o.name);
  out.record = std::move(record);
  return out;
}

// Values as the objective or tell gives them: a number, a sequence (one per objective), or a
// dict keyed by objective name.
Expected<std::vector<double>> ValuesFromPy(const Study& study, py::handle value) {
  const auto& objectives = study.spec().objectives;
  auto number = [](py::handle x) -> std::optional<double> {
    if (py::isinstance<py::bool_>(x) || py::isinstance<py::str>(x)) return std::nullopt;
    if (!py::hasattr(x, "__float__")) return std::nullopt;
    return py::float_(py::reinterpret_borrow<py::object>(x)).cast<double>();
  };
  if (auto v = number(value)) return std::vector<double>{*v};
  std::vector<double> values;
  if (py::isinstance<py::dict>(value)) {
    auto d = value.cast<py::dict>();
    for (const auto& o : objectives) {
      if (!d.contains(o.name)) {
        return InvalidInput("the result {} has no value for objective '{}'",
                            py::repr(value).cast<std::string>(), o.name);
      }
      auto v = number(d[py::str(o.name)]);
      if (!v) {
        return InvalidInput("objective '{}': expected a number, got {}", o.name,
                            py::repr(d[py::str(o.name)]).cast<std::string>());
      }
      values.push_back(*v);
    }
    if (d.size() != objectives.size()) {
      return InvalidInput("the result {} has {} values for {} objectives",
                          py::repr(value).cast<std::string>(), d.size(), objectives.size());
    }
    return values;
  }
  if (py::isinstance<py::sequence>(value)) {
    for (auto x : value) {
      auto v = number(x);
      if (!v) {
        return InvalidInput("expected numbers, got {}", py::repr(value).cast<std::string>());
      }
      values.push_back(*v);
    }
    return values;
  }
  return InvalidInput(
      "expected a number, a sequence of numbers or a dict of them by objective "
      "name, got {}",
      py::repr(value).cast<std::string>());
}

std::vector<std::string> Objectives(const Study& study) {
  std::vector<std::string> names;
  for (const auto& o : study.spec().objectives) names.push_back(o.name);
  return names;
}

std::string DescribeException(py::error_already_set& e) {
  std::string type = py::str(e.type().attr("__name__")).cast<std::string>();
  std::string message = py::str(e.value()).cast<std::string>();
  return message.empty() ? type : type + ": " + message;
}

// ---------------------------------------------------------------------------------------------
// The objective as a Runner. Called from the tuner's workers with the GIL released; takes it.

class PythonRunner final : public Runner {
 public:
  PythonRunner(const Study& study, py::function func) : study_(study), func_(std::move(func)) {
    inner_ = MakeFunctionRunner([this](const Config& c) { return Call(c); });
  }
  ~PythonRunner() override {
    py::gil_scoped_acquire gil;
    func_ = py::function();
  }

  RunResult Run(const Config& config, int64_t trial_number) override {
    RunResult result = inner_->Run(config, trial_number);
    if (interrupted_here_) {
      interrupted_here_ = false;
      result.ok = false;
      result.values.clear();
      result.samples.clear();
      result.interrupted = true;
      result.failure_reason = "interrupted";
    }
    return result;
  }

  // Raises KeyboardInterrupt in every thread now inside the objective (from the main thread,
  // GIL held).
  void InterruptCalls() {
    std::lock_guard lock(mutex_);
    for (unsigned long id : calling_) {
      PyThreadState_SetAsyncExc(id, PyExc_KeyboardInterrupt);
    }
  }

  // A KeyboardInterrupt: no trial starts from now on, and optimize raises it at the end.
  void NoteInterrupt() {
    interrupted_.store(true);
    stop_.store(true);
  }

  bool interrupted() const { return interrupted_.load(); }
  std::atomic<bool>* stop() { return &stop_; }

 private:
  Expected<std::vector<double>> Call(const Config& config) {
    py::gil_scoped_acquire gil;
    if (stop_.load()) return Interrupted();
    // A Ctrl-C that arrived while the engine was thinking (main thread only).
    if (PyErr_CheckSignals() != 0) {
      py::error_already_set e;
      if (e.matches(PyExc_KeyboardInterrupt)) return Interrupted();
      return RuntimeError("{}", DescribeException(e));
    }
    const unsigned long id = PyThread_get_thread_ident();
    {
      std::lock_guard lock(mutex_);
      calling_.insert(id);
    }
    struct Leave {
      PythonRunner* self;
      unsigned long id;
      ~Leave() {
        std::lock_guard lock(self->mutex_);
        self->calling_.erase(id);
      }
    } leave{this, id};
    try {
      py::object out = func_(ToPy(study_.space().ConfigToJson(config)));
      return ValuesFromPy(study_, out);
    } catch (py::error_already_set& e) {
      if (e.matches(PyExc_KeyboardInterrupt)) return Interrupted();
      return RuntimeError("{}", DescribeException(e));
    }
  }

  Error Interrupted() {
    interrupted_here_ = true;
    NoteInterrupt();
    return RuntimeError("interrupted");
  }

  const Study& study_;
  py::function func_;
  std::unique_ptr<Runner> inner_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> interrupted_{false};
  static thread_local bool interrupted_here_;
  std::mutex mutex_;
  std::set<unsigned long> calling_;
};

thread_local bool PythonRunner::interrupted_here_ = false;

// ---------------------------------------------------------------------------------------------
// Study.

json SamplerJson(const std::string& name, uint64_t seed, const std::string& acquisition) {
  return {{"name", name}, {"seed", seed}, {"acquisition", acquisition}};
}

class PyStudy {
 public:
  PyStudy(std::unique_ptr<Storage> storage, std::string url, const std::string& name,
          const Spec& spec, std::string sampler, uint64_t seed, std::string acquisition)
      : storage_(std::move(storage)),
        url_(std::move(url)),
        sampler_name_(std::move(sampler)),
        seed_(seed),
        acquisition_(std::move(acquisition)) {
    ResumeInfo resume;
    study_ = Take(Study::Open(*storage_, name, spec,
                              SamplerJson(sampler_name_, seed_, acquisition_), &resume));
    created_ = resume.created;
    ask_sampler_ = Take(MakeSampler(sampler_name_, SamplerOptions{seed_, 100, acquisition_}));
    ask_tell_ = std::make_unique<AskTell>(*study_, *ask_sampler_, std::move(resume.to_rerun));
  }

  const Study& study() const { return *study_; }
  const std::string& url() const { return url_; }
  bool created() const { return created_; }
  const std::string& sampler_name() const { return sampler_name_; }
  uint64_t seed() const { return seed_; }

  py::object Ask(std::optional<int> n) {
    std::vector<Trial> trials;
    {
      py::gil_scoped_release release;
      trials = Take(ask_tell_->Ask(n.value_or(1), WorkerName(0)));
    }
    py::list out;
    for (auto& t : trials) out.append(MakeTrial(std::move(t)));
    if (n) return out;
    if (out.empty()) return py::none();
    return out[0];
  }

  PyRecord Tell(const PyTrial& trial, py::object value, std::optional<std::string> failed) {
    if (trial.study_id != study_->record().id) {
      Raise(InvalidInput("tell: trial #{} belongs to study '{}', not '{}'", trial.trial.number,
                         trial.study_name, study_->name()));
    }
    TrialOutcome outcome;
    if (failed) {
      if (!value.is_none()) {
        Raise(
            InvalidInput("tell: trial #{}: give a value or failed=, not both", trial.trial.number));
      }
      outcome = FailedOutcome(*failed);
    } else {
      if (value.is_none()) {
        Raise(InvalidInput("tell: trial #{}: give its value, or failed=\"reason\"",
                           trial.trial.number));
      }
      auto values = ValuesFromPy(*study_, value);
      if (values.ok() && values->size() != study_->spec().objectives.size()) {
        values = InvalidInput("{} values given for {} objectives ({})", values->size(),
                              study_->spec().objectives.size(),
                              fmt::join(Objectives(*study_), ", "));
      }
      if (!values.ok())
        Raise(values.error().WithContext(fmt::format("tell: trial #{}", trial.trial.number)));
      outcome = OutcomeFromValues(*study_, std::move(*values));
    }
    TrialRecord record;
    {
      py::gil_scoped_release release;
      record = Take(ask_tell_->Tell(trial.trial, std::move(outcome)));
    }
    return MakeRecord(*study_, std::move(record));
  }

  py::dict Optimize(py::function func, int budget, int workers, std::optional<double> time_limit,
                    std::optional<py::function> on_trial) {
    if (budget < 1) Raise(InvalidInput("optimize: budget must be at least 1, got {}", budget));
    if (workers < 1) Raise(InvalidInput("optimize: workers must be at least 1, got {}", workers));
    if (time_limit && !(*time_limit > 0)) {
      Raise(InvalidInput("optimize: time_limit must be positive seconds, got {}", *time_limit));
    }
    auto sampler = Take(MakeSampler(sampler_name_, SamplerOptions{seed_, budget, acquisition_}));
    auto runner = std::make_unique<PythonRunner>(*study_, func);
    Cancellation cancel;
    TuneOptions options;
    options.budget = budget;
    options.workers = workers;
    options.stop = runner->stop();
    options.cancel = &cancel;
    options.time_limit_s = time_limit.value_or(0);
    std::optional<py::error_already_set> callback_error;
    if (on_trial) {
      options.on_trial = [&](const TuneProgress& p) {
        py::gil_scoped_acquire gil;
        if (callback_error) return;
        try {
          (*on_trial)(MakeRecord(*study_, p.trial));
        } catch (py::error_already_set& e) {
          callback_error.emplace(std::move(e));
          runner->stop()->store(true);
        }
      };
    }
    std::vector<Config> rerun = ask_tell_->TakeQueued();
    Expected<TuneReport> report = TuneReport{};
    if (workers == 1) {
      // The objective runs on this thread, so Ctrl-C reaches it as Python expects.
      py::gil_scoped_release release;
      report = Tune(*study_, *sampler, *runner, options, std::move(rerun));
    } else {
      // The workers are other threads: this one watches for Ctrl-C meanwhile.
      std::mutex mutex;
      std::condition_variable cv;
      bool done = false;
      std::thread tuner;
      {
        py::gil_scoped_release release;
        tuner = std::thread([&] {
          auto r = Tune(*study_, *sampler, *runner, options, std::move(rerun));
          std::lock_guard lock(mutex);
          report = std::move(r);
          done = true;
          cv.notify_all();
        });
      }
      for (;;) {
        {
          py::gil_scoped_release release;
          std::unique_lock lock(mutex);
          if (cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) break;
        }
        if (PyErr_CheckSignals() != 0) {
          py::error_already_set e;
          if (e.matches(PyExc_KeyboardInterrupt)) {
            runner->NoteInterrupt();
          } else if (!callback_error) {
            callback_error.emplace(std::move(e));
          }
          runner->stop()->store(true);
          runner->InterruptCalls();
        }
      }
      py::gil_scoped_release release;
      tuner.join();
    }
    const bool interrupted = runner->interrupted();
    runner.reset();
    if (callback_error) throw std::move(*callback_error);
    if (!report.ok()) Raise(report.error());
    if (interrupted) {
      // Everything finished is recorded; the trials stopped are "interrupted" and run again
      // when the study is resumed.
      PyErr_SetNone(PyExc_KeyboardInterrupt);
      throw py::error_already_set();
    }
    py::dict out;
    out["started"] = report->started;
    out["failed"] = report->failed;
    out["interrupted"] = report->interrupted;
    out["exhausted"] = report->exhausted;
    out["stopped"] = report->stopped;
    out["time_limit_reached"] = report->time_limit_reached;
    out["budget_used"] = study_->BudgetUsed();
    return out;
  }

  std::string Export(const std::string& format) const {
    const ExportFormat f = Take(ParseExportFormat(format));
    py::gil_scoped_release release;
    return ExportText(*study_, f);
  }

 private:
  PyTrial MakeTrial(Trial t) {
    PyTrial out;
    out.config = ToPy(study_->space().ConfigToJson(t.config));
    out.study_id = study_->record().id;
    out.study_name = study_->name();
    out.trial = std::move(t);
    return out;
  }

  std::unique_ptr<Storage> storage_;
  std::string url_;
  std::string sampler_name_;
  uint64_t seed_ = 0;
  std::string acquisition_;
  bool created_ = false;
  std::unique_ptr<Study> study_;
  std::unique_ptr<Sampler> ask_sampler_;
  std::unique_ptr<AskTell> ask_tell_;
};

std::unique_ptr<PyStudy> CreateStudy(const PySpace& space, py::object objectives,
                                     const std::string& storage, std::optional<std::string> name,
                                     const std::string& sampler, uint64_t seed,
                                     const std::string& acquisition, bool load_if_exists) {
  json j = space.spec.ToJson();
  if (!objectives.is_none()) j["objectives"] = ObjectivesJson(objectives);
  const std::string study_name = name.value_or(space.spec.name);
  j["name"] = study_name;
  std::unique_ptr<Storage> opened;
  std::optional<Spec> spec;
  {
    py::gil_scoped_release release;
    auto parsed = ParseSpec(j, "create_study");
    if (!parsed.ok()) Raise(parsed.error());
    spec = std::move(*parsed);
    // A spec file's run section (its command, folder) stays with the study, as `sysopt tune`
    // stores it.
    spec->run = space.spec.run;
    opened = Take(OpenStorage(storage));
    if (!load_if_exists) {
      auto found = Take(opened->FindStudy(study_name));
      if (found) {
        Raise(
            InvalidInput("create_study: study '{}' already exists in {}; pass "
                         "load_if_exists=True to continue it, or another name",
                         study_name, storage));
      }
    }
  }
  py::gil_scoped_release release;
  return std::make_unique<PyStudy>(std::move(opened), storage, study_name, *spec, sampler, seed,
                                   acquisition);
}

std::unique_ptr<PyStudy> LoadStudy(const std::string& storage, std::optional<std::string> name,
                                   std::optional<std::string> sampler,
                                   std::optional<uint64_t> seed) {
  py::gil_scoped_release release;
  OpenedStudy opened = Take(OpenExistingStudy(storage, name.value_or(""), "name="));
  const json& stored = opened.study->record().sampler;
  const std::string sampler_name =
      sampler.value_or(stored.is_object() ? stored.value("name", "auto") : "auto");
  const uint64_t sampler_seed =
      seed.value_or(stored.is_object() ? stored.value("seed", uint64_t{0}) : 0);
  const std::string acquisition = stored.is_object() ? stored.value("acquisition", "ei") : "ei";
  const std::string study_name = opened.study->name();
  const Spec spec = opened.study->spec();
  opened.study.reset();
  return std::make_unique<PyStudy>(std::move(opened.storage), storage, study_name, spec,
                                   sampler_name, sampler_seed, acquisition);
}

// ---------------------------------------------------------------------------------------------
// The memory planner.

py::dict Plan(py::object graph, py::object budget, py::object solvers, double time_limit,
              uint64_t seed) {
  std::optional<std::string> path;
  json graph_json;
  if (py::isinstance<py::dict>(graph)) {
    graph_json = FromPy(graph, "graph");
  } else {
    path = PathOrString(graph);
  }
  std::vector<std::string> solver_list;
  if (py::isinstance<py::str>(solvers)) {
    solver_list.push_back(solvers.cast<std::string>());
  } else {
    solver_list = solvers.cast<std::vector<std::string>>();
  }
  std::optional<int64_t> budget_bytes;
  std::string budget_text;
  if (py::isinstance<py::int_>(budget)) {
    budget_bytes = budget.cast<int64_t>();
  } else if (py::isinstance<py::str>(budget)) {
    budget_text = budget.cast<std::string>();
  } else {
    throw py::type_error(
        "budget: expected bytes (an int) or a string such as \"6GiB\" or "
        "\"50%\", got " +
        py::repr(budget).cast<std::string>());
  }
  json result;
  {
    py::gil_scoped_release release;
    const remat::Graph g =
        Take(path ? remat::LoadGraph(*path) : remat::GraphFromJson(graph_json, "graph"));
    const int64_t b = budget_bytes ? *budget_bytes : [&] {
      auto parsed = remat::ParseBudget(budget_text, g);
      if (!parsed.ok()) Raise(parsed.error().WithContext("budget"));
      return *parsed;
    }();
    if (b <= 0) Raise(InvalidInput("budget: expected a positive number of bytes, got {}", b));
    remat::PlannerOptions options{b, solver_list, time_limit, seed};
    const remat::PlannerResult r = Take(remat::RunPlanner(g, options));
    result = remat::PlannerResultJson(r, b);
    result["graph"] = g.name;
    result["nodes"] = g.size();
    if (r.best >= 0) {
      const auto& e = r.entries[r.best];
      result["schedule"] = remat::ScheduleToJson(g, e.plan.schedule);
      result["peak_bytes"] = e.sim.peak_bytes;
      result["cost"] = e.sim.cost;
      result["overhead"] = e.overhead;
      result["gap"] = e.gap;
      result["recomputes"] = e.sim.recomputes;
    } else {
      result["schedule"] = nullptr;
    }
  }
  return ToPy(result).cast<py::dict>();
}

}  // namespace
}  // namespace sysopt::python

PYBIND11_MODULE(_core, m) {
  using namespace sysopt;
  using namespace sysopt::python;
  m.doc() = "sysopt: search and learning for systems configuration (the engine's core).";
  // The classes are sysopt.Space, sysopt.Study, ... (re-exported by sysopt/__init__.py), in
  // their reprs and in the signatures of the docstrings.
  m.attr("__name__") = "sysopt";
  py::register_exception<EngineError>(m, "Error", PyExc_ValueError);

  py::class_<PySpace>(m, "Space", R"(A search space: parameters and constraints.

Parameters are the dicts of a spec's "parameters" list, constraints the strings of its
"constraints" list (the expression language of the spec and T1 Conditions):

    space = sysopt.Space([
        {"name": "tile", "type": "ordinal", "values": [8, 16, 32, 64]},
        {"name": "unroll", "type": "integer", "low": 1, "high": 8},
    ], constraints=["tile * unroll <= 256"])

Errors raise sysopt.Error with the engine's message (field and value).)")
      .def(py::init([](py::object parameters, py::object constraints, const std::string& name) {
             return PySpace::FromList(parameters, constraints, name);
           }),
           py::arg("parameters"), py::arg("constraints") = py::none(), py::arg("name") = "study")
      .def_static("from_spec", &PySpace::FromSpec, py::arg("path"),
                  "Reads a sysopt spec or a T1 file: its space, objectives and run section.")
      .def_property_readonly("name", [](const PySpace& s) { return s.spec.name; })
      .def_property_readonly(
          "parameters", [](const PySpace& s) { return ToPy(s.spec.space.ToJson()["parameters"]); },
          "The parameters as spec dicts.")
      .def_property_readonly("constraints",
                             [](const PySpace& s) {
                               return ToPy(s.spec.ToJson().value("constraints", json::array()));
                             })
      .def_property_readonly("objectives",
                             [](const PySpace& s) { return ToPy(s.spec.ToJson()["objectives"]); })
      .def(
          "to_json", [](const PySpace& s) { return ToPy(s.spec.ToJson()); },
          "The spec as a dict (what a study stores).")
      .def("__len__", [](const PySpace& s) { return s.spec.space.size(); })
      .def("__repr__", [](const PySpace& s) {
        return fmt::format("Space(name='{}', {} parameters)", s.spec.name, s.spec.space.size());
      });

  py::class_<PyTrial>(m, "Trial", "A trial in flight, from study.ask(): tell its result.")
      .def_property_readonly("number", [](const PyTrial& t) { return t.trial.number; })
      .def_property_readonly(
          "config", [](const PyTrial& t) { return t.config.attr("copy")(); },
          "The configuration to evaluate: parameter name -> value.")
      .def("__repr__", [](const PyTrial& t) {
        return fmt::format("Trial(number={}, config={})", t.trial.number,
                           py::repr(t.config).cast<std::string>());
      });

  py::class_<PyRecord>(m, "TrialRecord", "A finished trial (immutable).")
      .def_property_readonly("number", [](const PyRecord& r) { return r.record.number; })
      .def_property_readonly(
          "state", [](const PyRecord& r) { return std::string(TrialStateName(r.record.state)); },
          "\"COMPLETE\" or \"FAILED\".")
      .def_property_readonly("config", [](const PyRecord& r) { return r.config.attr("copy")(); })
      .def_property_readonly(
          "values", [](const PyRecord& r) { return py::tuple(py::cast(r.record.values)); },
          "One value per objective; empty for a failed trial.")
      .def_property_readonly(
          "value",
          [](const PyRecord& r) -> py::object {
            if (r.record.values.empty()) return py::none();
            return py::float_(r.record.values[0]);
          },
          "The first objective's value; None for a failed trial.")
      .def_property_readonly(
          "failed", [](const PyRecord& r) { return r.record.state == TrialState::kFailed; })
      .def_property_readonly("failure_reason",
                             [](const PyRecord& r) { return r.record.failure_reason; })
      .def_property_readonly("start_time", [](const PyRecord& r) { return r.record.start_time; })
      .def_property_readonly("end_time", [](const PyRecord& r) { return r.record.end_time; })
      .def_property_readonly(
          "duration", [](const PyRecord& r) { return r.record.end_time - r.record.start_time; })
      .def_property_readonly("worker", [](const PyRecord& r) { return r.record.worker; })
      .def_property_readonly("attrs", [](const PyRecord& r) { return ToPy(r.record.attrs); })
      .def("__repr__", [](const PyRecord& r) {
        std::string what;
        if (r.record.state == TrialState::kComplete) {
          for (size_t i = 0; i < r.record.values.size(); ++i) {
            what += fmt::format("{}{}={:.6g}", i ? ", " : "", r.objectives[i], r.record.values[i]);
          }
        } else {
          what = "failed=" + py::repr(py::str(r.record.failure_reason)).cast<std::string>();
        }
        return fmt::format("TrialRecord(number={}, {}, config={})", r.record.number, what,
                           py::repr(r.config).cast<std::string>());
      });

  py::class_<PyStudy>(m, "Study", R"(A study: a space, its objectives and every trial, kept in a
storage (a SQLite file, or "memory"). Made by create_study or load_study.)")
      .def_property_readonly("name", [](const PyStudy& s) { return s.study().name(); })
      .def_property_readonly("storage", [](const PyStudy& s) { return s.url(); })
      .def_property_readonly("created", &PyStudy::created,
                             "True when this call created the study, False when it resumed one.")
      .def_property_readonly("sampler", &PyStudy::sampler_name)
      .def_property_readonly("seed", &PyStudy::seed)
      .def_property_readonly("space", [](const PyStudy& s) { return PySpace{s.study().spec()}; })
      .def_property_readonly("objectives",
                             [](const PyStudy& s) {
                               std::vector<std::string> names;
                               for (const auto& o : s.study().spec().objectives)
                                 names.push_back(o.name);
                               return names;
                             })
      .def_property_readonly("directions",
                             [](const PyStudy& s) {
                               std::vector<std::string> d;
                               for (const auto& o : s.study().spec().objectives)
                                 d.push_back(o.minimize ? "minimize" : "maximize");
                               return d;
                             })
      .def("ask", &PyStudy::Ask, py::arg("n") = py::none(),
           R"(Proposes a configuration, recorded as a running trial: study.ask() gives one Trial
(None once a finite space is used up), study.ask(n) a list of up to n.)")
      .def("tell", &PyStudy::Tell, py::arg("trial"), py::arg("value") = py::none(), py::kw_only(),
           py::arg("failed") = py::none(),
           R"(Records a trial's result: study.tell(trial, 1.5), a sequence or a dict by objective
name for several objectives, or study.tell(trial, failed="reason"). A NaN or infinite value
records a failed trial. Returns the finished TrialRecord.)")
      .def("optimize", &PyStudy::Optimize, py::arg("func"), py::arg("budget"),
           py::arg("workers") = 1, py::arg("time_limit") = py::none(),
           py::arg("callback") = py::none(),
           R"(Calls func(config) until the study holds `budget` finished trials (those of earlier
runs count: calling it again resumes). func returns a number, a sequence or a dict by objective
name. An exception in func is a failed trial whose reason is the exception's message. With
workers > 1 the calls run on that many threads. Ctrl-C (KeyboardInterrupt) stops: finished trials
are kept, those running are recorded as interrupted and run again on resume, and the
KeyboardInterrupt is raised again. `callback(record)` is called after every finished trial.
Returns counts of what this call did.)")
      .def_property_readonly(
          "trials",
          [](const PyStudy& s) {
            std::vector<TrialRecord> finished;
            {
              py::gil_scoped_release release;
              finished = s.study().Finished();
            }
            std::vector<PyRecord> out;
            for (auto& t : finished) out.push_back(MakeRecord(s.study(), std::move(t)));
            return out;
          },
          "Finished trials (COMPLETE and FAILED), in number order.")
      .def_property_readonly(
          "best",
          [](const PyStudy& s) -> py::object {
            std::optional<TrialRecord> best;
            {
              py::gil_scoped_release release;
              best = s.study().Best();
            }
            if (!best) return py::none();
            return py::cast(MakeRecord(s.study(), std::move(*best)));
          },
          R"(The best completed trial by the first objective (a configuration measured several times
is judged by its mean), or None.)")
      .def_property_readonly(
          "pareto_front",
          [](const PyStudy& s) {
            std::vector<TrialRecord> front;
            {
              py::gil_scoped_release release;
              front = s.study().ParetoFront();
            }
            std::vector<PyRecord> out;
            for (auto& t : front) out.push_back(MakeRecord(s.study(), std::move(t)));
            return out;
          },
          "Completed trials no other dominates, in number order.")
      .def(
          "hypervolume",
          [](const PyStudy& s, std::vector<double> reference) {
            py::gil_scoped_release release;
            const double hv = s.study().FrontHypervolume(&reference);
            return std::make_pair(hv, reference);
          },
          py::arg("reference") = std::vector<double>{},
          "Hypervolume of the Pareto front and the reference point used (default: the nadir).")
      .def("export", &PyStudy::Export, py::arg("format") = "json",
           R"(The study as `sysopt export` writes it: "json", "csv" or "t4".)")
      .def("__repr__", [](const PyStudy& s) {
        return fmt::format("Study(name='{}', storage='{}', {} finished trials)", s.study().name(),
                           s.url(), s.study().Finished().size());
      });

  m.def("create_study", &CreateStudy, py::arg("space"), py::arg("objectives") = py::none(),
        py::arg("storage") = "sysopt.db", py::arg("name") = py::none(), py::arg("sampler") = "auto",
        py::arg("seed") = 0, py::arg("acquisition") = "ei", py::arg("load_if_exists") = true,
        R"(Creates a study in `storage` (a SQLite file path or URL, or "memory"), or resumes the one
of that name there, as `sysopt tune` does. objectives: a name, a list of names (all minimised),
a dict name -> "minimize"/"maximize", or spec dicts; default: the space's (one "value",
minimised). name: default the space's name.)");
  m.def("load_study", &LoadStudy, py::arg("storage") = "sysopt.db", py::arg("name") = py::none(),
        py::arg("sampler") = py::none(), py::arg("seed") = py::none(),
        R"(Opens an existing study (made by create_study or `sysopt tune`) to continue or read it;
without a name, the only study in the storage. The sampler and seed default to the stored ones.)");
  m.def(
      "samplers",
      [] {
        std::vector<std::pair<std::string, std::string>> out = SamplerDescriptions();
        return out;
      },
      "The sampler names create_study accepts, each with a line on what it does.");

  py::module_ remat = m.def_submodule("remat", "Memory plans for training (rematerialisation).");
  remat.def("plan", &Plan, py::arg("graph"), py::arg("budget"), py::kw_only(),
            py::arg("solvers") = "auto", py::arg("time_limit") = 60.0, py::arg("seed") = 1,
            R"(Plans a training graph (a path to a graph JSON file, or its dict) within `budget`
(bytes, or a string "6GiB" or "50%" of the keep-everything activation peak), as
`sysopt remat plan --json` does. Returns a dict with the best plan's "schedule", "peak_bytes",
"cost", "overhead", "gap", the "lower_bound", and every solver's figures under "plans".)");
  m.attr("__name__") = "sysopt._core";
}
