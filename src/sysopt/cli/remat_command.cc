#include "sysopt/cli/command.h"

namespace sysopt::cli {
void RegisterRemat(CLI::App&, Action*) {}
}  // namespace sysopt::cli
