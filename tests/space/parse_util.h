#pragma once
/// \brief Parsing single spec parameters in tests: one that must parse, one that must be
/// refused (with its message, which must name where it is).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "sysopt/space/parameter.h"

namespace sysopt::space_testing {

/// \brief The parameter `j` describes; a test failure when it does not parse.
inline Parameter Make(const nlohmann::json& j) {
  auto p = ParseParameter(j, "parameters[0]");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message());
  return p.ok() ? *p : Parameter{};
}

/// \brief The error message of a spec entry that must be refused as invalid input; the message
/// must name the entry ("parameters[3]").
inline std::string ErrorOf(const nlohmann::json& j) {
  auto p = ParseParameter(j, "parameters[3]");
  EXPECT_FALSE(p.ok()) << j.dump();
  if (p.ok()) return "";
  EXPECT_EQ(p.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(p.error().message().find("parameters[3]"), std::string::npos) << p.error().message();
  return p.error().message();
}

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace sysopt::space_testing
