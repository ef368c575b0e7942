#include "sysopt/runner/command_runner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "sysopt/core/json.h"
#include "sysopt/runner/subprocess.h"

namespace sysopt {
namespace {

constexpr std::string_view kConfigVariable = "SYSOPT_CONFIG";
constexpr std::string_view kTrialVariable = "SYSOPT_TRIAL";
constexpr size_t kMaxQuotedChars = 80;

/// One piece of an argument template: literal text, or the value of a parameter.
struct Segment {
  std::string literal;
  int parameter = -1;     ///< Index into the parameter names; -1 for literal text.
  bool optional = false;  ///< `{name?}`: the argument is left out when the value is Inactive.
};
using ArgTemplate = std::vector<Segment>;

Expected<ArgTemplate> ParseArgTemplate(const std::string& arg, size_t index,
                                       const std::map<std::string, int>& parameter_index,
                                       const std::vector<std::string>& parameter_names,
                                       const std::vector<bool>& conditional) {
  ArgTemplate segments;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) segments.push_back({std::move(literal), -1});
    literal.clear();
  };
  for (size_t i = 0; i < arg.size();) {
    const char c = arg[i];
    if (c == '{' && i + 1 < arg.size() && arg[i + 1] == '{') {
      literal += '{';
      i += 2;
    } else if (c == '}' && i + 1 < arg.size() && arg[i + 1] == '}') {
      literal += '}';
      i += 2;
    } else if (c == '}') {
      return InvalidInput("command argument {} '{}': unmatched '}}' (write '}}}}' for a brace)",
                          index, arg);
    } else if (c == '{') {
      const size_t close = arg.find('}', i + 1);
      if (close == std::string::npos) {
        return InvalidInput("command argument {} '{}': unclosed '{{' (write '{{{{' for a brace)",
                            index, arg);
      }
      std::string name = arg.substr(i + 1, close - i - 1);
      auto it = parameter_index.find(name);
      // `{name?}` is the optional form, unless a parameter's own name ends in '?'.
      const bool optional = it == parameter_index.end() && !name.empty() && name.back() == '?';
      if (optional) it = parameter_index.find(name.substr(0, name.size() - 1));
      if (it == parameter_index.end()) {
        return InvalidInput(
            "command argument {} '{}': placeholder '{{{}}}' names no parameter (parameters: {}); "
            "write '{{{{' and '}}}}' for literal braces, e.g. \"awk 'BEGIN {{{{print 2}}}}'\"",
            index, arg, name, fmt::join(parameter_names, ", "));
      }
      const bool may_be_inactive =
          static_cast<size_t>(it->second) < conditional.size() && conditional[it->second];
      if (may_be_inactive && !optional) {
        return InvalidInput(
            "command argument {} '{}': parameter '{}' is conditional (inactive when its condition "
            "does not hold): write '{{{}?}}' to leave the argument out when it is inactive",
            index, arg, name, name);
      }
      if (optional && index == 0) {
        return InvalidInput("command argument 0 '{}': the program cannot be left out ('{{{}}}')",
                            arg, name);
      }
      if (optional && !may_be_inactive) {
        return InvalidInput(
            "command argument {} '{}': placeholder '{{{}}}' is optional, but parameter '{}' is "
            "not conditional: write '{{{}}}'",
            index, arg, name, it->first, it->first);
      }
      flush();
      segments.push_back({"", it->second, optional});
      i = close + 1;
    } else {
      literal += c;
      ++i;
    }
  }
  flush();
  return segments;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view LastNonEmptyLine(std::string_view output) {
  while (!output.empty()) {
    const size_t newline = output.rfind('\n');
    const std::string_view line =
        Trim(newline == std::string_view::npos ? output : output.substr(newline + 1));
    if (!line.empty()) return line;
    if (newline == std::string_view::npos) break;
    output = output.substr(0, newline);
  }
  return {};
}

std::string Quote(std::string_view line) {
  if (line.size() <= kMaxQuotedChars) return fmt::format("'{}'", line);
  return fmt::format("'{}...'", line.substr(0, kMaxQuotedChars));
}

Expected<double> CheckFinite(double value, const std::string& objective) {
  if (std::isnan(value)) return RuntimeError("objective '{}' is NaN", objective);
  if (std::isinf(value)) return RuntimeError("objective '{}' is infinite", objective);
  return value;
}

/// Parses a whole string as one number ("3", "-2.5e3", "nan", "inf"); nullopt otherwise.
std::optional<double> ParseNumber(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  // from_chars wants a digit before the point; bc and some printf formats omit it (".138").
  std::string with_zero;
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view body = negative ? text.substr(1) : text;
  if (body.size() >= 2 && body.front() == '.' && body[1] >= '0' && body[1] <= '9') {
    with_zero = std::string(negative ? "-0" : "0") + std::string(body);
    text = with_zero;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string EnvironmentName(const std::string& entry) { return entry.substr(0, entry.find('=')); }

class CommandRunner final : public Runner {
 public:
  CommandRunner(CommandSettings settings, std::vector<ArgTemplate> argv_template,
                std::vector<ArgTemplate> check_template, std::vector<std::string> parameter_names,
                std::vector<std::string> objective_names, std::vector<std::string> base_env)
      : settings_(std::move(settings)),
        argv_template_(std::move(argv_template)),
        check_template_(std::move(check_template)),
        parameter_names_(std::move(parameter_names)),
        objective_names_(std::move(objective_names)),
        base_env_(std::move(base_env)) {}

  RunResult Run(const Config& config, int64_t trial_number) override {
    RunResult result;
    SubprocessOptions options;
    std::vector<std::string> texts;
    if (auto prepared = Prepare(config, trial_number, options, texts); !prepared.ok()) {
      result.failure_reason = prepared.error().message();
      return result;
    }
    const int repeat = settings_.repeat;
    const int warmup = settings_.warmup;
    for (int r = -warmup; r < repeat; ++r) {
      options.timeout_s = TimeLimit();
      SubprocessOutcome outcome = RunSubprocess(options);
      if (r >= 0) result.run_seconds.push_back(outcome.seconds);
      result.elapsed_s += outcome.seconds;
      result.stderr_tail = std::move(outcome.stderr_tail);
      if (outcome.cancelled) return Interrupted(std::move(result));
      Expected<std::vector<double>> values = Judge(outcome, options.timeout_s);
      if (!values.ok()) {
        result.fatal = !outcome.started && StartFailureIsFatal();
        const std::string which =
            r < 0        ? fmt::format("warm-up run {} of {}: ", r + warmup + 1, warmup)
            : repeat > 1 ? fmt::format("repeat {} of {}: ", r + 1, repeat)
                         : "";
        result.failure_reason = which + values.error().message();
        return result;
      }
      if (settings_.default_timeout) settings_.default_timeout->Observe(outcome.exit_seconds);
      if (r >= 0) result.samples.push_back(std::move(*values));
    }
    if (!check_template_.empty()) {
      SubprocessOptions check = options;
      check.argv = Expand(check_template_, texts, config);
      check.timeout_s = TimeLimit();
      SubprocessOutcome outcome = RunSubprocess(check);
      result.elapsed_s += outcome.seconds;
      if (outcome.cancelled) return Interrupted(std::move(result));
      std::string why;
      if (!outcome.started) {
        why = outcome.start_error;
      } else if (outcome.timed_out) {
        why = fmt::format("timed out after {:g} s", check.timeout_s);
      } else if (outcome.signaled) {
        why = fmt::format("killed by signal {}", SignalName(outcome.signal_number));
      } else if (outcome.exit_code != 0) {
        why = fmt::format("exit code {}", outcome.exit_code);
      }
      if (!why.empty()) {
        result.stderr_tail = std::move(outcome.stderr_tail);
        result.failure_reason = "check failed: " + why;
        return result;
      }
    }
    result.values = AggregateSamples(result.samples, settings_.aggregate);
    result.ok = true;
    return result;
  }

 private:
  Expected<void> Prepare(const Config& config, int64_t trial_number, SubprocessOptions& options,
                         std::vector<std::string>& texts) const {
    if (config.size() != parameter_names_.size()) {
      return InvalidInput("configuration has {} values but the space has {} parameters",
                          config.size(), parameter_names_.size());
    }
    texts.reserve(config.size());
    nlohmann::json json = nlohmann::json::object();
    for (size_t i = 0; i < config.size(); ++i) {
      const auto* sequence = std::get_if<Sequence>(&config[i]);
      if (sequence != nullptr && i < settings_.alphabets.size() &&
          !settings_.alphabets[i].empty()) {
        const auto& alphabet = settings_.alphabets[i];
        std::vector<std::string> names;
        for (int item : sequence->items) {
          names.push_back(item >= 0 && static_cast<size_t>(item) < alphabet.size()
                              ? alphabet[static_cast<size_t>(item)]
                              : std::to_string(item));
        }
        texts.push_back(fmt::format("{}", fmt::join(names, ",")));
        json[parameter_names_[i]] = names;
      } else {
        texts.push_back(ValueToString(config[i]));
        json[parameter_names_[i]] = ValueToJson(config[i]);
      }
      if (texts.back().find('\0') != std::string::npos) {
        return InvalidInput("value of parameter '{}' contains a NUL character",
                            parameter_names_[i]);
      }
    }
    options.argv = Expand(argv_template_, texts, config);
    options.env = base_env_;
    // Invalid UTF-8 in a string value must not make the dump throw.
    options.env.push_back(
        fmt::format("{}={}", kConfigVariable,
                    json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    if (trial_number >= 0)
      options.env.push_back(fmt::format("{}={}", kTrialVariable, trial_number));
    options.working_dir = settings_.working_dir;
    options.cancel = settings_.cancel;
    return Ok();
  }

  // The arguments of a template for one configuration. An argument with an optional placeholder
  // of an inactive parameter is left out; a plain placeholder of a conditional parameter was
  // refused when the template was parsed.
  static std::vector<std::string> Expand(const std::vector<ArgTemplate>& templ,
                                         const std::vector<std::string>& texts,
                                         const Config& config) {
    std::vector<std::string> argv;
    for (const ArgTemplate& arg : templ) {
      std::string text;
      bool omitted = false;
      for (const Segment& segment : arg) {
        if (segment.parameter >= 0 && IsInactive(config[segment.parameter])) omitted = true;
        text += segment.parameter < 0 ? segment.literal : texts[segment.parameter];
      }
      if (!omitted) argv.push_back(std::move(text));
    }
    return argv;
  }

  // The limit of the next run: the settings' own, else the default derived from measurements.
  double TimeLimit() const {
    if (settings_.timeout_s > 0 || !settings_.default_timeout) return settings_.timeout_s;
    return settings_.default_timeout->Current().value_or(0);
  }

  static RunResult Interrupted(RunResult result) {
    result.interrupted = true;
    result.samples.clear();
    result.failure_reason = "interrupted";
    return result;
  }

  // A program that cannot be started fails the same way for every configuration unless a
  // placeholder chooses the program itself.
  bool StartFailureIsFatal() const {
    return std::all_of(argv_template_.front().begin(), argv_template_.front().end(),
                       [](const Segment& s) { return s.parameter < 0; });
  }

  Expected<std::vector<double>> Judge(const SubprocessOutcome& outcome, double limit_s) const {
    if (!outcome.started) return RuntimeError("{}", outcome.start_error);
    if (outcome.timed_out) {
      if (settings_.timeout_s > 0 || !settings_.default_timeout) {
        return RuntimeError("timed out after {:g} s", limit_s);
      }
      return RuntimeError("timed out after {:.3g} s ({}; set run.timeout_s or --timeout)", limit_s,
                          settings_.default_timeout->Explain());
    }
    if (outcome.signaled) {
      return RuntimeError("killed by signal {}", SignalName(outcome.signal_number));
    }
    if (outcome.exit_code != 0) return RuntimeError("exit code {}", outcome.exit_code);
    if (settings_.measure == Measure::kWallTime) {
      return std::vector<double>(objective_names_.size(), outcome.exit_seconds);
    }
    return ParseObjectiveOutput(outcome.stdout_tail, objective_names_);
  }

  const CommandSettings settings_;
  const std::vector<ArgTemplate> argv_template_;
  const std::vector<ArgTemplate> check_template_;
  const std::vector<std::string> parameter_names_;
  const std::vector<std::string> objective_names_;
  const std::vector<std::string> base_env_;  ///< Captured environment plus settings' extras.
};

}  // namespace

Expected<std::vector<double>> ParseObjectiveOutput(
    std::string_view output, const std::vector<std::string>& objective_names) {
  const std::string_view line = LastNonEmptyLine(output);
  if (line.empty()) {
    return RuntimeError("no output: expected a number or a JSON object on the last line");
  }
  if (line.front() == '{') {
    // A deeply nested value would overflow the stack when dumped or compared.
    if (FindTooDeepJson(line) != std::string_view::npos) {
      return RuntimeError("unparseable output: JSON nested deeper than {} levels: {}",
                          kMaxJsonDepth, Quote(line));
    }
    const nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      return RuntimeError("unparseable output: {}", Quote(line));
    }
    std::vector<double> values;
    for (const std::string& name : objective_names) {
      const auto it = json.find(name);
      if (it == json.end()) return RuntimeError("objective '{}' missing from output", name);
      if (!it->is_number()) {
        return RuntimeError("objective '{}' is not a number: {}", name,
                            Quote(JsonExcerpt(*it, kMaxQuotedChars + 1)));
      }
      Expected<double> value = CheckFinite(it->get<double>(), name);
      if (!value.ok()) return value.error();
      values.push_back(*value);
    }
    return values;
  }
  const std::optional<double> number = ParseNumber(line);
  if (!number) return RuntimeError("unparseable output: {}", Quote(line));
  if (objective_names.size() != 1) {
    return RuntimeError(
        "output is one number but {} objectives are expected ({}): print a JSON "
        "object",
        objective_names.size(), fmt::join(objective_names, ", "));
  }
  Expected<double> value = CheckFinite(*number, objective_names.front());
  if (!value.ok()) return value.error();
  return std::vector<double>{*value};
}

Expected<std::unique_ptr<Runner>> MakeCommandRunner(CommandSettings settings,
                                                    std::vector<std::string> parameter_names,
                                                    std::vector<std::string> objective_names) {
  if (settings.command.empty()) return InvalidInput("command: must not be empty");
  if (settings.repeat < 1)
    return InvalidInput("repeat: must be at least 1, got {}", settings.repeat);
  if (!std::isfinite(settings.timeout_s) || settings.timeout_s < 0) {
    return InvalidInput("timeout: must be a non-negative number of seconds, got {}",
                        settings.timeout_s);
  }
  if (objective_names.empty()) return InvalidInput("objectives: at least one is required");
  std::map<std::string, int> parameter_index;
  for (size_t i = 0; i < parameter_names.size(); ++i) {
    if (!parameter_index.emplace(parameter_names[i], static_cast<int>(i)).second) {
      return InvalidInput("parameter '{}' is named twice", parameter_names[i]);
    }
  }
  if (settings.warmup < 0) {
    return InvalidInput("warmup: must be at least 0, got {}", settings.warmup);
  }
  if (settings.measure == Measure::kWallTime && objective_names.size() != 1) {
    return InvalidInput("objective \"wall-time\" measures one objective, but {} are declared",
                        objective_names.size());
  }
  std::vector<ArgTemplate> argv_template;
  for (size_t i = 0; i < settings.command.size(); ++i) {
    Expected<ArgTemplate> arg = ParseArgTemplate(settings.command[i], i, parameter_index,
                                                 parameter_names, settings.conditional);
    if (!arg.ok()) return arg.error();
    argv_template.push_back(std::move(*arg));
  }
  std::vector<ArgTemplate> check_template;
  for (size_t i = 0; i < settings.check.size(); ++i) {
    Expected<ArgTemplate> arg = ParseArgTemplate(settings.check[i], i, parameter_index,
                                                 parameter_names, settings.conditional);
    if (!arg.ok()) return arg.error().WithContext("check");
    check_template.push_back(std::move(*arg));
  }

  std::set<std::string> overridden = {std::string(kConfigVariable), std::string(kTrialVariable)};
  for (const auto& [name, value] : settings.env) {
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
      return InvalidInput("env: invalid variable '{}'", name);
    }
    if (name == kConfigVariable || name == kTrialVariable) {
      return InvalidInput("env: '{}' is set by the runner itself", name);
    }
    overridden.insert(name);
  }
  std::vector<std::string> base_env;
  for (std::string& text : CurrentEnvironment()) {
    if (overridden.count(EnvironmentName(text)) == 0) base_env.push_back(std::move(text));
  }
  for (const auto& [name, value] : settings.env) base_env.push_back(name + "=" + value);

  return std::unique_ptr<Runner>(std::make_unique<CommandRunner>(
      std::move(settings), std::move(argv_template), std::move(check_template),
      std::move(parameter_names), std::move(objective_names), std::move(base_env)));
}

}  // namespace sysopt
