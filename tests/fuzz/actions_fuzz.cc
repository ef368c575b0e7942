// Fuzzes what `sysopt llvm passes` reads back of a pass-ordering study: action names (by id,
// LLVM name or CompilerGym name), a stored configuration row (a JSON array of values, as the
// storage decodes it) and a configuration by names (`{"passes": [...]}`, as export and import
// write it), over both action sets. Any bytes give actions or an error, never a crash; actions
// that are accepted lie in the action set and give one pipeline step each.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/compile/actions.h"
#include "sysopt/core/json.h"
#include "sysopt/core/value.h"
#include "sysopt/space/space.h"

namespace {

using sysopt::Config;
using sysopt::Sequence;
using sysopt::Space;

const Space& PassSpace(bool compiler_gym_only) {
  static const Space extended =
      *Space::Create({sysopt::PassSequenceParameter(40, false)}, {});
  static const Space gym = *Space::Create({sysopt::PassSequenceParameter(40, true)}, {});
  return compiler_gym_only ? gym : extended;
}

// The checks `llvm passes` relies on before it turns a configuration into a pipeline.
void CheckActions(const Space& space, const Config& config) {
  if (config.size() != 1) abort();
  const auto* sequence = std::get_if<Sequence>(&config[0]);
  if (sequence == nullptr) abort();
  const auto& items = sequence->items;
  const size_t alphabet = space.parameters()[0].values.size();
  if (items.size() > 40) abort();
  for (int a : items) {
    if (a < 0 || static_cast<size_t>(a) >= alphabet) abort();
    // The alphabet is the action set's prefix, in order.
    if (sysopt::FindPassAction(sysopt::ActionId(a)) != a) abort();
  }
  const std::string pipeline = sysopt::PipelineText(items);
  size_t steps = pipeline.empty() ? 0 : 1;
  for (char c : pipeline) steps += c == ',';
  if (steps != items.size()) abort();
  // Written by names and read back: the same configuration.
  auto again = space.ConfigFromJson(space.ConfigToJson(config));
  if (!again.ok() || *again != config) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Names separated by spaces or commas, as a person lists passes.
  size_t begin = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != ' ' && text[i] != ',' && text[i] != '\n') continue;
    const std::string_view name = text.substr(begin, i - begin);
    begin = i + 1;
    const auto found = sysopt::FindPassAction(name);
    if (!found) continue;
    if (*found < 0 || static_cast<size_t>(*found) >= sysopt::PassActions().size()) abort();
    const sysopt::PassAction& action = sysopt::PassActions()[*found];
    if (name != sysopt::ActionId(*found) && name != action.name &&
        name != action.compiler_gym_name) {
      abort();
    }
  }
  auto json = sysopt::ParseJson(text);
  if (!json.ok()) return 0;
  for (const bool gym : {false, true}) {
    const Space& space = PassSpace(gym);
    if (json->is_array()) {
      // A stored row: decoded value by value, then kept only if it lies in the domain.
      Config config;
      bool decoded = true;
      for (const auto& element : *json) {
        auto value = sysopt::ValueFromJson(element);
        if (!value.ok()) {
          if (value.error().message().empty()) abort();
          decoded = false;
          break;
        }
        config.push_back(std::move(*value));
      }
      if (!decoded || config.size() != 1) continue;
      auto checked = space.parameters()[0].Check(config[0]);
      if (!checked.ok()) {
        if (checked.error().message().empty()) abort();
        continue;
      }
      if (!space.Check(config).ok()) abort();
      CheckActions(space, config);
    } else {
      auto config = space.ConfigFromJson(*json);
      if (!config.ok()) {
        if (config.error().message().empty()) abort();
        continue;
      }
      CheckActions(space, *config);
    }
  }
  return 0;
}
