#pragma once
/// \brief Counting the instructions of a bitcode file independently of sysopt: from the text
/// that llvm-dis-14 prints.

#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>

#include "common/run_process.h"

namespace sysopt::testing {

/// \brief An instruction is a line indented by two spaces inside a function body; a switch's
/// case lines are indented further, and its closing bracket is not an instruction.
inline int64_t CountWithLlvmDis(const std::string& bc) {
  const auto r = RunProcess("/usr/bin/env", {"llvm-dis-14", bc, "-o", "-"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line;
  bool in_body = false;
  int64_t count = 0;
  while (std::getline(in, line)) {
    if (line.rfind("define ", 0) == 0) {
      in_body = true;
    } else if (line == "}") {
      in_body = false;
    } else if (in_body && line.size() > 2 && line[0] == ' ' && line[1] == ' ' && line[2] != ' ' &&
               line.rfind("  ]", 0) != 0) {
      ++count;
    }
  }
  return count;
}

}  // namespace sysopt::testing
