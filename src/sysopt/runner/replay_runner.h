#pragma once
/// \file
/// \brief Replay (simulation) of a recorded, exhaustively measured tuning space: each
/// configuration is answered from a table of measurements instead of being run, as Kernel Tuner's
/// simulation mode answers from its cache files. Tuning strategies can then be compared on real
/// spaces at no cost, with the same seeds and budgets.
///
/// Two recording formats are read, plain or gzip-compressed (by content, whatever the name):
/// - a Kernel Tuner cache file: {"tune_params_keys": [...], "tune_params": {...},
///   "objective": "time", "cache": {"v1,v2,...": {"<param>": v, ..., "time": t, "times": [...]}}}
///   where a failed configuration's objective is a string ("CompileFailedConfig",
///   "RuntimeFailedConfig", "InvalidConfig");
/// - a T4 results file (the Autotuning Association's format, as `sysopt export --format t4`
///   writes): {"results": [{"configuration": {...}, "invalidity": "correct" | ...,
///   "measurements": [{"name": ..., "value": ...}], "times": {"runtimes": [...]}}]}.
///
/// A configuration recorded as failed is a failed trial with the recorded reason; one the
/// recording lacks is a failed trial saying so. Recorded configurations outside the space (a
/// value the space does not have, or one its constraints exclude) are counted and left out.
///
/// Thread safety: a ReplayTable is immutable once loaded; the runner's Run may be called
/// concurrently.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/runner/runner.h"
#include "sysopt/space/spec.h"

namespace sysopt {

/// \brief One recorded configuration.
struct ReplayEntry {
  Config config;
  bool ok = false;
  std::vector<double> values;                ///< One per objective, when ok.
  std::vector<std::vector<double>> samples;  ///< The recorded repeats, when there are any.
  std::string failure;                       ///< The recorded failure, when not ok.
};

/// \brief A recording read against a space.
struct ReplayTable {
  std::string path;
  std::string format;                ///< "kernel-tuner" or "t4".
  std::vector<ReplayEntry> entries;  ///< In the space, in the recording's order.
  int failed = 0;                    ///< Entries recorded as failed.
  int outside = 0;                   ///< Recorded configurations left out (not in the space).
  std::string first_outside;         ///< The first of them and why, for messages.
  /// \brief The entry of `config`, or null when the recording lacks it.
  const ReplayEntry* Find(const Config& config) const;
  /// \brief The best successful entry on the first objective (null when none succeeded).
  const ReplayEntry* Best(bool minimize) const;

  std::map<std::string, size_t> index;  ///< Canonical configuration text -> entry.
};

/// \brief Reads a Kernel Tuner cache file or a T4 results file (gzip or plain) against the
/// spec's space and objectives. Errors (unreadable file, not JSON, neither format, a parameter
/// the space lacks or misses, an entry without its objective) name the file, the entry and the
/// field.
Expected<ReplayTable> LoadReplayTable(const std::string& path, const Spec& spec);

/// \brief A runner answering from `table` (see the file comment).
std::unique_ptr<Runner> MakeReplayRunner(std::shared_ptr<const ReplayTable> table);

/// \brief The text ReplayTable indexes a configuration by.
std::string ReplayKey(const Config& config);

}  // namespace sysopt
