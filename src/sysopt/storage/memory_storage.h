#pragma once
/// \file
/// \brief The memory backend: studies and trials live in this process and vanish with it.
/// Useful for tests, for embedding, and for runs that need no resuming. Thread-safe (one mutex).

#include <memory>

#include "sysopt/storage/storage.h"

namespace sysopt {

/// \brief A new, empty storage kept in memory. Ids start at 1, like the SQLite backend's.
std::unique_ptr<Storage> MakeMemoryStorage();

}  // namespace sysopt
