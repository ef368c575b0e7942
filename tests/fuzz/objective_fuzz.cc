// Fuzzes the parsing of a program's output into objective values.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/runner/command_runner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::vector<std::string>> objectives = {{"time"}, {"time", "energy"}};
  for (const auto& names : objectives) {
    auto values = sysopt::ParseObjectiveOutput(text, names);
    if (!values.ok()) {
      if (values.error().message().empty()) abort();
      continue;
    }
    if (values->size() != names.size()) abort();
    for (double v : *values) {
      if (!std::isfinite(v)) abort();
    }
  }
  return 0;
}
