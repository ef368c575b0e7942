#include "sysopt/cli/study_access.h"

#include <fmt/core.h>

#include <cstdio>
#include <filesystem>

namespace sysopt::cli {

Expected<OpenedStudy> OpenExistingStudy(const std::string& storage_url, const std::string& name) {
  // The URL is read exactly as OpenStorage reads it ("sqlite:///rel.db" included).
  const std::string path = StorageFilePath(storage_url);
  if (!path.empty() && !std::filesystem::exists(path)) {
    return NotFound(
        "storage file '{}' does not exist (run 'sysopt tune' first, or pass "
        "--storage)",
        path);
  }
  auto storage = OpenStorage(storage_url);
  if (!storage.ok()) return storage.error();
  std::string study_name = name;
  if (study_name.empty()) {
    auto all = (*storage)->ListStudies();
    if (!all.ok()) return all.error();
    if (all->size() != 1) {
      std::string names;
      for (const auto& s : *all) names += (names.empty() ? "" : ", ") + s.name;
      return InvalidInput("storage '{}' holds {} studies ({}); choose one with --study",
                          RedactStorageUrl(storage_url), all->size(),
                          names.empty() ? "none" : names);
    }
    study_name = all->front().name;
  }
  auto study = Study::Load(**storage, study_name);
  if (!study.ok()) return study.error();
  WarnSetAside(**study);
  return OpenedStudy{std::move(*storage), std::move(*study)};
}

void WarnSetAside(const Study& study) {
  for (const SetAsideTrial& t : study.SetAside()) {
    fmt::print(stderr, "sysopt: warning: trial #{} of study '{}' is left out: {}\n", t.number,
               study.name(), t.reason);
  }
}

}  // namespace sysopt::cli
