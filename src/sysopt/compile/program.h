#pragma once
/// \brief Loading a program for the compiler job: `.bc` and `.ll` files are read as they are;
/// C and C++ sources are compiled to unoptimised IR with clang-14 as CompilerGym builds its
/// benchmarks (`-O1 -Xclang -disable-llvm-passes`, so that functions are not marked optnone),
/// and everything is linked into one module with llvm-link's logic.
///
/// Thread safety: LoadProgram may be called from several threads; each call has its own LLVM
/// context and temporary folder.

#include <cstdint>
#include <string>
#include <vector>

#include "sysopt/core/expected.h"

namespace sysopt {

/// \brief How sources are compiled.
struct ProgramOptions {
  std::string clang = "clang-14";        ///< The C/C++ compiler (looked up in PATH).
  std::vector<std::string> clang_flags;  ///< Extra flags (e.g. -I, -D) for every source.
  double compile_timeout_s = 300;        ///< Per source file.
};

/// \brief A loaded program: one linked, unoptimised module.
struct Program {
  std::string name;                  ///< The first file's stem.
  std::vector<std::string> sources;  ///< The files it was built from, as given.
  std::string bitcode;               ///< The linked module as bitcode.
  int64_t ir_count = 0;              ///< IR instructions of the unoptimised module.
  int64_t functions = 0;             ///< Function definitions.
  /// FNV-1a of the bitcode, in hexadecimal: tells a study which build of the program it holds.
  std::string content_hash;
};

/// \brief Builds the program from its files. Errors (invalid input): a missing file, a file
/// that is neither LLVM IR nor a C/C++ source, a source clang rejects (with clang's message),
/// modules that do not link, a program with no function definitions.
Expected<Program> LoadProgram(const std::vector<std::string>& paths, const ProgramOptions& options);

/// \brief A private temporary folder (mkdtemp under the system's temporary folder), removed with
/// everything in it when the object goes. `path()` is empty when it could not be made.
class ScratchFolder {
 public:
  explicit ScratchFolder(const std::string& prefix = "sysopt");
  ~ScratchFolder();
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// \brief True for the extensions compiled by clang: .c .cc .cpp .cxx .C .c++.
bool IsCSource(const std::string& path);

}  // namespace sysopt
