// sysopt: the command-line front end. Parses flags, runs the chosen subcommand, maps failures to
// exit codes (0 ok, 1 runtime failure, 2 bad input).
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "sysopt/cli/command.h"

int main(int argc, char** argv) {
  using namespace sysopt::cli;
  CLI::App app{
      "sysopt: search and learning in place of hand-written systems heuristics.\n"
      "Tune any program's configuration, search LLVM pass orderings, or plan training memory by "
      "rematerialisation."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sysopt 0.1.0");
  Action action;
  RegisterTune(app, &action);
  RegisterWorker(app, &action);
  RegisterBest(app, &action);
  RegisterExport(app, &action);
  RegisterValidate(app, &action);
  RegisterRemat(app, &action);
  RegisterReport(app, &action);
#ifdef SYSOPT_WITH_COMPILE
  RegisterLlvm(app, &action);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  try {
    return action ? action() : kExitOk;
  } catch (const std::exception& e) {
    // Expected failures come back as errors; an exception here is a bug in sysopt.
    fmt::print(stderr, "sysopt: internal error: {}\n", e.what());
    return kExitFailure;
  }
}
