#include <fmt/core.h>

#include <cstdio>

#include "sysopt/cli/command.h"

namespace sysopt::cli {

int ExitCodeFor(const Error& error) {
  switch (error.kind()) {
    case ErrorKind::kInvalidInput:
    case ErrorKind::kNotFound:
      return kExitBadInput;
    case ErrorKind::kIo:
    case ErrorKind::kRuntime:
      return kExitFailure;
  }
  return kExitFailure;
}

int ReportError(const Error& error) {
  fmt::print(stderr, "sysopt: error: {}\n", error.message());
  return ExitCodeFor(error);
}

}  // namespace sysopt::cli
