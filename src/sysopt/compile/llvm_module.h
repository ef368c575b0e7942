#pragma once
/// \brief In-process LLVM 14 operations on one module: parsing, linking C sources, running a
/// pass pipeline with the new pass manager as `opt-14` does, and measuring the result (IR
/// instruction count, `.text` bytes of the object file, an object file on disk).
///
/// Internal to compile/: the only header of the project that names LLVM types. An LlvmSession
/// owns an LLVMContext and a target machine and must be used from one thread at a time; each
/// worker process has its own.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/core/expected.h"

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
}  // namespace llvm

namespace sysopt {

/// \brief One LLVM context with a target machine for the host (generic CPU, as `opt-14` and
/// `llc-14` use without -mcpu).
class LlvmSession {
 public:
  LlvmSession();
  ~LlvmSession();
  LlvmSession(const LlvmSession&) = delete;
  LlvmSession& operator=(const LlvmSession&) = delete;

  llvm::LLVMContext& context() { return *context_; }

  /// \brief Parses bitcode or textual IR; `source` names it in errors.
  Expected<std::unique_ptr<llvm::Module>> Parse(std::string_view bytes, const std::string& source);

  /// \brief Reads a .bc or .ll file.
  Expected<std::unique_ptr<llvm::Module>> ReadFile(const std::string& path);

  /// \brief Runs `pipeline` (new-pass-manager text, as for `opt-14 -passes=`) on the module, then
  /// verifies the module as `opt-14` does. A pipeline that does not parse is invalid input; a
  /// module that no longer verifies is a runtime error.
  Expected<void> RunPipeline(llvm::Module& module, std::string_view pipeline);

  /// \brief Runs several pipelines one after the other on the module, sharing the analysis
  /// managers as one `opt-14 -passes='a,b,c'` run does, verifying once at the end.
  Expected<void> RunPipelines(llvm::Module& module, const std::vector<std::string>& pipelines);

  /// \brief Bytes of the `.text` sections of the object file codegen makes for the module
  /// (CompilerGym's ObjectTextSizeBytes). The module is not changed.
  Expected<int64_t> TextSizeBytes(const llvm::Module& module);

  /// \brief Writes the module's object file (codegen for the host) to `path`.
  Expected<void> WriteObject(const llvm::Module& module, const std::string& path);

  /// \brief Serialises the module as bitcode.
  static std::string Bitcode(const llvm::Module& module);

  /// \brief Writes the module as bitcode to `path`.
  static Expected<void> WriteBitcode(const llvm::Module& module, const std::string& path);

  /// \brief A deep copy of the module in the same context.
  static std::unique_ptr<llvm::Module> Clone(const llvm::Module& module);

  /// \brief Links `source` into `dest` with llvm-link's logic; `what` names the source in errors.
  static Expected<void> Link(llvm::Module& dest, std::unique_ptr<llvm::Module> source,
                             const std::string& what);

 private:
  Expected<void> Emit(const llvm::Module& module, std::string* object);
  Expected<llvm::TargetMachine*> Target(const llvm::Module& module);

  std::unique_ptr<llvm::LLVMContext> context_;
  std::unique_ptr<llvm::TargetMachine> target_;
  std::string target_triple_;
};

}  // namespace sysopt
