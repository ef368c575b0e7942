#include "sysopt/core/json.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sysopt {
namespace {

using ::testing::HasSubstr;

std::string Nested(int depth, const std::string& inner = "1") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

TEST(JsonTest, DepthIsCountedOutsideStringsOnly) {
  EXPECT_EQ(FindTooDeepJson(Nested(kMaxJsonDepth)), std::string::npos);
  EXPECT_EQ(FindTooDeepJson(Nested(kMaxJsonDepth + 1)), static_cast<size_t>(kMaxJsonDepth));
  EXPECT_EQ(FindTooDeepJson("{\"a\": {\"b\": [1]}}", 3), std::string::npos);
  EXPECT_EQ(FindTooDeepJson("{\"a\": {\"b\": [1]}}", 2), 12u);
  // Brackets in strings, also after an escaped quote, do not nest.
  EXPECT_EQ(FindTooDeepJson("[\"[[[\\\"[[[[\"]", 1), std::string::npos);
  EXPECT_EQ(FindTooDeepJson("[] [] [] []", 1), std::string::npos);
}

TEST(JsonTest, ParseRejectsDeepNestingBeforeBuildingTheTree) {
  // 100,000 levels would overflow the stack when dumped; it is refused with its position.
  auto deep = ParseJson("{\"time\": " + Nested(100'000) + "}");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(deep.error().message(), "JSON nested deeper than 64 levels at byte 72");
  auto fine = ParseJson(Nested(kMaxJsonDepth - 1, "{\"a\": 2}"));
  ASSERT_TRUE(fine.ok()) << fine.error().message();
  EXPECT_EQ(fine->dump(), Nested(kMaxJsonDepth - 1, "{\"a\":2}"));
  auto bad = ParseJson("{\"a\": ");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message(), HasSubstr("not valid JSON"));
}

TEST(JsonTest, ExcerptIsShortAndSurvivesInvalidUtf8) {
  EXPECT_EQ(JsonExcerpt(nlohmann::json{1, 2}), "[1,2]");
  EXPECT_EQ(JsonExcerpt(nlohmann::json(std::string(300, 'x')), 10), "\"xxxxxxxxx...");
  EXPECT_EQ(JsonExcerpt(nlohmann::json("a\xff")), "\"a\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace sysopt
