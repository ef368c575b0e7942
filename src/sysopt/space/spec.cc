#include "sysopt/space/spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sysopt/core/json.h"

namespace sysopt {

namespace {

using nlohmann::json;

Expected<void> RejectUnknownKeys(const json& j, const std::set<std::string>& allowed,
                                 const std::string& where) {
  for (const auto& [key, _] : j.items()) {
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return InvalidInput("{}: unknown field \"{}\" (expected one of: {})", where, key, list);
    }
  }
  return Ok();
}

Expected<std::vector<Objective>> ParseObjectives(const json& j, const std::string& where) {
  std::vector<Objective> out;
  if (!j.is_array() || j.empty()) {
    return InvalidInput("{}: field \"objectives\": expected a non-empty array, got {}", where,
                        j.dump());
  }
  std::set<std::string> names;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = fmt::format("{}: objectives[{}]", where, i);
    const auto& o = j[i];
    if (!o.is_object()) return InvalidInput("{}: expected an object, got {}", at, o.dump());
    SYSOPT_RETURN_IF_ERROR(RejectUnknownKeys(o, {"name", "goal"}, at));
    if (!o.contains("name") || !o["name"].is_string() || o["name"].get<std::string>().empty()) {
      return InvalidInput("{}: field \"name\": expected a non-empty string", at);
    }
    Objective obj{o["name"].get<std::string>(), true};
    if (!names.insert(obj.name).second) {
      return InvalidInput("{}: objective name \"{}\" is used twice", at, obj.name);
    }
    if (o.contains("goal")) {
      const auto& g = o["goal"];
      if (g == "minimize" || g == "min") {
        obj.minimize = true;
      } else if (g == "maximize" || g == "max") {
        obj.minimize = false;
      } else {
        return InvalidInput("{}: field \"goal\": expected \"minimize\" or \"maximize\", got {}", at,
                            g.dump());
      }
    }
    out.push_back(std::move(obj));
  }
  return out;
}

Expected<RunSpec> ParseRun(const json& j, const std::string& where_in) {
  const std::string where = where_in + ": run";
  if (!j.is_object()) return InvalidInput("{}: expected an object, got {}", where, j.dump());
  SYSOPT_RETURN_IF_ERROR(RejectUnknownKeys(j,
                                           {"command", "timeout_s", "repeat", "aggregate",
                                            "working_dir", "objective", "warmup", "check"},
                                           where));
  RunSpec run;
  if (!j.contains("command") || !j["command"].is_array() || j["command"].empty()) {
    return InvalidInput("{}: field \"command\": expected a non-empty array of strings (argv)",
                        where);
  }
  for (const auto& a : j["command"]) {
    if (!a.is_string()) {
      return InvalidInput("{}: field \"command\": {} is not a string", where, a.dump());
    }
    run.command.push_back(a.get<std::string>());
  }
  if (j.contains("timeout_s")) {
    if (!j["timeout_s"].is_number() || j["timeout_s"].get<double>() < 0) {
      return InvalidInput("{}: field \"timeout_s\": expected a number >= 0, got {}", where,
                          j["timeout_s"].dump());
    }
    run.timeout_s = j["timeout_s"].get<double>();
  }
  if (j.contains("repeat")) {
    if (!j["repeat"].is_number_integer() || j["repeat"].get<int64_t>() < 1 ||
        j["repeat"].get<int64_t>() > 1000) {
      return InvalidInput("{}: field \"repeat\": expected an integer from 1 to 1000, got {}", where,
                          j["repeat"].dump());
    }
    run.repeat = j["repeat"].get<int>();
  }
  if (j.contains("aggregate")) {
    const auto& a = j["aggregate"];
    if (a != "median" && a != "mean" && a != "min") {
      return InvalidInput(
          "{}: field \"aggregate\": expected \"median\", \"mean\" or \"min\", got {}", where,
          a.dump());
    }
    run.aggregate = a.get<std::string>();
  }
  if (j.contains("working_dir")) {
    if (!j["working_dir"].is_string()) {
      return InvalidInput("{}: field \"working_dir\": expected a string, got {}", where,
                          j["working_dir"].dump());
    }
    run.working_dir = j["working_dir"].get<std::string>();
  }
  if (j.contains("objective")) {
    const auto& o = j["objective"];
    if (o != "output" && o != "wall-time") {
      return InvalidInput(
          "{}: field \"objective\": expected \"output\" (the program prints its objectives) or "
          "\"wall-time\" (sysopt times the program), got {}",
          where, o.dump());
    }
    run.objective = o.get<std::string>();
  }
  if (j.contains("warmup")) {
    if (!j["warmup"].is_number_integer() || j["warmup"].get<int64_t>() < 0 ||
        j["warmup"].get<int64_t>() > 100) {
      return InvalidInput("{}: field \"warmup\": expected an integer from 0 to 100, got {}", where,
                          j["warmup"].dump());
    }
    run.warmup = j["warmup"].get<int>();
  }
  if (j.contains("check")) {
    const auto& c = j["check"];
    if (!c.is_array() || c.empty()) {
      return InvalidInput(
          "{}: field \"check\": expected a non-empty array of strings (argv), got {}", where,
          c.dump());
    }
    for (const auto& a : c) {
      if (!a.is_string()) {
        return InvalidInput("{}: field \"check\": {} is not a string", where, a.dump());
      }
      run.check.push_back(a.get<std::string>());
    }
  }
  return run;
}

// T1's benchmark settings: KernelSpecification.BenchmarkConfig, giving repeats and a time limit.
Expected<std::optional<RunSpec>> ParseT1Benchmark(const json& j, const std::string& source) {
  if (!j.contains("KernelSpecification")) return std::optional<RunSpec>();
  const auto& ks = j["KernelSpecification"];
  const std::string where = source + ": KernelSpecification";
  if (!ks.is_object()) return InvalidInput("{}: expected an object, got {}", where, ks.dump());
  if (!ks.contains("BenchmarkConfig")) return std::optional<RunSpec>();
  const auto& b = ks["BenchmarkConfig"];
  const std::string at = where + ".BenchmarkConfig";
  if (!b.is_object()) return InvalidInput("{}: expected an object, got {}", at, b.dump());
  SYSOPT_RETURN_IF_ERROR(
      RejectUnknownKeys(b, {"Iterations", "Timeout", "Aggregate", "WarmupIterations"}, at));
  // The same checks as a run section's, with the T1 names in the messages.
  json run = json::object();
  run["command"] = json::array({"-"});
  const std::pair<const char*, const char*> names[] = {{"Iterations", "repeat"},
                                                       {"Timeout", "timeout_s"},
                                                       {"Aggregate", "aggregate"},
                                                       {"WarmupIterations", "warmup"}};
  for (const auto& [t1, ours] : names) {
    if (!b.contains(t1)) continue;
    json one = {{"command", {"-"}}, {ours, b[t1]}};
    auto parsed = ParseRun(one, at);
    if (!parsed.ok()) {
      return InvalidInput("{}: field \"{}\": {} is not valid (as run.{}: {})", at, t1, b[t1].dump(),
                          ours, parsed.error().message());
    }
    run[ours] = b[t1];
  }
  auto parsed = ParseRun(run, at);
  if (!parsed.ok()) return parsed.error();
  parsed->command.clear();
  return std::optional<RunSpec>(std::move(*parsed));
}

// A T1 "Values" field is a list, written either as a JSON array or as a string holding a
// Python-style list literal (e.g. "[16, 32]" or "['a', 'b']").
Expected<json> T1Values(const json& v, const std::string& where) {
  if (v.is_array()) return v;
  if (!v.is_string()) {
    return InvalidInput("{}: field \"Values\": expected a list, got {}", where, v.dump());
  }
  std::string text = v.get<std::string>();
  if (FindTooDeepJson(text) != std::string::npos) {
    return InvalidInput("{}: field \"Values\": list literal nested deeper than {} levels", where,
                        kMaxJsonDepth);
  }
  auto parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) {
    std::replace(text.begin(), text.end(), '\'', '"');
    for (const auto& [py, js] : {std::pair{"True", "true"}, std::pair{"False", "false"}}) {
      for (size_t at = text.find(py); at != std::string::npos; at = text.find(py, at)) {
        text.replace(at, std::string(py).size(), js);
      }
    }
    parsed = json::parse(text, nullptr, false);
  }
  if (parsed.is_discarded() || !parsed.is_array()) {
    return InvalidInput("{}: field \"Values\": {} is not a list literal", where, v.dump());
  }
  return parsed;
}

Expected<Spec> ParseT1(const json& j, const std::string& source) {
  const std::string where = source + ": ConfigurationSpace";
  const auto& cs = j["ConfigurationSpace"];
  if (!cs.is_object()) return InvalidInput("{}: expected an object", where);
  SYSOPT_RETURN_IF_ERROR(RejectUnknownKeys(cs, {"TuningParameters", "Conditions"}, where));
  if (!cs.contains("TuningParameters") || !cs["TuningParameters"].is_array() ||
      cs["TuningParameters"].empty()) {
    return InvalidInput("{}: field \"TuningParameters\": expected a non-empty array", where);
  }
  std::vector<Parameter> params;
  for (size_t i = 0; i < cs["TuningParameters"].size(); ++i) {
    const auto& tp = cs["TuningParameters"][i];
    const std::string at = fmt::format("{}.TuningParameters[{}]", where, i);
    if (!tp.is_object()) return InvalidInput("{}: expected an object", at);
    SYSOPT_RETURN_IF_ERROR(RejectUnknownKeys(tp, {"Name", "Type", "Values", "Default"}, at));
    if (!tp.contains("Name") || !tp["Name"].is_string()) {
      return InvalidInput("{}: field \"Name\": expected a string", at);
    }
    if (!tp.contains("Values")) return InvalidInput("{}: missing field \"Values\"", at);
    auto values = T1Values(tp["Values"], at);
    if (!values.ok()) return values.error();
    if (tp.contains("Type") && !tp["Type"].is_string()) {
      return InvalidInput("{}: field \"Type\": expected a string, got {}", at, tp["Type"].dump());
    }
    const std::string type = tp.value("Type", "int");
    // Numeric T1 parameters are ordered lists of values: ordinals; strings are categorical.
    std::string kind;
    if (type == "int" || type == "float" || type == "double" || type == "number") {
      kind = "ordinal";
    } else if (type == "string" || type == "str" || type == "bool") {
      kind = "categorical";
    } else {
      return InvalidInput(
          "{}: field \"Type\": unknown type \"{}\" (expected int, float, string or "
          "bool)",
          at, type);
    }
    json p = {{"name", tp["Name"]}, {"type", kind}, {"values", *values}};
    if (tp.contains("Default") && !tp["Default"].is_null()) p["default"] = tp["Default"];
    auto parsed = ParseParameter(p, at);
    if (!parsed.ok()) return parsed.error();
    params.push_back(std::move(*parsed));
  }
  std::vector<std::string> constraints;
  if (cs.contains("Conditions")) {
    if (!cs["Conditions"].is_array())
      return InvalidInput("{}: \"Conditions\" is not an array", where);
    for (size_t i = 0; i < cs["Conditions"].size(); ++i) {
      const auto& c = cs["Conditions"][i];
      const std::string at = fmt::format("{}.Conditions[{}]", where, i);
      if (c.is_string()) {
        constraints.push_back(c.get<std::string>());
        continue;
      }
      if (!c.is_object() || !c.contains("Expression") || !c["Expression"].is_string()) {
        return InvalidInput("{}: expected an object with a string \"Expression\"", at);
      }
      SYSOPT_RETURN_IF_ERROR(RejectUnknownKeys(c, {"Expression", "Parameters"}, at));
      constraints.push_back(c["Expression"].get<std::string>());
    }
  }
  auto space = Space::Create(std::move(params), constraints);
  if (!space.ok()) return space.error().WithContext(where);
  std::string name = std::filesystem::path(source).stem().string();
  if (j.contains("General") && j["General"].is_object() && j["General"].contains("BenchmarkName") &&
      j["General"]["BenchmarkName"].is_string()) {
    name = j["General"]["BenchmarkName"].get<std::string>();
  }
  auto run = ParseT1Benchmark(j, source);
  if (!run.ok()) return run.error();
  Spec spec{name,
            std::move(*space),
            {Objective{"time", true}},
            std::move(*run),
            std::nullopt,
            std::nullopt,
            true};
  // The schema's "Budget" is a list of {"Type", "BudgetValue"}; a single object is read too.
  if (j.contains("Budget")) {
    const json budgets = j["Budget"].is_array() ? j["Budget"] : json::array({j["Budget"]});
    for (const auto& b : budgets) {
      if (b.is_object() && (!b.contains("Type") || b["Type"] == "ConfigurationCount") &&
          b.contains("BudgetValue") && b["BudgetValue"].is_number_integer()) {
        if (!spec.budget) spec.budget = b["BudgetValue"].get<int>();
      }
      // TuningDuration: seconds for the whole run, as sysopt tune's --time-limit.
      if (b.is_object() && b.value("Type", "") == "TuningDuration" && b.contains("BudgetValue")) {
        if (!b["BudgetValue"].is_number() || !(b["BudgetValue"].get<double>() > 0)) {
          return InvalidInput(
              "{}: Budget: TuningDuration: \"BudgetValue\" must be a positive number of "
              "seconds, got {}",
              source, b["BudgetValue"].dump());
        }
        spec.time_limit_s = b["BudgetValue"].get<double>();
      }
    }
  }
  return spec;
}

}  // namespace

nlohmann::json Spec::ToJson() const {
  json j = space.ToJson();
  j["name"] = name;
  j["objectives"] = json::array();
  for (const auto& o : objectives) {
    j["objectives"].push_back({{"name", o.name}, {"goal", o.minimize ? "minimize" : "maximize"}});
  }
  if (run) {
    j["run"] = {{"command", run->command}, {"repeat", run->repeat}, {"aggregate", run->aggregate}};
    if (run->timeout_s) j["run"]["timeout_s"] = *run->timeout_s;
    if (!run->working_dir.empty()) j["run"]["working_dir"] = run->working_dir;
    if (run->objective != "output") j["run"]["objective"] = run->objective;
    if (run->warmup > 0) j["run"]["warmup"] = run->warmup;
    if (!run->check.empty()) j["run"]["check"] = run->check;
  }
  return j;
}

Expected<Spec> ParseSpec(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) return InvalidInput("{}: expected a JSON object at the top level", source);
  if (j.contains("ConfigurationSpace")) return ParseT1(j, source);
  SYSOPT_RETURN_IF_ERROR(
      RejectUnknownKeys(j, {"name", "parameters", "constraints", "objectives", "run"}, source));
  std::string name = std::filesystem::path(source).stem().string();
  if (j.contains("name")) {
    if (!j["name"].is_string() || j["name"].get<std::string>().empty()) {
      return InvalidInput("{}: field \"name\": expected a non-empty string, got {}", source,
                          j["name"].dump());
    }
    name = j["name"].get<std::string>();
  }
  if (!j.contains("parameters") || !j["parameters"].is_array() || j["parameters"].empty()) {
    return InvalidInput("{}: field \"parameters\": expected a non-empty array", source);
  }
  std::vector<Parameter> params;
  for (size_t i = 0; i < j["parameters"].size(); ++i) {
    auto p = ParseParameter(j["parameters"][i], fmt::format("{}: parameters[{}]", source, i));
    if (!p.ok()) return p.error();
    params.push_back(std::move(*p));
  }
  std::vector<std::string> constraints;
  if (j.contains("constraints")) {
    if (!j["constraints"].is_array()) {
      return InvalidInput("{}: field \"constraints\": expected an array of strings, got {}", source,
                          j["constraints"].dump());
    }
    for (const auto& c : j["constraints"]) {
      if (!c.is_string()) {
        return InvalidInput("{}: field \"constraints\": {} is not a string", source, c.dump());
      }
      constraints.push_back(c.get<std::string>());
    }
  }
  auto space = Space::Create(std::move(params), constraints);
  if (!space.ok()) return space.error().WithContext(source);
  std::optional<RunSpec> run;
  if (j.contains("run")) {
    auto r = ParseRun(j["run"], source);
    if (!r.ok()) return r.error();
    run = std::move(*r);
  }
  const bool wall_time = run && run->objective == "wall-time";
  std::vector<Objective> objectives = {Objective{wall_time ? "time" : "value", true}};
  if (j.contains("objectives")) {
    auto o = ParseObjectives(j["objectives"], source);
    if (!o.ok()) return o.error();
    objectives = std::move(*o);
    if (wall_time && (objectives.size() != 1 || !objectives[0].minimize)) {
      return InvalidInput(
          "{}: run: field \"objective\": \"wall-time\" measures one objective to minimize, but "
          "\"objectives\" declares {}",
          source, j["objectives"].dump());
    }
  }
  return Spec{name,           std::move(*space), std::move(objectives),
              std::move(run), std::nullopt,      std::nullopt,
              false};
}

Expected<Spec> LoadSpec(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidInput("{}: cannot open the spec file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  Expected<json> j = ParseJson(buffer.str());
  if (!j.ok()) return j.error().WithContext(path);
  auto spec = ParseSpec(*j, path);
  if (!spec.ok()) return spec;
  if (spec->run) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::absolute(fs::path(path)).parent_path();
    fs::path wd = spec->run->working_dir.empty() ? dir : fs::path(spec->run->working_dir);
    if (wd.is_relative()) wd = dir / wd;
    spec->run->working_dir = wd.lexically_normal().string();
  }
  return spec;
}

}  // namespace sysopt
