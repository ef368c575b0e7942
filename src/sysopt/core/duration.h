#pragma once
/// \file
/// \brief Durations as people write them on a command line: "90", "90s", "1.5m", "10m", "1h",
/// "1h30m", "500ms".

#include <string_view>

#include "sysopt/core/expected.h"

namespace sysopt {

/// \brief Seconds in `text`: one or more number-unit pairs (units ms, s, m, h; a lone number is
/// seconds). InvalidInput, quoting the text, for anything else or a negative duration.
Expected<double> ParseDuration(std::string_view text);

/// \brief A duration for people: "45 s", "3m20s", "1h05m".
std::string FormatDuration(double seconds);

}  // namespace sysopt
