#pragma once
/// \brief The command runner a spec describes: its run section, its parameter names (for
/// placeholders and SYSOPT_CONFIG) and its objective names (for parsing the output).

#include <memory>

#include "sysopt/core/expected.h"
#include "sysopt/runner/runner.h"
#include "sysopt/space/spec.h"

namespace sysopt {

/// \brief Builds the runner of `spec.run`; fails when the spec has no run section or its command
/// template or settings are invalid (the error names the placeholder or setting).
Expected<std::unique_ptr<Runner>> MakeSpecRunner(const Spec& spec);

}  // namespace sysopt
