#include "sysopt/core/expected.h"

#include <gtest/gtest.h>

namespace sysopt {
namespace {

Expected<int> Half(int x) {
  if (x % 2 != 0) return InvalidInput("value {} is odd", x);
  return x / 2;
}

Expected<void> HalfTwice(int x) {
  auto a = Half(x);
  if (!a.ok()) return a.error().WithContext("first");
  SYSOPT_RETURN_IF_ERROR(Half(*a).ok() ? Ok() : Expected<void>(InvalidInput("second")));
  return Ok();
}

TEST(ExpectedTest, CarriesValueOrError) {
  EXPECT_EQ(*Half(8), 4);
  auto e = Half(3);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message(), "value 3 is odd");
}

TEST(ExpectedTest, ContextPrefixesMessageAndKeepsKind) {
  auto r = HalfTwice(3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "first: value 3 is odd");
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_FALSE(HalfTwice(6).ok());
  EXPECT_TRUE(HalfTwice(8).ok());
}

}  // namespace
}  // namespace sysopt
