#include "sysopt/remat/size.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace sysopt::remat {

namespace {

std::string Trimmed(std::string_view text) {
  std::string s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

// Bytes per unit (lower case, spaces removed), or 0 for an unknown unit.
double UnitScale(const std::string& unit) {
  if (unit.empty() || unit == "b") return 1.0;
  if (unit == "kb") return 1e3;
  if (unit == "mb") return 1e6;
  if (unit == "gb") return 1e9;
  if (unit == "tb") return 1e12;
  if (unit == "k" || unit == "kib") return 1024.0;
  if (unit == "m" || unit == "mib") return 1024.0 * 1024;
  if (unit == "g" || unit == "gib") return 1024.0 * 1024 * 1024;
  if (unit == "t" || unit == "tib") return 1024.0 * 1024 * 1024 * 1024;
  return 0.0;
}

std::string LowerNoSpaces(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

}  // namespace

Expected<int64_t> ParseSize(std::string_view text) {
  const std::string s = Trimmed(text);
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
  const std::string unit = LowerNoSpaces(std::string_view(s).substr(pos));
  const double scale = UnitScale(unit);
  if (scale == 0.0) {
    return InvalidInput("size '{}': unknown unit '{}' (use B, KB, MB, GB, KiB, MiB, GiB)", text,
                        unit);
  }
  const double bytes = number * scale;
  if (!std::isfinite(bytes) || bytes > 9.0e18) return InvalidInput("size '{}': too large", text);
  return static_cast<int64_t>(std::llround(bytes));
}

Expected<double> ParseBandwidth(std::string_view text) {
  const std::string s = Trimmed(text);
  double number = 0.0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), number);
  if (ec != std::errc() || ptr == s.data()) {
    return InvalidInput("rate '{}': expected a number of bytes per second such as 12GB/s", text);
  }
  std::string unit = LowerNoSpaces(std::string_view(s).substr(ptr - s.data()));
  if (!unit.empty()) {
    if (unit.size() < 2 || unit.substr(unit.size() - 2) != "/s") {
      return InvalidInput("rate '{}': expected a unit per second such as GB/s, got '{}'", text,
                          unit);
    }
    unit.resize(unit.size() - 2);
  }
  const double scale = UnitScale(unit);
  if (scale == 0.0) {
    return InvalidInput("rate '{}': unknown unit '{}/s' (use B/s, KB/s, MB/s, GB/s, MiB/s, GiB/s)",
                        text, unit);
  }
  const double rate = number * scale;
  if (!std::isfinite(rate) || rate <= 0) {
    return InvalidInput("rate '{}': must be positive and finite", text);
  }
  return rate;
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
