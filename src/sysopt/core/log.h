#pragma once
/// \brief Where library code reports progress and warnings. The library never prints: it calls a
/// sink installed by the program (the CLI prints; tests and embedders may collect or ignore).
/// Thread safety: SetLogSink must be called before concurrent use; Log may be called from any
/// thread (the installed sink must itself be thread-safe).

#include <functional>
#include <string>
#include <string_view>

namespace sysopt {

enum class LogLevel { kDebug, kInfo, kWarning };

using LogSink = std::function<void(LogLevel, std::string_view)>;

/// \brief Installs the sink; an empty function discards messages (the default).
void SetLogSink(LogSink sink);

/// \brief Sends one message to the installed sink.
void Log(LogLevel level, std::string_view message);

}  // namespace sysopt
