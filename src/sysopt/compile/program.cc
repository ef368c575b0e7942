#include "sysopt/compile/program.h"

#include <llvm/IR/Module.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "sysopt/compile/features.h"
#include "sysopt/compile/llvm_module.h"
#include "sysopt/runner/subprocess.h"

namespace sysopt {

namespace {

namespace fs = std::filesystem;

Expected<std::string> CompileSource(const std::string& path, const std::string& out,
                                    const ProgramOptions& options) {
  SubprocessOptions run;
  run.argv = {options.clang, "-O1", "-Xclang", "-disable-llvm-passes", "-emit-llvm", "-c"};
  run.argv.insert(run.argv.end(), options.clang_flags.begin(), options.clang_flags.end());
  run.argv.insert(run.argv.end(), {path, "-o", out});
  run.env = CurrentEnvironment();
  run.timeout_s = options.compile_timeout_s;
  run.max_stderr_bytes = 4096;
  const SubprocessOutcome outcome = RunSubprocess(run);
  if (!outcome.started) {
    return InvalidInput("{}: cannot run {} to compile it: {} (install the clang-14 package)", path,
                        options.clang, outcome.start_error);
  }
  if (outcome.timed_out) {
    return InvalidInput("{}: {} did not finish within {} s", path, options.clang,
                        options.compile_timeout_s);
  }
  if (outcome.signaled || outcome.exit_code != 0) {
    std::string message = outcome.stderr_tail;
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return InvalidInput(
        "{}: does not compile ({} exited with {}):\n{}", path, options.clang,
        outcome.signaled ? SignalName(outcome.signal_number) : std::to_string(outcome.exit_code),
        message);
  }
  return out;
}

}  // namespace

ScratchFolder::ScratchFolder(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data())) path_ = pattern;
}

ScratchFolder::~ScratchFolder() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

bool IsCSource(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  return ext == ".c" || ext == ".cc" || ext == ".cpp" || ext == ".cxx" || ext == ".C" ||
         ext == ".c++";
}

Expected<Program> LoadProgram(const std::vector<std::string>& paths,
                              const ProgramOptions& options) {
  if (paths.empty()) return InvalidInput("no program given: name a .c, .cc, .bc or .ll file");
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return InvalidInput("{}: no such file", path);
    if (fs::is_directory(path, ec)) return InvalidInput("{}: is a folder, not a program", path);
  }
  ScratchFolder scratch("sysopt-llvm");
  if (scratch.path().empty()) return IoError("cannot create a temporary folder");
  LlvmSession session;
  std::unique_ptr<llvm::Module> linked;
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& path = paths[i];
    std::string ir_path = path;
    if (IsCSource(path)) {
      auto compiled = CompileSource(path, fmt::format("{}/{}.bc", scratch.path(), i), options);
      if (!compiled.ok()) return compiled.error();
      ir_path = *compiled;
    }
    auto module = session.ReadFile(ir_path);
    if (!module.ok()) {
      if (ir_path == path) {
        return InvalidInput(
            "{}: not a program sysopt can read: expected LLVM IR (.ll), bitcode (.bc) or a C/C++ "
            "source (.c, .cc, .cpp); {}",
            path, module.error().message());
      }
      return module.error();
    }
    if (!linked) {
      linked = std::move(*module);
    } else {
      SYSOPT_RETURN_IF_ERROR(LlvmSession::Link(*linked, std::move(*module), path));
    }
  }
  Program program;
  program.name = fs::path(paths.front()).stem().string();
  program.sources = paths;
  for (const llvm::Function& f : *linked) {
    if (!f.isDeclaration()) ++program.functions;
  }
  program.ir_count = IrInstructionCount(*linked);
  if (program.functions == 0 || program.ir_count == 0) {
    return InvalidInput("{}: the program is empty: it defines no function", paths.front());
  }
  program.bitcode = LlvmSession::Bitcode(*linked);
  uint64_t hash = 14695981039346656037ull;
  for (const unsigned char c : program.bitcode) hash = (hash ^ c) * 1099511628211ull;
  program.content_hash = fmt::format("{:016x}", hash);
  return program;
}

}  // namespace sysopt
