#pragma once
/// \file
/// \brief Memory sizes and transfer rates as users write them: "6GiB", "512MB", "1.5G",
/// "1048576", "12GB/s".

#include <cstdint>
#include <string>
#include <string_view>

#include "sysopt/core/expected.h"

namespace sysopt::remat {

/// \brief Parses a size: a non-negative number with an optional unit B, KB, MB, GB, TB
/// (powers of 1000), KiB, MiB, GiB, TiB or K, M, G, T (powers of 1024). Case-insensitive.
Expected<int64_t> ParseSize(std::string_view text);

/// \brief Parses a transfer rate in bytes per second: a positive number, optionally with a
/// unit of ParseSize followed by "/s" ("12GB/s", "900 MiB/s", "1.5e9").
Expected<double> ParseBandwidth(std::string_view text);

/// \brief Formats bytes with a binary unit and three significant digits, e.g. "1.50 GiB".
std::string FormatBytes(int64_t bytes);

}  // namespace sysopt::remat
