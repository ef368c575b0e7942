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

Expected<TrialRecord> Storage::CreateTrial(int64_t study_id, const Config& config,
                                           const std::string& worker, double start_time) {
  auto reserved = ReserveTrial(study_id, TrialRequest{config, worker, start_time, "", 0});
  if (!reserved.ok()) return reserved.error();
  return std::move(reserved->trial);
}

StorageUrl ParseStorageUrl(const std::string& url) {
  if (url == "memory" || url == ":memory:") return {StorageKind::kMemory, ""};
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return {StorageKind::kPostgres, url};
  }
  std::string path = url;
  constexpr std::string_view kPrefix = "sqlite:";
  if (path.starts_with(kPrefix)) {
    path.erase(0, kPrefix.size());
    // SQLAlchemy-style "sqlite:///relative.db" and "sqlite:////abs/path.db".
    if (path.starts_with("///")) path.erase(0, 3);
  }
  return {StorageKind::kSqlite, path};
}

std::string StorageFilePath(const std::string& url) {
  const StorageUrl parsed = ParseStorageUrl(url);
  return parsed.kind == StorageKind::kSqlite ? parsed.location : "";
}

std::string RedactStorageUrl(const std::string& url) {
  if (ParseStorageUrl(url).kind != StorageKind::kPostgres) return url;
  // scheme://user:password@host...: the password is between the first ':' after the scheme
  // and the last '@' of the authority.
  const size_t start = url.find("://") + 3;
  const size_t slash = url.find('/', start);
  const std::string authority = url.substr(start, slash == std::string::npos ? slash : slash - start);
  const size_t at = authority.rfind('@');
  if (at == std::string::npos) return url;
  const size_t colon = authority.find(':');
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, start + colon + 1) + "***" + url.substr(start + at);
}

Expected<std::unique_ptr<Storage>> OpenStorage(const std::string& url) {
  const StorageUrl parsed = ParseStorageUrl(url);
  switch (parsed.kind) {
    case StorageKind::kMemory:
      return MakeMemoryStorage();
    case StorageKind::kPostgres:
      return OpenPostgresStorage(parsed.location);
    case StorageKind::kSqlite:
      break;
  }
  if (parsed.location.empty()) return InvalidInput("storage URL '{}' names no database file", url);
  return OpenSqliteStorage(parsed.location);
}

}  // namespace sysopt
