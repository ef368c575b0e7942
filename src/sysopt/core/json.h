#pragma once
/// \file
/// \brief Reading JSON from untrusted text (spec files, graphs, schedules, a program's output,
/// stored rows) with a bound on nesting depth.
///
/// nlohmann::json dumps and compares values recursively, so a document nested tens of thousands
/// of levels deep would overflow the stack the first time an error message quotes it. The depth
/// is checked on the raw text, before any tree is built. Thread-safe.

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sysopt/core/expected.h"

namespace sysopt {

/// \brief The deepest nesting of arrays and objects accepted; far beyond any spec, graph or
/// objective line, far below what recursion over the tree can take.
inline constexpr int kMaxJsonDepth = 64;

/// \brief The byte offset at which `text` first opens an array or object deeper than
/// `max_depth`, ignoring brackets inside strings; npos when it never does.
size_t FindTooDeepJson(std::string_view text, int max_depth = kMaxJsonDepth);

/// \brief Parses `text` as one JSON document. kInvalidInput when it is not valid JSON ("not
/// valid JSON: ...") or nests deeper than kMaxJsonDepth ("JSON nested deeper than 64 levels at
/// byte N"); callers add the file or field as context.
Expected<nlohmann::json> ParseJson(std::string_view text);

/// \brief `json.dump()` cut to at most `max_chars` characters (with "..." when cut); invalid
/// UTF-8 in strings is replaced rather than thrown on. For quoting values in error messages.
std::string JsonExcerpt(const nlohmann::json& json, size_t max_chars = 200);

}  // namespace sysopt
