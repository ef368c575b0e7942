#include "sysopt/core/duration.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <string>

namespace sysopt {

Expected<double> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return InvalidInput("'{}' is not a duration (write e.g. 90s, 10m, 1h or 1h30m)", text);
  };
  if (text.empty()) return bad();
  double total = 0;
  std::string_view rest = text;
  bool first = true;
  while (!rest.empty()) {
    double value = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || !std::isfinite(value) || value < 0) return bad();
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    double unit = 1;
    if (rest.rfind("ms", 0) == 0) {
      unit = 0.001;
      rest.remove_prefix(2);
    } else if (!rest.empty() &&
               (rest.front() == 's' || rest.front() == 'm' || rest.front() == 'h')) {
      unit = rest.front() == 's' ? 1 : rest.front() == 'm' ? 60 : 3600;
      rest.remove_prefix(1);
    } else if (!rest.empty() || !first) {
      return bad();  // a number without a unit must be the whole text ("1h30" is unclear)
    }
    total += value * unit;
    first = false;
  }
  return total;
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  if (seconds < 60) return fmt::format("{:.0f} s", std::ceil(seconds));
  const auto total = static_cast<long long>(std::lround(seconds));
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

}  // namespace sysopt
