#include "sysopt/core/json.h"

#include <string>

namespace sysopt {

size_t FindTooDeepJson(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // The escaped character cannot end the string.
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      // Unbalanced closers are the parser's to report.
      if (depth > 0) --depth;
    }
  }
  return std::string_view::npos;
}

Expected<nlohmann::json> ParseJson(std::string_view text) {
  if (const size_t at = FindTooDeepJson(text); at != std::string_view::npos) {
    return InvalidInput("JSON nested deeper than {} levels at byte {}", kMaxJsonDepth, at);
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return InvalidInput("not valid JSON: {}", e.what());
  }
}

std::string JsonExcerpt(const nlohmann::json& json, size_t max_chars) {
  std::string text = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > max_chars) {
    // Do not cut a UTF-8 sequence in half.
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

}  // namespace sysopt
