#pragma once
// Writes a benchmark's Markdown into its own marked section of docs/benchmarks.md, leaving the
// rest of the file alone (the section is appended when its markers are not there yet).

#include <fmt/core.h>

#include <fstream>
#include <sstream>
#include <string>

namespace sysopt::bench {

// `tag` names the markers: <!-- tag:begin --> ... <!-- tag:end -->. Returns the exit code.
inline int ReplaceDocSection(const std::string& path, const std::string& tag,
                             const std::string& md) {
  const std::string begin = "<!-- " + tag + ":begin -->", end = "<!-- " + tag + ":end -->";
  std::string doc;
  {
    std::ifstream in(path);
    std::stringstream buf;
    buf << in.rdbuf();
    doc = buf.str();
  }
  const std::string section = begin + "\n" + md + end;
  const size_t b = doc.find(begin), e = doc.find(end);
  if (b != std::string::npos && e != std::string::npos && e > b) {
    doc.replace(b, e + end.size() - b, section);
  } else {
    if (doc.empty()) doc = "# Benchmarks\n";
    doc += "\n" + section + "\n";
  }
  std::ofstream out(path);
  out << doc;
  if (!out) {
    fmt::print(stderr, "cannot write {}\n", path);
    return 1;
  }
  fmt::print("updated {}\n", path);
  return 0;
}

}  // namespace sysopt::bench
