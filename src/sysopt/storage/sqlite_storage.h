#pragma once
/// \file
/// \brief The SQLite backend: one database file in WAL mode, shared safely by the threads of a
/// process and by several processes (for example several `sysopt tune` runs on one study).
///
/// Format: the schema is versioned with `PRAGMA user_version` (kSqliteSchemaVersion) and tagged
/// with `PRAGMA application_id` (kSqliteApplicationId). Configs, values, samples, specs and
/// attributes are stored as JSON text; reals are written in the shortest form that reads back
/// exactly, and non-finite reals in values and samples as the strings "NaN", "Infinity",
/// "-Infinity". tests/storage/sqlite_storage_test.cc holds the exact expected schema: changing
/// the format means raising kSqliteSchemaVersion and updating that test.

#include <cstdint>
#include <memory>
#include <string>

#include "sysopt/core/expected.h"
#include "sysopt/storage/storage.h"

namespace sysopt {

/// \brief The schema version this build writes and reads (`PRAGMA user_version`).
inline constexpr int kSqliteSchemaVersion = 2;

/// \brief Marks a file as a sysopt database (`PRAGMA application_id`): "SYSO" in ASCII.
inline constexpr int32_t kSqliteApplicationId = 0x5359534F;

/// \brief Opens (creating if needed) the SQLite database at `path`.
///
/// A new or empty file gets the current schema. IoError (naming the path) when the file cannot
/// be opened or created, or is not a database; InvalidInput (naming the path) when it is a
/// database of another application or has a schema version other than kSqliteSchemaVersion
/// (a version 1 file is upgraded in place to version 2 on opening).
/// Each CreateTrial and FinishTrial is its own committed transaction before it returns.
Expected<std::unique_ptr<Storage>> OpenSqliteStorage(const std::string& path);

}  // namespace sysopt
