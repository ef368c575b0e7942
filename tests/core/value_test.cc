#include "sysopt/core/value.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sysopt {
namespace {

TEST(ValueTest, ToStringFormatsEachKind) {
  EXPECT_EQ(ValueToString(Value(int64_t{-42})), "-42");
  EXPECT_EQ(ValueToString(Value(0.1)), "0.1");
  EXPECT_EQ(ValueToString(Value(std::string("x; rm -rf ~"))), "x; rm -rf ~");
  EXPECT_EQ(ValueToString(Value(Permutation{{2, 0, 1}})), "2,0,1");
}

TEST(ValueTest, RealsRoundTripThroughText) {
  const double v = 0.1 + 0.2;  // not representable as a short decimal
  EXPECT_EQ(std::stod(ValueToString(Value(v))), v);
}

TEST(ValueTest, JsonRoundTripKeepsKind) {
  for (const Value& v : {Value(int64_t{7}), Value(2.5), Value(std::string("a")),
                         Value(Permutation{{1, 0}})}) {
    auto back = ValueFromJson(ValueToJson(v));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, v);
  }
}

TEST(ValueTest, JsonRejectsObjects) {
  auto r = ValueFromJson(nlohmann::json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidInput);
}

TEST(ValueTest, HashDistinguishesKindAndOrder) {
  Config a{Value(int64_t{1}), Value(std::string("x"))};
  Config b{Value(1.0), Value(std::string("x"))};
  Config c{Value(Permutation{{0, 1}})};
  Config d{Value(Permutation{{1, 0}})};
  EXPECT_NE(HashConfig(a), HashConfig(b));
  EXPECT_NE(HashConfig(c), HashConfig(d));
  EXPECT_EQ(HashConfig(a), HashConfig(Config(a)));
}

}  // namespace
}  // namespace sysopt
