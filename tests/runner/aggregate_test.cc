#include "sysopt/runner/runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sysopt {
namespace {

using ::testing::ElementsAre;

TEST(AggregateTest, ParsesNamesAndRoundTrips) {
  for (Aggregate a : {Aggregate::kMedian, Aggregate::kMean, Aggregate::kMin}) {
    auto parsed = ParseAggregate(AggregateName(a));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, a);
  }
  EXPECT_EQ(*ParseAggregate("min"), Aggregate::kMin);
  auto bad = ParseAggregate("max");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_THAT(bad.error().message(), ::testing::HasSubstr("'max'"));
}

TEST(AggregateTest, CombinesEachObjectiveSeparately) {
  // Objective 0: 16, 1, 9, 4 -> sorted 1, 4, 9, 16: median (4 + 9) / 2 = 6.5, mean 30 / 4 = 7.5,
  // min 1. Objective 1: 10, 40, 20, 30 -> median 25, mean 25, min 10.
  const std::vector<std::vector<double>> samples = {{16, 10}, {1, 40}, {9, 20}, {4, 30}};
  EXPECT_THAT(AggregateSamples(samples, Aggregate::kMedian), ElementsAre(6.5, 25.0));
  EXPECT_THAT(AggregateSamples(samples, Aggregate::kMean), ElementsAre(7.5, 25.0));
  EXPECT_THAT(AggregateSamples(samples, Aggregate::kMin), ElementsAre(1.0, 10.0));
  // Odd count: the middle value.
  EXPECT_THAT(AggregateSamples({{3}, {1}, {2}}, Aggregate::kMedian), ElementsAre(2.0));
  EXPECT_TRUE(AggregateSamples({}, Aggregate::kMean).empty());
}

}  // namespace
}  // namespace sysopt
