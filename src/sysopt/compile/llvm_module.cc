// In-process LLVM 14. The pass pipeline is set up as opt-14's new-pass-manager driver sets it
// up (a target machine for the module's triple with the generic CPU, the target library info of
// that triple, the verifier at the end), so that a pipeline run here and the same text given to
// `opt-14 -passes=` produce the same module.
#include "sysopt/compile/llvm_module.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/DiagnosticInfo.h>
#include <llvm/IR/DiagnosticPrinter.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <mutex>

namespace sysopt {

namespace {

void InitializeTargetsOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

std::string DiagnosticText(const llvm::SMDiagnostic& diagnostic) {
  std::string text;
  llvm::raw_string_ostream os(text);
  diagnostic.print(nullptr, os, /*ShowColors=*/false);
  os.flush();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// The linker reports through the context's diagnostic handler; collect what it says.
struct LinkDiagnostics {
  std::string text;
  static void Handle(const llvm::DiagnosticInfo& info, void* context) {
    auto* self = static_cast<LinkDiagnostics*>(context);
    llvm::raw_string_ostream os(self->text);
    llvm::DiagnosticPrinterRawOStream printer(os);
    if (!self->text.empty()) os << "; ";
    info.print(printer);
  }
};

}  // namespace

LlvmSession::LlvmSession() : context_(std::make_unique<llvm::LLVMContext>()) {
  InitializeTargetsOnce();
}

LlvmSession::~LlvmSession() = default;

Expected<std::unique_ptr<llvm::Module>> LlvmSession::Parse(std::string_view bytes,
                                                           const std::string& source) {
  llvm::SMDiagnostic diagnostic;
  auto buffer = llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(bytes.data(), bytes.size()),
                                                 source, /*RequiresNullTerminator=*/false);
  std::unique_ptr<llvm::Module> module =
      llvm::parseIR(buffer->getMemBufferRef(), diagnostic, *context_);
  if (!module) {
    return InvalidInput("{}: not LLVM IR or bitcode: {}", source, DiagnosticText(diagnostic));
  }
  return module;
}

Expected<std::unique_ptr<llvm::Module>> LlvmSession::ReadFile(const std::string& path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    return InvalidInput("{}: cannot read: {}", path, buffer.getError().message());
  }
  return Parse(std::string_view((*buffer)->getBufferStart(), (*buffer)->getBufferSize()), path);
}

Expected<llvm::TargetMachine*> LlvmSession::Target(const llvm::Module& module) {
  std::string triple = module.getTargetTriple();
  if (triple.empty()) triple = llvm::sys::getDefaultTargetTriple();
  if (target_ && triple == target_triple_) return target_.get();
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) return RuntimeError("no LLVM target for triple '{}': {}", triple, error);
  // opt-14 and llc-14 without -mcpu, -mattr or -relocation-model: generic CPU, default model.
  target_.reset(target->createTargetMachine(triple, "", "", llvm::TargetOptions(), llvm::None,
                                            llvm::None, llvm::CodeGenOpt::Default));
  if (!target_) return RuntimeError("cannot create a target machine for '{}'", triple);
  target_triple_ = triple;
  return target_.get();
}

Expected<void> LlvmSession::RunPipeline(llvm::Module& module, std::string_view pipeline) {
  return RunPipelines(module, {std::string(pipeline)});
}

Expected<void> LlvmSession::RunPipelines(llvm::Module& module,
                                         const std::vector<std::string>& pipelines) {
  auto target = Target(module);
  if (!target.ok()) return target.error();
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(*target, llvm::PipelineTuningOptions(), llvm::None);
  // As opt-14: the target library info of the module's triple (all library calls available).
  llvm::TargetLibraryInfoImpl library_info(llvm::Triple(module.getTargetTriple()));
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(library_info); });
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  for (size_t i = 0; i < pipelines.size(); ++i) {
    llvm::ModulePassManager passes;
    if (llvm::Error error = builder.parsePassPipeline(passes, pipelines[i])) {
      return InvalidInput("pass pipeline '{}': {}", pipelines[i], llvm::toString(std::move(error)));
    }
    passes.run(module, mam);
  }
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(module, &os)) {
    os.flush();
    if (problems.size() > 300) problems.resize(300);
    return RuntimeError("the pass sequence produced invalid IR: {}", problems);
  }
  return Ok();
}

Expected<void> LlvmSession::Emit(const llvm::Module& module, std::string* object) {
  auto target = Target(module);
  if (!target.ok()) return target.error();
  // Codegen changes the module it runs on (CodeGenPrepare and friends): work on a copy.
  std::unique_ptr<llvm::Module> copy = Clone(module);
  if (copy->getDataLayout().isDefault()) copy->setDataLayout((*target)->createDataLayout());
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager codegen;
  if ((*target)->addPassesToEmitFile(codegen, os, nullptr, llvm::CGFT_ObjectFile)) {
    return RuntimeError("the target cannot emit object files");
  }
  codegen.run(*copy);
  object->assign(buffer.data(), buffer.size());
  return Ok();
}

Expected<int64_t> LlvmSession::TextSizeBytes(const llvm::Module& module) {
  std::string object;
  SYSOPT_RETURN_IF_ERROR(Emit(module, &object));
  auto file = llvm::object::ObjectFile::createObjectFile(
      llvm::MemoryBufferRef(llvm::StringRef(object.data(), object.size()), "module.o"));
  if (!file) {
    return RuntimeError("cannot read the object file codegen made: {}",
                        llvm::toString(file.takeError()));
  }
  int64_t bytes = 0;
  for (const llvm::object::SectionRef& section : (*file)->sections()) {
    llvm::Expected<llvm::StringRef> name = section.getName();
    if (!name) {
      llvm::consumeError(name.takeError());
      continue;
    }
    if (*name == ".text" || name->startswith(".text.")) bytes += section.getSize();
  }
  return bytes;
}

Expected<void> LlvmSession::WriteObject(const llvm::Module& module, const std::string& path) {
  std::string object;
  SYSOPT_RETURN_IF_ERROR(Emit(module, &object));
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) return IoError("{}: cannot write: {}", path, ec.message());
  out << object;
  out.close();
  if (out.has_error()) return IoError("{}: write failed", path);
  return Ok();
}

std::string LlvmSession::Bitcode(const llvm::Module& module) {
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  llvm::WriteBitcodeToFile(module, os);
  os.flush();
  return bytes;
}

Expected<void> LlvmSession::WriteBitcode(const llvm::Module& module, const std::string& path) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) return IoError("{}: cannot write: {}", path, ec.message());
  llvm::WriteBitcodeToFile(module, out);
  out.close();
  if (out.has_error()) return IoError("{}: write failed", path);
  return Ok();
}

std::unique_ptr<llvm::Module> LlvmSession::Clone(const llvm::Module& module) {
  return llvm::CloneModule(module);
}

Expected<void> LlvmSession::Link(llvm::Module& dest, std::unique_ptr<llvm::Module> source,
                                 const std::string& what) {
  llvm::LLVMContext& context = dest.getContext();
  LinkDiagnostics diagnostics;
  auto previous_handler = context.getDiagnosticHandlerCallBack();
  void* previous_context = context.getDiagnosticContext();
  context.setDiagnosticHandlerCallBack(&LinkDiagnostics::Handle, &diagnostics);
  const bool failed = llvm::Linker::linkModules(dest, std::move(source));
  context.setDiagnosticHandlerCallBack(previous_handler, previous_context);
  if (failed) return InvalidInput("{}: cannot link: {}", what, diagnostics.text);
  return Ok();
}

}  // namespace sysopt
