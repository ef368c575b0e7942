#include "sysopt/runner/function_runner.h"

#include <cassert>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

namespace sysopt {
namespace {

class FunctionRunner final : public Runner {
 public:
  explicit FunctionRunner(ObjectiveFunction fn) : fn_(std::move(fn)) {}

  RunResult Run(const Config& config, int64_t /*trial_number*/) override {
    RunResult result;
    const auto start = std::chrono::steady_clock::now();
    Expected<std::vector<double>> values = fn_(config);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.run_seconds.push_back(seconds);
    result.elapsed_s = seconds;
    if (!values.ok()) {
      result.failure_reason = values.error().message();
      return result;
    }
    for (size_t i = 0; i < values->size(); ++i) {
      const double v = (*values)[i];
      if (std::isnan(v) || std::isinf(v)) {
        result.failure_reason =
            fmt::format("objective {} is {}", i + 1, std::isnan(v) ? "NaN" : "infinite");
        return result;
      }
    }
    result.samples.push_back(*values);
    result.values = std::move(*values);
    result.ok = true;
    return result;
  }

 private:
  const ObjectiveFunction fn_;
};

}  // namespace

std::unique_ptr<Runner> MakeFunctionRunner(ObjectiveFunction fn) {
  assert(fn);
  return std::make_unique<FunctionRunner>(std::move(fn));
}

}  // namespace sysopt
