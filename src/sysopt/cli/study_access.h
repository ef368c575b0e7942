#pragma once
/// \brief Opening the storage and the study that reading commands name.

#include <memory>
#include <string>

#include "sysopt/core/expected.h"
#include "sysopt/storage/storage.h"
#include "sysopt/study/study.h"

namespace sysopt::cli {

/// \brief Default storage file of every command.
inline constexpr const char* kDefaultStorage = "sysopt.db";

/// \brief sysopt::OpenExistingStudy; warns on stderr about each stored trial that cannot be used (WarnSetAside).
Expected<OpenedStudy> OpenExistingStudy(const std::string& storage_url, const std::string& name);

/// \brief Prints one warning on stderr for each trial the study set aside, naming it and why.
void WarnSetAside(const Study& study);

}  // namespace sysopt::cli
