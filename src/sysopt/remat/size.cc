#include "sysopt/remat/size.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace sysopt::remat {

Expected<int64_t> ParseSize(std::string_view text) {
  std::string s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  s = s.substr(start);
  size_t pos = 0;
  while (pos < s.size() && (std::isdigit(static_cast<unsigned char>(s[pos])) || s[pos] == '.')) {
    ++pos;
  }
  if (pos == 0) return InvalidInput("size '{}': expected a number such as 6GiB or 512MB", text);
  double number = 0.0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + pos, number);
  if (ec != std::errc() || ptr != s.data() + pos) {
    return InvalidInput("size '{}': '{}' is not a number", text, s.substr(0, pos));
  }
  std::string unit;
  for (size_t i = pos; i < s.size(); ++i) {
    if (!std::isspace(static_cast<unsigned char>(s[i]))) {
      unit += static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    }
  }
  double scale = 0.0;
  if (unit.empty() || unit == "b")
    scale = 1.0;
  else if (unit == "kb")
    scale = 1e3;
  else if (unit == "mb")
    scale = 1e6;
  else if (unit == "gb")
    scale = 1e9;
  else if (unit == "tb")
    scale = 1e12;
  else if (unit == "k" || unit == "kib")
    scale = 1024.0;
  else if (unit == "m" || unit == "mib")
    scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gib")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tib")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else
    return InvalidInput("size '{}': unknown unit '{}' (use B, KB, MB, GB, KiB, MiB, GiB)", text,
                        unit);
  const double bytes = number * scale;
  if (!std::isfinite(bytes) || bytes > 9.0e18) return InvalidInput("size '{}': too large", text);
  return static_cast<int64_t>(std::llround(bytes));
}

std::string FormatBytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (std::fabs(value) >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.3g} {}", value, kUnits[unit]);
}

}  // namespace sysopt::remat
