#include "sysopt/cli/study_access.h"

#include <fmt/core.h>

#include <cstdio>

namespace sysopt::cli {

Expected<OpenedStudy> OpenExistingStudy(const std::string& storage_url, const std::string& name) {
  auto opened = sysopt::OpenExistingStudy(storage_url, name, "--study");
  if (!opened.ok()) return opened.error();
  WarnSetAside(*opened->study);
  return opened;
}

void WarnSetAside(const Study& study) {
  for (const SetAsideTrial& t : study.SetAside()) {
    fmt::print(stderr, "sysopt: warning: trial #{} of study '{}' is left out: {}\n", t.number,
               study.name(), t.reason);
  }
}

}  // namespace sysopt::cli
