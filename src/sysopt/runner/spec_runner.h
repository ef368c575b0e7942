#pragma once
/// \brief The command runner a spec describes: its run section, its parameter names (for
/// placeholders and SYSOPT_CONFIG) and its objective names (for parsing the output).

#include <memory>

#include "sysopt/core/expected.h"
#include "sysopt/runner/cancellation.h"
#include "sysopt/runner/default_timeout.h"
#include "sysopt/runner/runner.h"
#include "sysopt/space/spec.h"

namespace sysopt {

/// \brief What a tuning run lends the runner beyond the spec.
struct SpecRunnerHooks {
  /// Used when the spec sets no timeout_s (see default_timeout.h); null: no limit then.
  std::shared_ptr<DefaultTimeout> default_timeout;
  /// Borrowed: stops the runs in flight when requested (see cancellation.h).
  const Cancellation* cancel = nullptr;
};

/// \brief Builds the runner of `spec.run`; fails when the spec has no run section or its command
/// template or settings are invalid (the error names the placeholder or setting).
Expected<std::unique_ptr<Runner>> MakeSpecRunner(const Spec& spec,
                                                 const SpecRunnerHooks& hooks = {});

}  // namespace sysopt
