#pragma once
/// \brief What every subcommand shares: exit codes, error printing, and how a subcommand hooks
/// itself into the CLI11 application built in main.cc.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "sysopt/core/expected.h"

namespace sysopt::cli {

inline constexpr int kExitOk = 0;        ///< The command did what was asked.
inline constexpr int kExitFailure = 1;   ///< It ran but something failed (I/O, a solver, a run).
inline constexpr int kExitBadInput = 2;  ///< The input (flags, spec, graph, storage name) is wrong.

/// \brief The exit code for an error: 2 for invalid input or a missing named thing, else 1.
int ExitCodeFor(const Error& error);

/// \brief Prints `sysopt: error: <message>` to stderr and returns ExitCodeFor(error).
int ReportError(const Error& error);

/// \brief The work a chosen subcommand does once its flags are parsed; returns the exit code.
using Action = std::function<int()>;

/// \brief Each Register* adds one subcommand (with its --help text) to `app`; when the user picks
/// it, `*action` is set to the work to run. main.cc calls them all, parses, then runs `*action`.
void RegisterTune(CLI::App& app, Action* action);
void RegisterWorker(CLI::App& app, Action* action);
void RegisterBest(CLI::App& app, Action* action);
void RegisterExport(CLI::App& app, Action* action);
void RegisterValidate(CLI::App& app, Action* action);
void RegisterRemat(CLI::App& app, Action* action);
void RegisterLlvm(CLI::App& app, Action* action);  ///< Only in builds with the compile part.
void RegisterReport(CLI::App& app, Action* action);

/// \brief The one line `tune` ends with: the exact `sysopt report` command for the study, its
/// values shell-quoted; empty for a memory storage, which keeps nothing to report on.
std::string ReportHint(const std::string& storage, const std::string& study);

}  // namespace sysopt::cli
