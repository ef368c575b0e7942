#include "sysopt/runner/function_runner.h"

#include <atomic>
#include <limits>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sysopt {
namespace {

using ::testing::ElementsAre;

TEST(FunctionRunnerTest, ReturnsTheFunctionsValues) {
  auto runner = MakeFunctionRunner([](const Config& c) -> Expected<std::vector<double>> {
    const double x = AsDouble(c.at(0));
    return std::vector<double>{x * x, -x};
  });
  RunResult r = runner->Run({Value(3.0)}, 0);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_THAT(r.values, ElementsAre(9.0, -3.0));
  EXPECT_THAT(r.samples, ElementsAre(ElementsAre(9.0, -3.0)));
  EXPECT_EQ(r.run_seconds.size(), 1u);
  EXPECT_GE(r.elapsed_s, 0.0);
}

TEST(FunctionRunnerTest, ErrorBecomesFailureReason) {
  auto runner = MakeFunctionRunner([](const Config&) -> Expected<std::vector<double>> {
    return RuntimeError("compilation failed");
  });
  RunResult r = runner->Run({}, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason, "compilation failed");
}

TEST(FunctionRunnerTest, NonFiniteValuesFail) {
  auto runner = MakeFunctionRunner([](const Config& c) -> Expected<std::vector<double>> {
    if (std::get<int64_t>(c.at(0)) == 0) {
      return std::vector<double>{1.0, std::numeric_limits<double>::quiet_NaN()};
    }
    return std::vector<double>{-std::numeric_limits<double>::infinity()};
  });
  EXPECT_EQ(runner->Run({Value(int64_t{0})}, 0).failure_reason, "objective 2 is NaN");
  EXPECT_EQ(runner->Run({Value(int64_t{1})}, 0).failure_reason, "objective 1 is infinite");
}

TEST(FunctionRunnerTest, ConcurrentRuns) {
  std::atomic<int> calls{0};
  auto runner = MakeFunctionRunner([&](const Config& c) -> Expected<std::vector<double>> {
    ++calls;
    return std::vector<double>{2.0 * static_cast<double>(std::get<int64_t>(c.at(0)))};
  });
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const int64_t n = t * 1000 + i;
        RunResult r = runner->Run({Value(n)}, n);
        if (!r.ok || r.values != std::vector<double>{2.0 * static_cast<double>(n)}) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(calls.load(), 400);
}

}  // namespace
}  // namespace sysopt
