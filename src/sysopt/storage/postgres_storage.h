#pragma once
/// \file
/// \brief The PostgreSQL backend (libpq): one study shared by workers on many machines.
///
/// Selected by a libpq connection URL, `postgresql://user[:password]@host[:port]/database`
/// (query parameters such as `?host=/path/to/socket` are libpq's). The tables are sysopt's own
/// (`sysopt_schema`, `sysopt_studies`, `sysopt_study_attrs`, `sysopt_trials`) and are created on
/// first use; `sysopt_schema` holds kPostgresSchemaVersion. Every method is one transaction.
/// Writers of one study serialise on its row (`SELECT ... FOR UPDATE`), which numbers trials,
/// checks reservation keys and the budget, and orders revisions.
///
/// A lost connection is retried with backoff (0.1 s doubling to 2 s) for kPostgresRetryS
/// seconds (the environment variable SYSOPT_STORAGE_RETRY_S overrides it); a call whose
/// commit may or may not have reached the server is recognised when retried, so that it takes
/// effect once. When the retries run out the call fails with IoError.
///
/// Thread safety: one connection per storage, used by one thread at a time (a mutex).

#include <memory>
#include <string>

#include "sysopt/core/expected.h"
#include "sysopt/storage/storage.h"

namespace sysopt {

/// \brief The schema version this build writes and reads (table sysopt_schema).
inline constexpr int kPostgresSchemaVersion = 1;

/// \brief Seconds a lost connection is retried for before a call fails.
inline constexpr double kPostgresRetryS = 60;

/// \brief Connects to the database the URL names and creates the schema there when missing.
///
/// InvalidInput (naming the URL, its password hidden) when the server cannot be reached, refuses
/// the credentials, or holds a sysopt schema of another version.
Expected<std::unique_ptr<Storage>> OpenPostgresStorage(const std::string& url);

}  // namespace sysopt
