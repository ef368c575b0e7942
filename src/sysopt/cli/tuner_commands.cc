#include "sysopt/cli/command.h"

namespace sysopt::cli {
// Filled in with the tuner; registered now so that the CLI links.
void RegisterTune(CLI::App&, Action*) {}
void RegisterBest(CLI::App&, Action*) {}
void RegisterExport(CLI::App&, Action*) {}
void RegisterValidate(CLI::App&, Action*) {}
}  // namespace sysopt::cli
