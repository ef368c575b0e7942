#include "sysopt/storage/storage.h"

#include "sysopt/storage/memory_storage.h"
#include "sysopt/storage/sqlite_storage.h"

namespace sysopt {

std::string_view TrialStateName(TrialState state) {
  switch (state) {
    case TrialState::kRunning:
      return "RUNNING";
    case TrialState::kComplete:
      return "COMPLETE";
    case TrialState::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

Expected<TrialState> ParseTrialState(std::string_view name) {
  for (TrialState s : {TrialState::kRunning, TrialState::kComplete, TrialState::kFailed}) {
    if (TrialStateName(s) == name) return s;
  }
  return InvalidInput("unknown trial state '{}' (expected RUNNING, COMPLETE or FAILED)", name);
}

std::string StorageFilePath(const std::string& url) {
  if (url == "memory" || url == ":memory:") return "";
  std::string path = url;
  constexpr std::string_view kPrefix = "sqlite:";
  if (path.starts_with(kPrefix)) {
    path.erase(0, kPrefix.size());
    // SQLAlchemy-style "sqlite:///relative.db" and "sqlite:////abs/path.db".
    if (path.starts_with("///")) path.erase(0, 3);
  }
  return path;
}

Expected<std::unique_ptr<Storage>> OpenStorage(const std::string& url) {
  if (url == "memory" || url == ":memory:") return MakeMemoryStorage();
  const std::string path = StorageFilePath(url);
  if (path.empty()) return InvalidInput("storage URL '{}' names no database file", url);
  return OpenSqliteStorage(path);
}

}  // namespace sysopt
