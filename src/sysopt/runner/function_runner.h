#pragma once
/// \file
/// \brief An in-process runner around a function, for built-in problems, benchmarks and tests.
///
/// Thread safety: Run may be called concurrently; it calls the function concurrently, so the
/// function must itself be safe for that.

#include <functional>
#include <memory>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/runner/runner.h"

namespace sysopt {

/// \brief A function that evaluates a configuration: one value per objective, or an error that
/// becomes the failure reason.
using ObjectiveFunction = std::function<Expected<std::vector<double>>(const Config&)>;

/// \brief Makes a runner that calls `fn` once per Run. An error from `fn`, or a NaN or infinite
/// value, gives a failed result whose reason is the error's message (or "objective 1 is NaN",
/// counting from 1). The result's single sample is the returned values. `fn` must not be empty.
std::unique_ptr<Runner> MakeFunctionRunner(ObjectiveFunction fn);

}  // namespace sysopt
