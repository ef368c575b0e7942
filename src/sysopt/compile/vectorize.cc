#include "sysopt/compile/vectorize.h"

#include <clang-c/Index.h>
#include <fmt/core.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "sysopt/compile/program.h"
#include "sysopt/runner/subprocess.h"

namespace sysopt {

namespace {

namespace fs = std::filesystem;

Expected<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidInput("{}: cannot read the file", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Expected<void> WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return IoError("{}: cannot write the file", path);
  return Ok();
}

bool IsCxx(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  return ext == ".cc" || ext == ".cpp" || ext == ".cxx" || ext == ".C" || ext == ".c++";
}

std::string ToString(CXString s) {
  const char* c = clang_getCString(s);
  std::string out = c ? c : "";
  clang_disposeString(s);
  return out;
}

// A loop statement as the walk sees it, before innermost loops are picked.
struct RawLoop {
  SourceLoop loop;
  bool main_file = false;
  bool system_header = false;
  bool has_inner = false;
};

struct Walk {
  std::string function;
  int parent = -1;  // index in `out` of the enclosing loop
  std::vector<RawLoop>* out = nullptr;
  CXFile main_file = nullptr;
};

const char* LoopKind(CXCursorKind kind) {
  switch (kind) {
    case CXCursor_ForStmt:
      return "for";
    case CXCursor_WhileStmt:
      return "while";
    case CXCursor_DoStmt:
      return "do";
    case CXCursor_CXXForRangeStmt:
      return "range-for";
    default:
      return nullptr;
  }
}

bool IsFunction(CXCursorKind kind) {
  return kind == CXCursor_FunctionDecl || kind == CXCursor_CXXMethod ||
         kind == CXCursor_Constructor || kind == CXCursor_Destructor ||
         kind == CXCursor_FunctionTemplate || kind == CXCursor_ConversionFunction;
}

CXChildVisitResult VisitCursor(CXCursor cursor, CXCursor /*parent*/, CXClientData data) {
  Walk* walk = static_cast<Walk*>(data);
  const CXSourceLocation location = clang_getCursorLocation(cursor);
  // System headers hold no loop of the user's, and skipping them keeps C++ sources quick.
  if (clang_Location_isInSystemHeader(location)) return CXChildVisit_Continue;
  const CXCursorKind kind = clang_getCursorKind(cursor);
  if (IsFunction(kind)) {
    Walk inner = *walk;
    inner.function = ToString(clang_getCursorSpelling(cursor));
    inner.parent = -1;
    clang_visitChildren(cursor, VisitCursor, &inner);
    return CXChildVisit_Continue;
  }
  const char* loop_kind = LoopKind(kind);
  if (!loop_kind) return CXChildVisit_Recurse;
  RawLoop raw;
  CXFile file = nullptr;
  unsigned line = 0, column = 0, offset = 0;
  clang_getExpansionLocation(location, &file, &line, &column, &offset);
  raw.loop.file = file ? ToString(clang_getFileName(file)) : "";
  raw.loop.line = static_cast<int>(line);
  raw.loop.column = static_cast<int>(column);
  raw.loop.offset = offset;
  raw.loop.kind = loop_kind;
  raw.loop.function = walk->function;
  // By the expansion's file: a loop a macro writes is "from" the macro, yet expanded here.
  raw.main_file = file && clang_File_isEqual(file, walk->main_file);
  const int index = static_cast<int>(walk->out->size());
  if (walk->parent >= 0) (*walk->out)[walk->parent].has_inner = true;
  walk->out->push_back(std::move(raw));
  Walk inner = *walk;
  inner.parent = index;
  clang_visitChildren(cursor, VisitCursor, &inner);
  return CXChildVisit_Continue;
}

// Whether the loop keyword itself is written at `offset` (not produced by a macro).
bool KeywordAt(const std::string& text, size_t offset, const std::string& kind) {
  const std::string keyword = kind == "range-for" ? "for" : kind;
  if (text.compare(offset, keyword.size(), keyword) != 0) return false;
  const size_t end = offset + keyword.size();
  return end >= text.size() ||
         !(std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_');
}

// The pragma directly above the loop, if any ("" when none).
std::string PragmaAbove(const std::string& text, size_t offset) {
  size_t line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  if (text.find_first_not_of(" \t", line_start) < offset) return "";
  // Walk up over blank lines to the previous one with text.
  size_t end = line_start;
  while (end > 0) {
    const size_t prev_end = end - 1;  // the '\n' ending the previous line
    size_t prev_start = prev_end == 0 ? std::string::npos : text.rfind('\n', prev_end - 1);
    prev_start = prev_start == std::string::npos ? 0 : prev_start + 1;
    const std::string line = text.substr(prev_start, prev_end - prev_start);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) {
      end = prev_start;
      continue;
    }
    if (line.compare(first, 1, "#") != 0) return "";
    const size_t word = line.find_first_not_of(" \t", first + 1);
    if (word == std::string::npos || line.compare(word, 6, "pragma") != 0) return "";
    return line.substr(first);
  }
  return "";
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Quoted(const std::string& path) {
  std::string out = "\"";
  for (char c : path) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Expected<LoopScan> FindLoops(const std::vector<std::string>& sources,
                             const std::vector<std::string>& clang_flags) {
  LoopScan scan;
  std::set<std::pair<std::string, int>> headers_seen;
  for (const std::string& source : sources) {
    std::error_code ec;
    if (!fs::is_regular_file(source, ec)) return InvalidInput("{}: no such file", source);
    if (!IsCSource(source)) {
      return InvalidInput("{}: not a C or C++ source (.c, .cc, .cpp, .cxx, .C, .c++)", source);
    }
    auto text = ReadText(source);
    if (!text.ok()) return text.error();
    std::vector<const char*> argv;
    for (const auto& f : clang_flags) argv.push_back(f.c_str());
    CXIndex index = clang_createIndex(0, 0);
    CXTranslationUnit tu = nullptr;
    const CXErrorCode code = clang_parseTranslationUnit2(index, source.c_str(), argv.data(),
                                                         static_cast<int>(argv.size()), nullptr, 0,
                                                         CXTranslationUnit_None, &tu);
    if (code != CXError_Success || !tu) {
      clang_disposeIndex(index);
      return InvalidInput("{}: libclang cannot parse the file (flags: '{}')", source,
                          fmt::format("{}", fmt::join(clang_flags, " ")));
    }
    std::string errors;
    const unsigned n = clang_getNumDiagnostics(tu);
    for (unsigned i = 0; i < n; ++i) {
      CXDiagnostic d = clang_getDiagnostic(tu, i);
      if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error) {
        errors += ToString(clang_formatDiagnostic(d, clang_defaultDiagnosticDisplayOptions()));
        errors += '\n';
      }
      clang_disposeDiagnostic(d);
    }
    std::vector<RawLoop> raw;
    if (errors.empty()) {
      Walk walk;
      walk.out = &raw;
      walk.main_file = clang_getFile(tu, source.c_str());
      clang_visitChildren(clang_getTranslationUnitCursor(tu), VisitCursor, &walk);
    }
    clang_disposeTranslationUnit(tu);
    clang_disposeIndex(index);
    if (!errors.empty()) {
      return InvalidInput("{}: the source does not compile:\n{}", source, Trim(errors));
    }
    for (RawLoop& r : raw) {
      if (r.has_inner) {
        if (r.main_file) ++scan.outer_loops;
        continue;
      }
      if (!r.main_file) {
        if (!r.system_header && headers_seen.insert({r.loop.file, r.loop.line}).second) {
          scan.skipped.push_back({r.loop.file, r.loop.line, "in a header (left alone)"});
        }
        continue;
      }
      r.loop.file = source;  // as the user spelled it
      if (!KeywordAt(*text, r.loop.offset, r.loop.kind)) {
        scan.skipped.push_back(
            {source, r.loop.line, "written by a macro (a pragma cannot be placed inside it)"});
        continue;
      }
      const std::string pragma = PragmaAbove(*text, r.loop.offset);
      if (!pragma.empty()) {
        scan.skipped.push_back({source, r.loop.line, fmt::format("already under '{}'", pragma)});
        continue;
      }
      scan.loops.push_back(r.loop);
    }
  }
  auto by_place = [](const auto& a, const auto& b) {
    return std::tie(a.file, a.line) < std::tie(b.file, b.line);
  };
  std::stable_sort(scan.skipped.begin(), scan.skipped.end(), by_place);
  return scan;
}

std::string LoopPragma(const LoopFactors& factors) {
  if (factors.vf <= 0 && factors.ic <= 0) return "";
  std::string pragma = "#pragma clang loop";
  if (factors.vf > 0) pragma += fmt::format(" vectorize_width({})", factors.vf);
  if (factors.ic > 0) pragma += fmt::format(" interleave_count({})", factors.ic);
  return pragma;
}

namespace {

// AnnotateSource with a pragma text given per loop. When `new_lines` is set, it receives each
// loop's line in the result (without #line directives).
std::string InsertPragmas(const std::string& text, const std::vector<SourceLoop>& loops,
                          const std::vector<std::string>& pragmas, const std::string& path,
                          std::vector<int>* new_lines = nullptr) {
  std::vector<size_t> order(loops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // From the end backwards, so that earlier offsets stay valid.
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return loops[a].offset > loops[b].offset; });
  std::string out = text;
  for (size_t i : order) {
    if (pragmas[i].empty()) continue;
    const SourceLoop& loop = loops[i];
    const size_t offset = std::min(loop.offset, out.size());
    size_t line_start = offset == 0 ? std::string::npos : out.rfind('\n', offset - 1);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    const std::string prefix = out.substr(line_start, offset - line_start);
    const std::string directive =
        path.empty() ? "" : fmt::format("#line {} {}\n", loop.line, Quoted(path));
    if (prefix.find_first_not_of(" \t") == std::string::npos) {
      out.insert(line_start, prefix + pragmas[i] + "\n" + directive);
    } else {
      out.insert(offset, "\n" + pragmas[i] + "\n" + directive);
    }
  }
  if (new_lines) {
    // Each pragma adds one line above its loop, or two when code precedes the loop on its line.
    new_lines->assign(loops.size(), 0);
    for (size_t i = 0; i < loops.size(); ++i) {
      int shift = 0;
      for (size_t j = 0; j < loops.size(); ++j) {
        if (pragmas[j].empty() || loops[j].offset > loops[i].offset) continue;
        const size_t o = std::min(loops[j].offset, text.size());
        size_t ls = o == 0 ? std::string::npos : text.rfind('\n', o - 1);
        ls = ls == std::string::npos ? 0 : ls + 1;
        const bool alone = text.find_first_not_of(" \t", ls) >= o;
        shift += alone ? 1 : 2;
      }
      (*new_lines)[i] = loops[i].line + shift;
    }
  }
  if (!path.empty()) out.insert(0, fmt::format("#line 1 {}\n", Quoted(path)));
  return out;
}

}  // namespace

std::string AnnotateSource(const std::string& text, const std::vector<SourceLoop>& loops,
                           const std::vector<LoopFactors>& factors,
                           const std::string& path_for_line_directives) {
  std::vector<std::string> pragmas;
  for (const LoopFactors& f : factors) pragmas.push_back(LoopPragma(f));
  return InsertPragmas(text, loops, pragmas, path_for_line_directives);
}

Expected<std::vector<LoopProbe>> ProbeLoops(const std::vector<SourceLoop>& loops,
                                            const std::vector<std::string>& sources,
                                            const std::vector<std::string>& clang_flags,
                                            const std::string& scratch_dir) {
  std::vector<LoopProbe> probes(loops.size());
  std::vector<bool> remarked(loops.size(), false);
  for (size_t s = 0; s < sources.size(); ++s) {
    const std::string& source = sources[s];
    std::vector<SourceLoop> mine;
    std::vector<size_t> which;
    for (size_t i = 0; i < loops.size(); ++i) {
      if (loops[i].file == source) {
        mine.push_back(loops[i]);
        which.push_back(i);
      }
    }
    if (mine.empty()) continue;
    auto text = ReadText(source);
    if (!text.ok()) return text.error();
    const std::string dir = fmt::format("{}/probe{}", scratch_dir, s);
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string copy = dir + "/" + fs::path(source).filename().string();
    const std::vector<std::string> pragmas(mine.size(), "#pragma clang loop vectorize(enable)");
    // No #line here: clang places remarks only in files it can read back.
    std::vector<int> lines;
    SYSOPT_RETURN_IF_ERROR(WriteText(copy, InsertPragmas(*text, mine, pragmas, "", &lines)));
    SubprocessOptions compile;
    compile.argv = {IsCxx(source) ? "clang++-14" : "clang-14", "-O3"};
    compile.argv.insert(compile.argv.end(), clang_flags.begin(), clang_flags.end());
    const std::string source_dir = fs::absolute(source).parent_path().string();
    compile.argv.insert(
        compile.argv.end(),
        {"-iquote", source_dir, "-Rpass=loop-vectorize", "-Rpass-missed=loop-vectorize",
         "-Rpass-analysis=loop-vectorize", "-fno-color-diagnostics", "-fno-caret-diagnostics", "-c",
         copy, "-o", "/dev/null"});
    compile.env = CurrentEnvironment();
    compile.timeout_s = 300;
    compile.max_stderr_bytes = size_t{8} << 20;
    const SubprocessOutcome outcome = RunSubprocess(compile);
    fs::remove_all(dir, ec);
    if (!outcome.started) return RuntimeError("cannot run clang-14: {}", outcome.start_error);
    if (outcome.timed_out || outcome.signaled || outcome.exit_code != 0) {
      return InvalidInput("{}: clang-14 -O3 fails:\n{}", source, Trim(outcome.stderr_tail));
    }
    // "FILE:LINE:COL: remark: MESSAGE [-Rpass...]", FILE the copy as clang was given it.
    std::istringstream remarks(outcome.stderr_tail);
    std::string line;
    const std::string prefix = copy + ":";
    std::vector<std::pair<int, std::string>> reasons;
    while (std::getline(remarks, line)) {
      if (line.compare(0, prefix.size(), prefix) != 0) continue;
      const size_t colon = line.find(':', prefix.size());
      if (colon == std::string::npos) continue;
      const int at = std::atoi(line.c_str() + prefix.size());
      const size_t mark = line.find(": remark: ", colon);
      if (mark == std::string::npos) continue;
      std::string message = line.substr(mark + 10);
      const size_t tag = message.rfind(" [-R");
      if (tag != std::string::npos) message.resize(tag);
      const bool why = message.rfind("loop not vectorized: ", 0) == 0;
      if (why) reasons.emplace_back(at, message);
      for (size_t k = 0; k < mine.size(); ++k) {
        if (lines[k] != at) continue;
        remarked[which[k]] = true;
        if (message.rfind("vectorized loop", 0) == 0) probes[which[k]].vectorized = true;
      }
    }
    // The analysis remark that says why sits at the loop's line or at an instruction of its
    // body (below the loop, above the next one); "loop not vectorized (Force=true)" does not.
    for (size_t k = 0; k < mine.size(); ++k) {
      int next = INT_MAX;
      for (size_t q = 0; q < mine.size(); ++q) {
        if (lines[q] > lines[k]) next = std::min(next, lines[q]);
      }
      LoopProbe& probe = probes[which[k]];
      for (const auto& [at, message] : reasons) {
        if (at == lines[k]) {
          probe.reason = message;
          break;
        }
        if (probe.reason.empty() && at > lines[k] && at < next) probe.reason = message;
      }
    }
  }
  for (size_t i = 0; i < loops.size(); ++i) {
    LoopProbe& probe = probes[i];
    if (probe.vectorized) {
      probe.reason.clear();
    } else if (!remarked[i]) {
      probe.reason =
          "the vectoriser never sees it (LLVM removes or fully unrolls it, or its function is "
          "unused)";
    } else if (probe.reason.empty()) {
      probe.reason = "loop not vectorized";
    }
  }
  return probes;
}

const std::vector<int>& VectorWidths() {
  static const std::vector<int> widths = {0, 1, 2, 4, 8, 16, 32, 64};
  return widths;
}

const std::vector<int>& InterleaveCounts() {
  static const std::vector<int> counts = {0, 1, 2, 4, 8, 16};
  return counts;
}

Expected<Spec> VectorizeSpec(const std::string& name, int loops,
                             const std::vector<std::string>& constraints) {
  std::vector<Parameter> parameters;
  for (int k = 1; k <= loops; ++k) {
    for (const bool width : {true, false}) {
      Parameter p;
      p.name = fmt::format("{}_{}", width ? "vf" : "if", k);
      p.kind = ParamKind::kOrdinal;
      for (int v : width ? VectorWidths() : InterleaveCounts()) p.values.emplace_back(int64_t{v});
      p.default_value = Value(int64_t{0});
      parameters.push_back(std::move(p));
    }
  }
  std::vector<std::string> expanded;
  static const std::regex kBare("\\b(vf|if)\\b");
  for (const std::string& c : constraints) {
    if (!std::regex_search(c, kBare)) {
      expanded.push_back(c);
      continue;
    }
    for (int k = 1; k <= loops; ++k) {
      expanded.push_back(std::regex_replace(c, kBare, fmt::format("$1_{}", k)));
    }
  }
  auto space = Space::Create(std::move(parameters), expanded);
  if (!space.ok()) return InvalidInput("--constraint: {}", space.error().message());
  Spec spec{name, *space, {{"seconds", true}}, std::nullopt, std::nullopt, std::nullopt, false};
  return spec;
}

std::vector<LoopFactors> ConfigFactors(const Config& config) {
  std::vector<LoopFactors> factors(config.size() / 2);
  for (size_t k = 0; k < factors.size(); ++k) {
    factors[k].vf = static_cast<int>(std::get<int64_t>(config[2 * k]));
    factors[k].ic = static_cast<int>(std::get<int64_t>(config[2 * k + 1]));
  }
  return factors;
}

VectorizeRunner::VectorizeRunner(VectorizeOptions options, std::vector<SourceLoop> loops,
                                 std::string scratch_dir)
    : options_(std::move(options)), loops_(std::move(loops)), scratch_dir_(std::move(scratch_dir)) {
  compiler_ = "clang-14";
  for (const auto& s : options_.sources) {
    if (IsCxx(s)) compiler_ = "clang++-14";
  }
  if (options_.link_flags.empty()) options_.link_flags = {"-lm"};
}

Expected<std::vector<std::string>> VectorizeRunner::BuildCommand(
    const std::vector<LoopFactors>& factors, const std::string& dir, const std::string& exe) const {
  std::vector<std::string> argv = {compiler_, "-O3"};
  argv.insert(argv.end(), options_.clang_flags.begin(), options_.clang_flags.end());
  std::vector<std::string> files;
  for (size_t s = 0; s < options_.sources.size(); ++s) {
    const std::string& source = options_.sources[s];
    std::vector<SourceLoop> mine;
    std::vector<LoopFactors> mine_factors;
    for (size_t i = 0; i < loops_.size() && i < factors.size(); ++i) {
      if (loops_[i].file == source && !LoopPragma(factors[i]).empty()) {
        mine.push_back(loops_[i]);
        mine_factors.push_back(factors[i]);
      }
    }
    if (mine.empty()) {
      files.push_back(source);
      continue;
    }
    auto text = ReadText(source);
    if (!text.ok()) return text.error();
    const std::string sub = fmt::format("{}/s{}", dir, s);
    std::error_code ec;
    fs::create_directories(sub, ec);
    const std::string copy = sub + "/" + fs::path(source).filename().string();
    // #line keeps __FILE__ and line numbers those of the original, as in the -O3 build.
    SYSOPT_RETURN_IF_ERROR(WriteText(copy, AnnotateSource(*text, mine, mine_factors, source)));
    argv.push_back("-iquote");
    argv.push_back(fs::absolute(source).parent_path().string());
    files.push_back(copy);
  }
  argv.insert(argv.end(), files.begin(), files.end());
  argv.push_back("-o");
  argv.push_back(exe);
  argv.insert(argv.end(), options_.link_flags.begin(), options_.link_flags.end());
  return argv;
}

Expected<std::unique_ptr<VectorizeRunner>> VectorizeRunner::Create(VectorizeOptions options,
                                                                   std::vector<SourceLoop> loops,
                                                                   std::string scratch_dir) {
  if (options.repeat < 1) return InvalidInput("--repeat must be at least 1");
  std::unique_ptr<VectorizeRunner> runner(
      new VectorizeRunner(std::move(options), std::move(loops), std::move(scratch_dir)));
  const std::string exe = runner->scratch_dir_ + "/reference";
  auto argv = runner->BuildCommand({}, runner->scratch_dir_, exe);
  if (!argv.ok()) return argv.error();
  SubprocessOptions build;
  build.argv = *argv;
  build.env = CurrentEnvironment();
  build.timeout_s = runner->options_.compile_timeout_s;
  build.max_stderr_bytes = 16384;
  const SubprocessOutcome built = RunSubprocess(build);
  if (!built.started) return InvalidInput("cannot run {}: {}", argv->front(), built.start_error);
  if (built.timed_out || built.signaled || built.exit_code != 0) {
    return InvalidInput("the plain {} -O3 build fails:\n{}", argv->front(),
                        Trim(built.stderr_tail));
  }
  SubprocessOptions run;
  run.argv = {exe};
  run.argv.insert(run.argv.end(), runner->options_.args.begin(), runner->options_.args.end());
  run.env = CurrentEnvironment();
  run.working_dir = runner->options_.working_dir;
  run.timeout_s = runner->options_.run_timeout_s > 0 ? runner->options_.run_timeout_s : 600;
  const SubprocessOutcome outcome = RunSubprocess(run);
  const std::string tail = Trim(outcome.stderr_tail);
  if (!outcome.started) return InvalidInput("cannot run the program: {}", outcome.start_error);
  if (outcome.timed_out) {
    return InvalidInput("the program built with -O3 did not finish within {:g} s", run.timeout_s);
  }
  if (outcome.signaled) {
    return InvalidInput("the program built with -O3 was killed by {}{}",
                        SignalName(outcome.signal_number), tail.empty() ? "" : ":\n" + tail);
  }
  if (outcome.exit_code != 0) {
    return InvalidInput("the program built with -O3 fails with exit code {} (--run '{}'){}",
                        outcome.exit_code, fmt::join(runner->options_.args, " "),
                        tail.empty() ? "" : ":\n" + tail);
  }
  runner->reference_output_ = outcome.stdout_tail;
  runner->reference_exit_ = outcome.exit_code;
  // Output that changes from run to run (times, addresses, races) would make every trial look
  // like a miscompile: the same build must print the same twice.
  const SubprocessOutcome again = RunSubprocess(run);
  if (again.started && !again.timed_out && !again.signaled &&
      (again.exit_code != outcome.exit_code || again.stdout_tail != outcome.stdout_tail)) {
    return InvalidInput(
        "the program built with -O3 prints something else each run (--run '{}'), so its output "
        "cannot tell a miscompile: make its output deterministic",
        fmt::join(runner->options_.args, " "));
  }
  const double wall = outcome.exit_seconds > 0 ? outcome.exit_seconds : outcome.seconds;
  runner->reference_seconds_ = runner->options_.cpu_time ? outcome.cpu_seconds : wall;
  runner->run_timeout_s_ = runner->options_.run_timeout_s > 0 ? runner->options_.run_timeout_s
                                                              : std::max(5.0, 10 * wall);
  std::error_code ec;
  fs::remove(exe, ec);
  return runner;
}

RunResult VectorizeRunner::Run(const Config& config, int64_t /*trial_number*/) {
  RunResult result;
  const int64_t id = counter_.fetch_add(1);
  const std::string dir = fmt::format("{}/t{}", scratch_dir_, id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string exe = dir + "/prog";
  auto argv = BuildCommand(ConfigFactors(config), dir, exe);
  if (!argv.ok()) {
    result.failure_reason = argv.error().message();
    fs::remove_all(dir, ec);
    return result;
  }
  SubprocessOptions build;
  build.argv = *argv;
  build.env = CurrentEnvironment();
  build.timeout_s = options_.compile_timeout_s;
  const SubprocessOutcome built = RunSubprocess(build);
  result.elapsed_s = built.seconds;
  if (!built.started || built.timed_out || built.signaled || built.exit_code != 0) {
    result.failure_reason =
        built.timed_out
            ? fmt::format("build: {} ran longer than {:g} s", compiler_, options_.compile_timeout_s)
            : fmt::format("build failed: {}",
                          Trim(built.started ? built.stderr_tail : built.start_error));
    result.stderr_tail = built.stderr_tail;
    fs::remove_all(dir, ec);
    return result;
  }
  SubprocessOptions run;
  run.argv = {exe};
  run.argv.insert(run.argv.end(), options_.args.begin(), options_.args.end());
  run.env = CurrentEnvironment();
  run.working_dir = options_.working_dir;
  run.timeout_s = run_timeout_s_;
  for (int r = 0; r < options_.repeat; ++r) {
    const SubprocessOutcome outcome = RunSubprocess(run);
    const double seconds = options_.cpu_time          ? outcome.cpu_seconds
                           : outcome.exit_seconds > 0 ? outcome.exit_seconds
                                                      : outcome.seconds;
    result.run_seconds.push_back(seconds);
    result.elapsed_s += outcome.seconds;
    result.stderr_tail = outcome.stderr_tail;
    if (!outcome.started) {
      result.failure_reason = fmt::format("cannot run the program: {}", outcome.start_error);
    } else if (outcome.timed_out) {
      result.failure_reason =
          fmt::format("timeout: the program ran longer than {:g} s", run_timeout_s_);
    } else if (outcome.signaled) {
      result.failure_reason = fmt::format("miscompile: the program was killed by {}",
                                          SignalName(outcome.signal_number));
    } else if (outcome.exit_code != reference_exit_ || outcome.stdout_tail != reference_output_) {
      result.failure_reason = fmt::format(
          "miscompile: the output differs from the -O3 build's (exit code {} against {})",
          outcome.exit_code, reference_exit_);
    }
    if (!result.failure_reason.empty()) break;
    result.samples.push_back({seconds});
  }
  fs::remove_all(dir, ec);
  if (!result.failure_reason.empty()) {
    result.samples.clear();
    return result;
  }
  result.ok = true;
  result.values = AggregateSamples(result.samples, Aggregate::kMedian);
  return result;
}

}  // namespace sysopt
