#include "sysopt/core/duration.h"

#include <gtest/gtest.h>

namespace sysopt {
namespace {

TEST(DurationTest, ReadsNumbersWithUnits) {
  EXPECT_DOUBLE_EQ(*ParseDuration("90"), 90);
  EXPECT_DOUBLE_EQ(*ParseDuration("90s"), 90);
  EXPECT_DOUBLE_EQ(*ParseDuration("2.5"), 2.5);
  EXPECT_DOUBLE_EQ(*ParseDuration("10m"), 600);
  EXPECT_DOUBLE_EQ(*ParseDuration("1.5m"), 90);
  EXPECT_DOUBLE_EQ(*ParseDuration("1h"), 3600);
  EXPECT_DOUBLE_EQ(*ParseDuration("1h30m"), 5400);
  EXPECT_DOUBLE_EQ(*ParseDuration("2m5s"), 125);
  EXPECT_DOUBLE_EQ(*ParseDuration("500ms"), 0.5);
  EXPECT_DOUBLE_EQ(*ParseDuration("0"), 0);
}

TEST(DurationTest, RejectsAnythingElseQuotingTheText) {
  for (const char* bad : {"", "abc", "10x", "-5s", "5 m", "m", "1h30", "inf", "nan", "5s3"}) {
    SCOPED_TRACE(bad);
    auto parsed = ParseDuration(bad);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(parsed.error().message().find(std::string("'") + bad + "'"), std::string::npos)
        << parsed.error().message();
  }
}

TEST(DurationTest, FormatsForPeople) {
  EXPECT_EQ(FormatDuration(4.2), "5 s");
  EXPECT_EQ(FormatDuration(200), "3m20s");
  EXPECT_EQ(FormatDuration(3900), "1h05m");
  EXPECT_EQ(FormatDuration(-1), "0 s");
}

}  // namespace
}  // namespace sysopt
