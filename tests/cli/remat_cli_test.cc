// Behavioural tests of `sysopt remat` (plan, simulate, sweep, max-batch): each test runs the real
// `sysopt` binary as a subprocess on a small graph (a shipped synthetic graph, or a tiny chain
// written to a temporary folder) and checks its exit code, its messages, and what it prints and
// writes. Expected figures are worked out by hand from the graph, or checked with a reference
// simulator written here, independent of the library.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/run_process.h"
#include "common/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sysopt::testing::ReadFile;
using sysopt::testing::TempDir;
using sysopt::testing::WriteFile;

const std::string kSysopt = std::string(SYSOPT_BINARY_DIR) + "/sysopt";
const std::string kChain16 = std::string(SYSOPT_SOURCE_DIR) + "/data/graphs/synthetic_chain16.json";
const std::string kDiamond6 =
    std::string(SYSOPT_SOURCE_DIR) + "/data/graphs/synthetic_diamond6.json";

constexpr int64_t kMiB = 1024 * 1024;

// Every solver name the documentation lists (docs/remat.md, "Solvers").
const std::vector<std::string> kAllSolverNames = {"keep-all",          "sqrtn-ap",
                                                  "sqrtn-linear",      "greedy-ap",
                                                  "greedy-linear",     "greedy-recompute",
                                                  "checkpoint-search", "stage-search",
                                                  "lp-rounding",       "milp",
                                                  "lp-bound",          "paging",
                                                  "milp-paging"};

// ---------------------------------------------------------------------------------------------
// Running sysopt as a subprocess.

using Proc = sysopt::testing::ProcessResult;

std::string Describe(const Proc& p) {
  return "exit " + std::to_string(p.exit_code) + "\n--- stdout:\n" + p.out + "\n--- stderr:\n" +
         p.err;
}

// Runs `sysopt args...` to completion, capturing stdout and stderr. A run longer than `limit_s`
// is killed and reported as exit code 128 + SIGKILL.
Proc RunSysopt(const std::vector<std::string>& args, double limit_s = 60) {
  return sysopt::testing::RunProcess(kSysopt, args, {}, limit_s);
}

// Runs a command that must succeed and print JSON; returns the parsed JSON.
json RunJson(const std::vector<std::string>& args) {
  const Proc p = RunSysopt(args);
  if (p.exit_code != 0) throw std::runtime_error("sysopt failed: " + Describe(p));
  return json::parse(p.out);
}

json ReadJson(const std::string& path) { return json::parse(ReadFile(path)); }

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The first line of `text` whose first word (after an optional "*" mark) is `word`, or "".
std::string RowOf(const std::string& text, const std::string& word) {
  for (const std::string& line : Lines(text)) {
    std::istringstream in(line);
    std::string first;
    in >> first;
    if (first == "*") in >> first;
    if (first == word) return line;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Graphs written by the tests.

// A training chain shaped like data/graphs/synthetic_chain16.json: forward nodes f0..f(n-1)
// (f_i reads f_{i-1}), then backward nodes g(n-1)..g0, where g_i reads f_{i-1}, f_i and g_{i+1};
// g0 is the output. Every tensor has `bytes` bytes; forward nodes cost 1, backward nodes 2. Node
// ids are 100 + position, so that ids differ from positions in messages.
//
// By hand, the keep-everything schedule (each tensor freed after its last read) holds all n
// forward tensors when it computes g(n-1), then frees f(n-1); each later g_i frees f_i and
// g_{i+1}, so residency only falls. Its peak is fixed + (n + 1) * bytes and its cost 3n.
json ChainGraph(int n, int64_t bytes, int64_t fixed_bytes, int64_t batch_size = 0) {
  json nodes = json::array();
  auto f_id = [](int i) { return 100 + i; };
  auto g_id = [n](int i) { return 100 + n + (n - 1 - i); };
  auto label = [](const char* prefix, int i) {
    std::string name = prefix;
    name += std::to_string(i);
    return name;
  };
  for (int i = 0; i < n; ++i) {
    json inputs = json::array();
    if (i > 0) inputs.push_back(f_id(i - 1));
    nodes.push_back({{"id", f_id(i)},
                     {"name", label("f", i)},
                     {"op", "forward"},
                     {"inputs", inputs},
                     {"bytes", bytes},
                     {"cost", 1.0},
                     {"backward", false}});
  }
  for (int i = n - 1; i >= 0; --i) {
    json inputs = json::array();
    if (i > 0) inputs.push_back(f_id(i - 1));
    inputs.push_back(f_id(i));
    if (i < n - 1) inputs.push_back(g_id(i + 1));
    nodes.push_back({{"id", g_id(i)},
                     {"name", label("g", i)},
                     {"op", "backward"},
                     {"inputs", inputs},
                     {"bytes", bytes},
                     {"cost", 2.0},
                     {"backward", true}});
  }
  json graph = {{"name", label("chain", n)},
                {"fixed_bytes", fixed_bytes},
                {"nodes", nodes},
                {"outputs", {g_id(0)}}};
  if (batch_size > 0) graph["batch_size"] = batch_size;
  return graph;
}

std::string WriteGraph(const TempDir& dir, const std::string& name, const json& graph) {
  const std::string path = dir.File(name);
  WriteFile(path, graph.dump(1));
  return path;
}

// ---------------------------------------------------------------------------------------------
// A reference simulator, written from the schedule rules in docs/remat.md ("Files"), to check
// the schedules sysopt writes without trusting its own simulator.

struct RefResult {
  bool valid = false;
  std::string why;
  int64_t peak = 0;
  double cost = 0;  // compute plus transfers
  int computes = 0;
  int recomputes = 0;
  int page_ins = 0;
  int page_outs = 0;
};

// With `bandwidth` (bytes per second) > 0, also page-outs (the tensor leaves the device for the
// host) and page-ins (it comes back from the host), each costing bytes / bandwidth.
RefResult ReferenceSimulate(const json& graph, const json& schedule, double bandwidth = 0) {
  std::map<int64_t, const json*> node_of;
  for (const json& node : graph["nodes"]) node_of[node["id"].get<int64_t>()] = &node;
  RefResult r;
  std::set<int64_t> resident, computed, on_host;
  int64_t memory = graph.value("fixed_bytes", int64_t{0});
  r.peak = memory;
  for (const json& step : schedule["steps"]) {
    const std::string kind = step.begin().key();
    const int64_t id = step.begin().value().get<int64_t>();
    if (!node_of.count(id)) {
      r.why = "unknown id " + std::to_string(id);
      return r;
    }
    const json& node = *node_of[id];
    const int64_t bytes = node["bytes"].get<int64_t>();
    if ((kind == "page_out" || kind == "page_in") && bandwidth <= 0) {
      r.why = "paging step without a bandwidth";
      return r;
    }
    if (kind == "page_out") {
      if (!resident.count(id) || on_host.count(id)) {
        r.why = "page-out of a tensor not resident or already on the host: " + std::to_string(id);
        return r;
      }
      resident.erase(id);
      on_host.insert(id);
      memory -= bytes;
      r.cost += static_cast<double>(bytes) / bandwidth;
      ++r.page_outs;
      continue;
    }
    if (kind == "page_in") {
      if (resident.count(id) || !on_host.count(id)) {
        r.why = "page-in of a tensor resident or not on the host: " + std::to_string(id);
        return r;
      }
      resident.insert(id);
      memory += bytes;
      r.peak = std::max(r.peak, memory);
      r.cost += static_cast<double>(bytes) / bandwidth;
      ++r.page_ins;
      continue;
    }
    const bool is_compute = kind == "compute";
    if (!is_compute) {
      if (!resident.count(id)) {
        r.why = "free of a tensor not resident: " + std::to_string(id);
        return r;
      }
      resident.erase(id);
      memory -= node["bytes"].get<int64_t>();
      continue;
    }
    if (resident.count(id)) {
      r.why = "compute of a resident tensor: " + std::to_string(id);
      return r;
    }
    for (const json& input : node["inputs"]) {
      if (!resident.count(input.get<int64_t>())) {
        r.why = "input not resident: " + input.dump();
        return r;
      }
    }
    resident.insert(id);
    memory += node["bytes"].get<int64_t>();
    r.peak = std::max(r.peak, memory);
    r.cost += node["cost"].get<double>();
    ++r.computes;
    if (!computed.insert(id).second) ++r.recomputes;
  }
  for (const json& output : graph["outputs"]) {
    if (!resident.count(output.get<int64_t>())) {
      r.why = "output missing at the end: " + output.dump();
      return r;
    }
  }
  r.valid = true;
  return r;
}

// Figures of data/graphs/synthetic_chain16.json worked out by hand (see ChainGraph): 16 forward
// tensors of 1 MiB, no fixed bytes.
constexpr int64_t kChain16Peak = 17 * kMiB;
constexpr double kChain16Cost = 16 * 1.0 + 16 * 2.0;
// No schedule of chain16 can use less than 4 MiB: computing g_i (0 < i < 15) needs f_{i-1}, f_i
// and g_{i+1} resident besides its own output.
constexpr int64_t kChain16LeastPeak = 4 * kMiB;

// fixed + floor(fraction * (keep-everything peak - fixed)), as docs/remat.md defines "50%".
int64_t Chain16Budget(double fraction) {
  return static_cast<int64_t>(std::floor(fraction * static_cast<double>(kChain16Peak)));
}

const json* EntryOf(const json& result, const std::string& solver) {
  for (const json& e : result["plans"]) {
    if (e["solver"] == solver) return &e;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// remat plan

TEST(RematPlanCli, BestScheduleIsValidWithinBudgetAndMatchesSimulate) {
  TempDir dir;
  const std::string out = dir.File("plan.json");
  const json result = RunJson(
      {"remat", "plan", kChain16, "--budget", "50%", "--time-limit", "1", "--out", out, "--json"});
  const int64_t budget = Chain16Budget(0.5);
  EXPECT_EQ(result["budget_bytes"].get<int64_t>(), budget);
  ASSERT_TRUE(fs::exists(out));

  // The written schedule, checked by the reference simulator: valid, within the budget.
  const json graph = ReadJson(kChain16);
  const json schedule = ReadJson(out);
  const RefResult ref = ReferenceSimulate(graph, schedule);
  ASSERT_TRUE(ref.valid) << ref.why;
  EXPECT_LE(ref.peak, budget);
  EXPECT_GE(ref.peak, kChain16LeastPeak);
  EXPECT_GE(ref.cost, kChain16Cost);  // every node runs at least once
  EXPECT_GT(ref.recomputes, 0);       // at half the keep-everything peak something is recomputed

  // `remat simulate` accepts it and reports the same figures.
  const json sim = RunJson({"remat", "simulate", kChain16, out, "--json"});
  EXPECT_EQ(sim["peak_bytes"].get<int64_t>(), ref.peak);
  EXPECT_DOUBLE_EQ(sim["cost"].get<double>(), ref.cost);
  EXPECT_EQ(sim["computes"].get<int>(), ref.computes);
  EXPECT_EQ(sim["recomputes"].get<int>(), ref.recomputes);
  EXPECT_NEAR(sim["overhead"].get<double>(), ref.cost / kChain16Cost - 1.0, 1e-12);

  // The plan's report describes the schedule it wrote: the best entry's figures are the file's.
  ASSERT_TRUE(result["best"].is_string()) << result.dump(2);
  const json* best = EntryOf(result, result["best"].get<std::string>());
  ASSERT_NE(best, nullptr);
  EXPECT_EQ((*best)["peak_bytes"].get<int64_t>(), ref.peak);
  EXPECT_DOUBLE_EQ((*best)["cost"].get<double>(), ref.cost);
  EXPECT_EQ((*best)["recomputes"].get<int>(), ref.recomputes);
}

TEST(RematPlanCli, PlanFileRecordsItsGraphBudgetAndSolver) {
  TempDir dir;
  const std::string out = dir.File("plan.json");
  const json result = RunJson(
      {"remat", "plan", kChain16, "--budget", "50%", "--time-limit", "1", "--out", out, "--json"});
  const json plan = ReadJson(out);
  ASSERT_TRUE(plan.contains("graph")) << plan.dump();
  EXPECT_EQ(plan["graph"]["path"], kChain16);
  EXPECT_EQ(plan["graph"]["name"], "chain16");
  EXPECT_EQ(plan["graph"]["nodes"], 32);
  // FNV-1a 64 of the graph file's bytes, computed here.
  const std::string text = ReadFile(kChain16);
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  EXPECT_EQ(plan["graph"]["content_hash"], hex);
  EXPECT_EQ(plan["graph"]["hash_function"], "fnv1a64");
  EXPECT_EQ(plan["budget_bytes"].get<int64_t>(), Chain16Budget(0.5));
  EXPECT_EQ(plan["budget"], "50%");
  EXPECT_EQ(plan["solver"], result["best"]);
  EXPECT_DOUBLE_EQ(plan["time_limit_s"].get<double>(), 1.0);
  const json* best = EntryOf(result, result["best"].get<std::string>());
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(plan["peak_bytes"], (*best)["peak_bytes"]);
  EXPECT_EQ(plan["cost"], (*best)["cost"]);
}

TEST(RematPlanCli, TimeLimitBoundsTheWholeCommandOnTheLargestShippedGraph) {
  // The largest shipped graph, with every solver `auto` runs there (baselines, the stage search
  // and the stage-boundary LP bound): the real command, timed from outside, ends within the
  // limit plus a margin for starting the process and reading the graph.
  std::string largest;
  size_t most = 0;
  for (const auto& file :
       fs::directory_iterator(std::string(SYSOPT_SOURCE_DIR) + "/data/graphs")) {
    const json g = ReadJson(file.path().string());
    if (g["nodes"].size() > most) {
      most = g["nodes"].size();
      largest = file.path().string();
    }
  }
  ASSERT_GT(most, 300u);
  const double limit = 3.0;
  const auto start = std::chrono::steady_clock::now();
  const Proc p = RunSysopt({"remat", "plan", largest, "--budget", "40%", "--time-limit", "3",
                            "--json", "--quiet"},
                           30);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_LT(wall, limit + 1.0) << largest;
  const json r = json::parse(p.out);
  EXPECT_LE(r["wall_seconds"].get<double>(), limit + 0.5);
  // Each solver had a share of the one clock, not the whole limit.
  double shares = 0;
  for (const json& e : r["plans"]) {
    EXPECT_LT(e["time_share_seconds"].get<double>(), limit) << e.dump();
    EXPECT_LE(e["solve_seconds"].get<double>(), e["time_share_seconds"].get<double>() + 0.5)
        << e.dump();
    shares += e["solve_seconds"].get<double>();
    // A bound either finished or says it was not computed.
    if (!e["has_schedule"].get<bool>() && !e["bound_complete"].get<bool>()) {
      EXPECT_TRUE(Contains(e["status"].get<std::string>(), "not computed")) << e.dump();
    }
  }
  EXPECT_LT(shares, limit + 0.5);

  // A non-positive limit is refused.
  const Proc bad = RunSysopt({"remat", "plan", kChain16, "--budget", "50%", "--time-limit", "0"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_TRUE(Contains(bad.err, "--time-limit")) << bad.err;
}

TEST(RematPlanCli, JsonFiguresAreConsistentWithEachOther) {
  const json r =
      RunJson({"remat", "plan", kChain16, "--budget", "50%", "--time-limit", "1", "--json"});
  const int64_t budget = Chain16Budget(0.5);
  ASSERT_EQ(r["budget_bytes"].get<int64_t>(), budget);
  EXPECT_EQ(r["keep_all_peak"].get<int64_t>(), kChain16Peak);
  EXPECT_DOUBLE_EQ(r["keep_all_cost"].get<double>(), kChain16Cost);

  // 'auto' on a 32-node graph: the baselines, lagrangian-bound, stage-search and (up to 120
  // nodes) milp.
  std::vector<std::string> solvers;
  for (const json& e : r["plans"]) solvers.push_back(e["solver"]);
  EXPECT_EQ(solvers,
            (std::vector<std::string>{"keep-all", "sqrtn-ap", "sqrtn-linear", "greedy-ap",
                                      "greedy-linear", "greedy-recompute", "lagrangian-bound",
                                      "stage-search",
                                      "milp"}));

  const double bound = r["lower_bound"].get<double>();
  EXPECT_GE(bound, kChain16Cost - 1e-9);  // at least "every node once"
  double best_cost = INFINITY;
  std::string best_solver;
  for (const json& e : r["plans"]) {
    SCOPED_TRACE(e.dump());
    const std::string name = e["solver"];
    EXPECT_LE(e["lower_bound"].get<double>(), bound + 1e-9);  // the overall bound is the best
    if (!e["has_schedule"].get<bool>()) {
      EXPECT_FALSE(e["feasible"].get<bool>());
      EXPECT_FALSE(e.contains("peak_bytes"));
      continue;
    }
    const int64_t peak = e["peak_bytes"].get<int64_t>();
    const double cost = e["cost"].get<double>();
    EXPECT_EQ(e["feasible"].get<bool>(), peak <= budget);
    EXPECT_GE(peak, kChain16LeastPeak);
    EXPECT_GE(cost, kChain16Cost);
    EXPECT_GE(e["recomputes"].get<int>(), 0);
    EXPECT_NEAR(e["overhead"].get<double>(), cost / kChain16Cost - 1.0, 1e-9);
    EXPECT_NEAR(e["gap"].get<double>(), (cost - bound) / bound, 1e-9);
    if (e["feasible"].get<bool>() && cost < best_cost) {
      best_cost = cost;
      best_solver = name;
    }
  }
  // keep-all needs the whole keep-everything peak, twice this budget.
  const json* keep_all = EntryOf(r, "keep-all");
  ASSERT_NE(keep_all, nullptr);
  EXPECT_EQ((*keep_all)["peak_bytes"].get<int64_t>(), kChain16Peak);
  EXPECT_DOUBLE_EQ((*keep_all)["cost"].get<double>(), kChain16Cost);
  EXPECT_EQ((*keep_all)["recomputes"].get<int>(), 0);
  EXPECT_FALSE((*keep_all)["feasible"].get<bool>());
  EXPECT_FALSE((*keep_all)["proven_optimal"].get<bool>());

  // The best plan is the cheapest feasible one, and no plan beats the lower bound on this graph.
  ASSERT_FALSE(best_solver.empty()) << r.dump(2);
  ASSERT_TRUE(r["best"].is_string());
  const json* best = EntryOf(r, r["best"].get<std::string>());
  ASSERT_NE(best, nullptr);
  EXPECT_DOUBLE_EQ((*best)["cost"].get<double>(), best_cost);
  EXPECT_GE(best_cost, bound - 1e-9);
  // stage-search starts from the checkpoint search, which starts from the best baseline, so it
  // is never worse than any baseline.
  const json* search = EntryOf(r, "stage-search");
  ASSERT_NE(search, nullptr);
  ASSERT_TRUE((*search)["feasible"].get<bool>());
  for (const char* baseline :
       {"keep-all", "sqrtn-ap", "sqrtn-linear", "greedy-ap", "greedy-linear"}) {
    const json* e = EntryOf(r, baseline);
    ASSERT_NE(e, nullptr);
    if ((*e)["feasible"].get<bool>()) {
      EXPECT_LE((*search)["cost"].get<double>(), (*e)["cost"].get<double>()) << baseline;
    }
  }
}

TEST(RematPlanCli, BudgetSpellingsOfTheKeepEverythingPeakAgree) {
  // 17 MiB = 17825792 bytes, written as a binary size, plain bytes, a decimal size and 100%.
  for (const std::string budget : {"17MiB", "17M", "17825792", "17.825792MB", "100%"}) {
    SCOPED_TRACE(budget);
    const json r =
        RunJson({"remat", "plan", kChain16, "--budget", budget, "--solver", "keep-all", "--json"});
    EXPECT_EQ(r["budget_bytes"].get<int64_t>(), kChain16Peak);
    const json& e = r["plans"][0];
    EXPECT_EQ(e["solver"], "keep-all");
    EXPECT_TRUE(e["feasible"].get<bool>());
    EXPECT_TRUE(e["proven_optimal"].get<bool>());
    EXPECT_DOUBLE_EQ(e["overhead"].get<double>(), 0.0);
    EXPECT_EQ(r["best"], "keep-all");
  }
  // One byte less and keep-all no longer fits: exit 1, no best plan.
  const Proc p = RunSysopt({"remat", "plan", kChain16, "--budget", std::to_string(kChain16Peak - 1),
                            "--solver", "keep-all", "--json"});
  ASSERT_EQ(p.exit_code, 1) << Describe(p);
  const json r = json::parse(p.out);
  EXPECT_TRUE(r["best"].is_null());
  EXPECT_FALSE(r["plans"][0]["feasible"].get<bool>());
}

TEST(RematPlanCli, TextReportHasARowPerSolverAndMarksTheBest) {
  const Proc p = RunSysopt(
      {"remat", "plan", kChain16, "--budget", "50%", "--solver", "keep-all,greedy-linear"});
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_TRUE(Contains(p.out, "chain16")) << p.out;
  EXPECT_TRUE(Contains(p.out, "32 nodes")) << p.out;
  const std::string keep_all = RowOf(p.out, "keep-all");
  const std::string greedy = RowOf(p.out, "greedy-linear");
  ASSERT_FALSE(keep_all.empty()) << p.out;
  ASSERT_FALSE(greedy.empty()) << p.out;
  // keep-all's 17 MiB is over the 8.5 MiB budget, so greedy-linear is the best (marked) plan.
  EXPECT_TRUE(Contains(keep_all, "over budget")) << keep_all;
  EXPECT_EQ(keep_all.rfind("*", 0), std::string::npos) << keep_all;
  EXPECT_EQ(greedy.rfind("*", 0), 0u) << greedy;
  EXPECT_TRUE(Contains(keep_all, "17 MiB")) << keep_all;
}

TEST(RematPlanCli, ProgressGoesToStderrUnlessQuiet) {
  const std::vector<std::string> args = {"remat", "plan",     kChain16,
                                         "--budget", "50%", "--solver",
                                         "keep-all,greedy-linear"};
  const Proc p = RunSysopt(args);
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  // One line per solver, in order, then the wall time, on stderr only: stdout stays the report.
  const std::vector<std::string> lines = Lines(p.err);
  ASSERT_EQ(lines.size(), 3u) << p.err;
  EXPECT_TRUE(Contains(lines[0], "[1/2] keep-all")) << lines[0];
  EXPECT_TRUE(Contains(lines[1], "[2/2] greedy-linear")) << lines[1];
  EXPECT_TRUE(Contains(lines[2], "done in")) << lines[2];
  EXPECT_TRUE(Contains(lines[2], "of the 60 s limit")) << lines[2];
  EXPECT_FALSE(Contains(p.out, "[1/2]")) << p.out;

  std::vector<std::string> quiet = args;
  quiet.push_back("--quiet");
  const Proc q = RunSysopt(quiet);
  ASSERT_EQ(q.exit_code, 0) << Describe(q);
  EXPECT_EQ(q.err, "");
  EXPECT_EQ(q.out, p.out);

  // A sweep names the budget it is at.
  const Proc s = RunSysopt(
      {"remat", "sweep", kChain16, "--fractions", "0.5,1.0", "--solver", "keep-all"});
  ASSERT_EQ(s.exit_code, 0) << Describe(s);
  EXPECT_TRUE(Contains(s.err, "budget 50% (1/2) [1/1] keep-all")) << s.err;
  EXPECT_TRUE(Contains(s.err, "budget 100% (2/2) [1/1] keep-all")) << s.err;
}

TEST(RematPlanCli, NoPlanWithinTheBudgetExitsOneAndWritesNothing) {
  TempDir dir;
  const std::string out = dir.File("plan.json");
  // 3 MiB is below the 4 MiB that any schedule of chain16 needs.
  Proc p =
      RunSysopt({"remat", "plan", kChain16, "--budget", "3MiB", "--time-limit", "1", "--out", out});
  EXPECT_EQ(p.exit_code, 1) << Describe(p);
  EXPECT_TRUE(Contains(p.err, "no solver found a plan")) << p.err;
  EXPECT_TRUE(Contains(p.err, out)) << p.err;
  EXPECT_FALSE(fs::exists(out));

  p = RunSysopt({"remat", "plan", kChain16, "--budget", "3MiB", "--time-limit", "1"});
  EXPECT_EQ(p.exit_code, 1) << Describe(p);
  EXPECT_TRUE(Contains(p.out, "no solver found a plan within the budget")) << p.out;

  p = RunSysopt({"remat", "plan", kChain16, "--budget", "3MiB", "--time-limit", "1", "--json"});
  ASSERT_EQ(p.exit_code, 1) << Describe(p);
  const json r = json::parse(p.out);
  EXPECT_TRUE(r["best"].is_null());
  for (const json& e : r["plans"]) EXPECT_FALSE(e["feasible"].get<bool>()) << e.dump();

  // A budget below the fixed bytes alone.
  TempDir tiny;
  const std::string graph = WriteGraph(tiny, "g.json", ChainGraph(3, 1000, 1000000));
  p = RunSysopt({"remat", "plan", graph, "--budget", "999999", "--time-limit", "1", "--out", out});
  EXPECT_EQ(p.exit_code, 1) << Describe(p);
  EXPECT_TRUE(Contains(p.err, "no solver found a plan")) << p.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(RematPlanCli, MalformedBudgetExitsTwoNamingTheValue) {
  for (const std::string budget : {"12XB", "-5%", "-5", "0%", "abc", "x%", "5%x", "1.2.3MB", "50%%",
                                   "nan%", "inf%", "1e300%"}) {
    SCOPED_TRACE(budget);
    const Proc p = RunSysopt({"remat", "plan", kChain16, "--budget", budget});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_TRUE(Contains(p.err, "'" + budget + "'")) << p.err;
    EXPECT_TRUE(Contains(p.err, "--budget")) << p.err;
    EXPECT_EQ(p.out, "");
  }
}

TEST(RematPlanCli, UnknownSolverExitsTwoListingTheNames) {
  for (const std::string solver : {"nope", "keep-all,nope"}) {
    SCOPED_TRACE(solver);
    const Proc p = RunSysopt({"remat", "plan", kChain16, "--budget", "50%", "--solver", solver});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_TRUE(Contains(p.err, "'nope'")) << p.err;
    for (const std::string& name : kAllSolverNames) {
      EXPECT_TRUE(Contains(p.err, name)) << name << " missing from: " << p.err;
    }
  }
  // The same for sweep and max-batch.
  Proc p = RunSysopt({"remat", "sweep", kChain16, "--fractions", "0.5", "--solver", "nope"});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_TRUE(Contains(p.err, "'nope'")) << p.err;
  p = RunSysopt({"remat", "max-batch", kChain16, "--budget", "8MiB", "--solver", "nope"});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_TRUE(Contains(p.err, "'nope'")) << p.err;
}

TEST(RematPlanCli, MissingArgumentsAndHelp) {
  Proc p = RunSysopt({"remat"});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  p = RunSysopt({"remat", "plan", kChain16});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_TRUE(Contains(p.err, "--budget")) << p.err;
  p = RunSysopt({"remat", "simulate", kChain16});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  p = RunSysopt({"remat", "--help"});
  EXPECT_EQ(p.exit_code, 0) << Describe(p);
  for (const char* sub : {"plan", "simulate", "sweep", "max-batch"}) {
    EXPECT_TRUE(Contains(p.out, sub)) << sub << " missing from: " << p.out;
  }
  p = RunSysopt({"remat", "plan", "--help"});
  EXPECT_EQ(p.exit_code, 0) << Describe(p);
  for (const char* flag : {"--budget", "--solver", "--time-limit", "--seed", "--out", "--json"}) {
    EXPECT_TRUE(Contains(p.out, flag)) << flag << " missing from: " << p.out;
  }
}

// ---------------------------------------------------------------------------------------------
// Invalid graphs: every subcommand rejects them with exit 2 and a message naming the problem.

struct BadGraph {
  const char* label;
  std::function<void(json&)> corrupt;          // applied to a valid 3-stage chain
  std::vector<std::string> expected_in_error;  // besides the file's path
};

TEST(RematGraphCli, InvalidGraphsExitTwoNamingFieldAndValue) {
  // ChainGraph(3, ...) has ids 100..102 (f0..f2) and 103..105 (g2, g1, g0); g0 (105) is the output.
  const std::vector<BadGraph> cases = {
      {"dangling input",
       [](json& g) { g["nodes"][1]["inputs"] = {42}; },
       {"nodes[1]", "input id 42 does not exist"}},
      {"cycle", [](json& g) { g["nodes"][0]["inputs"] = {101}; }, {"cycle", "100", "101"}},
      {"self loop", [](json& g) { g["nodes"][2]["inputs"] = {102}; }, {"102", "itself"}},
      {"duplicate id", [](json& g) { g["nodes"][2]["id"] = 101; }, {"duplicate id 101"}},
      {"out of order",
       [](json& g) {
         std::swap(g["nodes"][3], g["nodes"][4]);  // g1 (104) before g2 (103), which it reads
       },
       {"topological order", "104", "103"}},
      {"negative bytes", [](json& g) { g["nodes"][1]["bytes"] = -8; }, {"'bytes'", "-8"}},
      {"negative cost", [](json& g) { g["nodes"][1]["cost"] = -1.5; }, {"'cost'", "-1.5"}},
      {"missing cost", [](json& g) { g["nodes"][1].erase("cost"); }, {"nodes[1]", "'cost'"}},
      {"string bytes", [](json& g) { g["nodes"][0]["bytes"] = "1KB"; }, {"nodes[0]", "'bytes'"}},
      {"unknown output", [](json& g) { g["outputs"] = {999}; }, {"'outputs'", "999"}},
      {"empty outputs", [](json& g) { g["outputs"] = json::array(); }, {"'outputs'", "empty"}},
      {"no nodes", [](json& g) { g.erase("nodes"); }, {"'nodes'"}},
      {"negative fixed bytes", [](json& g) { g["fixed_bytes"] = -1; }, {"'fixed_bytes'"}},
  };
  TempDir dir;
  for (const BadGraph& c : cases) {
    SCOPED_TRACE(c.label);
    json graph = ChainGraph(3, 1000, 0, 1);
    c.corrupt(graph);
    const std::string path = WriteGraph(dir, "bad.json", graph);
    const Proc p = RunSysopt({"remat", "plan", path, "--budget", "1GiB", "--solver", "keep-all"});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_TRUE(Contains(p.err, path)) << p.err;
    for (const std::string& part : c.expected_in_error) {
      EXPECT_TRUE(Contains(p.err, part)) << "'" << part << "' missing from: " << p.err;
    }
  }

  // Not JSON at all.
  const std::string garbage = dir.File("garbage.json");
  WriteFile(garbage, "{\"nodes\": [");
  Proc p = RunSysopt({"remat", "plan", garbage, "--budget", "1GiB"});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_TRUE(Contains(p.err, garbage)) << p.err;
  EXPECT_TRUE(Contains(p.err, "not valid JSON")) << p.err;

  // Every subcommand loads the graph the same way.
  json dangling = ChainGraph(3, 1000, 0, 1);
  dangling["nodes"][1]["inputs"] = {42};
  const std::string path = WriteGraph(dir, "dangling.json", dangling);
  const std::string schedule = dir.File("schedule.json");
  WriteFile(schedule, R"({"steps": []})");
  const std::vector<std::vector<std::string>> commands = {
      {"remat", "simulate", path, schedule},
      {"remat", "sweep", path, "--fractions", "0.5", "--solver", "keep-all"},
      {"remat", "max-batch", path, "--budget", "1GiB", "--solver", "keep-all"},
  };
  for (const auto& args : commands) {
    SCOPED_TRACE(args[1]);
    p = RunSysopt(args);
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_TRUE(Contains(p.err, "input id 42 does not exist")) << p.err;
  }

  // A graph or schedule file that does not exist is bad input (exit 2, as a missing spec file
  // is for `tune`), named in the message.
  const std::string missing = dir.File("missing.json");
  p = RunSysopt({"remat", "plan", missing, "--budget", "1GiB"});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_TRUE(Contains(p.err, missing)) << p.err;
  p = RunSysopt({"remat", "simulate", kChain16, missing});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_TRUE(Contains(p.err, missing)) << p.err;
}

// ---------------------------------------------------------------------------------------------
// remat simulate

// The 4-stage chain: f0..f3 are ids 100..103, g3, g2, g1, g0 are ids 104..107 (g0 the output);
// every tensor 1000 bytes, 500 fixed bytes.
json Chain4() { return ChainGraph(4, 1000, 500); }

// A schedule written as "+id" (compute) and "-id" (free), e.g. "+100 +101 -100".
std::string Steps(const std::string& text) {
  json list = json::array();
  std::istringstream in(text);
  for (std::string step; in >> step;) {
    list.push_back({{step[0] == '+' ? "compute" : "free", std::stoi(step.substr(1))}});
  }
  return json{{"steps", list}}.dump();
}

TEST(RematSimulateCli, HandWrittenSchedulesGiveHandComputedFigures) {
  TempDir dir;
  const std::string graph = WriteGraph(dir, "chain4.json", Chain4());

  // Keep everything: 4 forward tensors plus g3 resident at once, cost 4 * 1 + 4 * 2 = 12.
  const std::string keep = dir.File("keep.json");
  WriteFile(keep, Steps("+100 +101 +102 +103 +104 -103 +105 -102 -104 +106 -101 -105 +107 "
                        "-100 -106"));
  json sim = RunJson({"remat", "simulate", graph, keep, "--json"});
  EXPECT_EQ(sim["peak_bytes"].get<int64_t>(), 500 + 5 * 1000);
  EXPECT_DOUBLE_EQ(sim["cost"].get<double>(), 12.0);
  EXPECT_EQ(sim["computes"].get<int>(), 8);
  EXPECT_EQ(sim["recomputes"].get<int>(), 0);
  EXPECT_DOUBLE_EQ(sim["overhead"].get<double>(), 0.0);

  // Free f0 after f1 and recompute it for g1: at most 4 tensors resident (f1, f2, f3, g3 and
  // then f1, f2, g3, g2 / f0, f1, g2, g1), one extra forward cost of 1.
  const std::string remat = dir.File("remat.json");
  WriteFile(remat, Steps("+100 +101 -100 +102 +103 +104 -103 +105 -102 -104 +100 +106 -101 "
                         "-105 +107 -100 -106"));
  sim = RunJson({"remat", "simulate", graph, remat, "--json"});
  EXPECT_EQ(sim["peak_bytes"].get<int64_t>(), 500 + 4 * 1000);
  EXPECT_DOUBLE_EQ(sim["cost"].get<double>(), 13.0);
  EXPECT_EQ(sim["computes"].get<int>(), 9);
  EXPECT_EQ(sim["recomputes"].get<int>(), 1);
  EXPECT_NEAR(sim["overhead"].get<double>(), 1.0 / 12.0, 1e-12);

  // The text form carries the same figures.
  const Proc p = RunSysopt({"remat", "simulate", graph, remat});
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_TRUE(Contains(p.out, "valid schedule")) << p.out;
  EXPECT_TRUE(Contains(p.out, "4500 bytes")) << p.out;
  EXPECT_TRUE(Contains(p.out, "1 recomputations")) << p.out;
}

struct BadSchedule {
  const char* label;
  std::string text;
  std::vector<std::string> expected_in_error;
};

TEST(RematSimulateCli, InvalidSchedulesExitTwoWithTheReason) {
  TempDir dir;
  const std::string graph = WriteGraph(dir, "chain4.json", Chain4());
  // Everything up to g0 computed, with f0 still resident (13 steps).
  const std::string all = "+100 +101 +102 +103 +104 -103 +105 -102 -104 +106 -101 -105 +107";
  const std::vector<BadSchedule> cases = {
      {"compute with a missing input",
       Steps("+100 +102"),
       {"step 1", "102", "input id 101 is not resident"}},
      {"free of a tensor never computed",
       Steps("+100 -101"),
       {"step 1", "frees node id 101", "not resident"}},
      {"free twice", Steps(all + " -100 -100"), {"step 14", "frees node id 100"}},
      {"compute of a resident tensor", Steps("+100 +100"), {"step 1", "100", "already resident"}},
      {"output freed at the end", Steps(all + " -107"), {"output node id 107", "not resident"}},
      {"output never computed", Steps("+100"), {"output node id 107"}},
      {"unknown id", Steps("+100 +7"), {"steps[1]", "7", "does not exist"}},
      {"step with two actions", R"({"steps": [{"compute": 100, "free": 100}]})", {"steps[0]"}},
      {"string id", R"({"steps": [{"compute": "100"}]})", {"steps[0]", "not an integer"}},
      {"no steps", R"({"plan": []})", {"'steps'"}},
      {"not JSON", "{\"steps\": [", {"not valid JSON"}},
  };
  for (const BadSchedule& c : cases) {
    SCOPED_TRACE(c.label);
    const std::string path = dir.File("schedule.json");
    WriteFile(path, c.text);
    for (const bool as_json : {false, true}) {
      std::vector<std::string> args = {"remat", "simulate", graph, path};
      if (as_json) args.push_back("--json");
      const Proc p = RunSysopt(args);
      EXPECT_EQ(p.exit_code, 2) << Describe(p);
      EXPECT_EQ(p.out, "");
      EXPECT_TRUE(Contains(p.err, path)) << p.err;
      for (const std::string& part : c.expected_in_error) {
        EXPECT_TRUE(Contains(p.err, part)) << "'" << part << "' missing from: " << p.err;
      }
    }
  }
  // The complete schedule with f0 freed at the end is valid (the cases above differ from it only
  // in what makes them wrong).
  const std::string ok = dir.File("ok.json");
  WriteFile(ok, Steps(all + " -100"));
  const Proc p = RunSysopt({"remat", "simulate", graph, ok});
  EXPECT_EQ(p.exit_code, 0) << Describe(p);
}

// ---------------------------------------------------------------------------------------------
// remat sweep

TEST(RematSweepCli, TableAndPlotListEveryBudgetAndSolver) {
  TempDir dir;
  const std::string plot = dir.File("chain16.svg");
  const std::vector<std::string> solvers = {"keep-all", "sqrtn-linear", "greedy-linear"};
  const Proc p = RunSysopt({"remat", "sweep", kChain16, "--fractions", "1.0,0.3,0.5", "--solver",
                            "keep-all,sqrtn-linear,greedy-linear", "--plot", plot});
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  // Budgets in increasing order in the header, one row per solver plus the lower bound.
  const std::string header = RowOf(p.out, "budget");
  ASSERT_FALSE(header.empty()) << p.out;
  const size_t at30 = header.find("30%"), at50 = header.find("50%"), at100 = header.find("100%");
  ASSERT_NE(at30, std::string::npos) << header;
  ASSERT_NE(at50, std::string::npos) << header;
  ASSERT_NE(at100, std::string::npos) << header;
  EXPECT_LT(at30, at50);
  EXPECT_LT(at50, at100);
  for (const std::string& s : solvers) {
    EXPECT_FALSE(RowOf(p.out, s).empty()) << s << " missing from: " << p.out;
  }
  EXPECT_FALSE(RowOf(p.out, "lower").empty()) << p.out;
  // keep-all fits only at 100% (its peak is the whole keep-everything peak), at zero overhead.
  std::istringstream keep_all(RowOf(p.out, "keep-all"));
  std::string name, c30, c50, c100;
  keep_all >> name >> c30 >> c50 >> c100;
  EXPECT_EQ(c30, "-");
  EXPECT_EQ(c50, "-");
  EXPECT_EQ(c100, "0.00%");
  EXPECT_TRUE(Contains(p.out, plot)) << p.out;

  // The SVG: one curve and one legend entry per solver, one tick label per budget.
  ASSERT_TRUE(fs::exists(plot));
  const std::string svg = ReadFile(plot);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u) << svg.substr(0, 100);
  EXPECT_TRUE(Contains(svg, "</svg>"));
  for (const std::string& s : solvers) EXPECT_TRUE(Contains(svg, ">" + s + "<")) << s;
  size_t polylines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1)) {
    ++polylines;
  }
  EXPECT_EQ(polylines, solvers.size());
  for (const char* tick : {">30%<", ">50%<", ">100%<"}) EXPECT_TRUE(Contains(svg, tick)) << tick;
}

TEST(RematSweepCli, JsonBudgetsAndMonotoneBaselines) {
  const json r = RunJson({"remat", "sweep", kChain16, "--fractions", "0.9,0.3,0.5,0.7,1.0",
                          "--solver", "keep-all,sqrtn-ap,greedy-ap,greedy-linear,checkpoint-search",
                          "--time-limit", "0.5", "--json"});
  EXPECT_EQ(r["graph"], "chain16");
  const json& sweep = r["sweep"];
  ASSERT_EQ(sweep.size(), 5u);
  const std::vector<double> fractions = {0.3, 0.5, 0.7, 0.9, 1.0};
  std::map<std::string, std::vector<const json*>> by_solver;
  for (size_t b = 0; b < sweep.size(); ++b) {
    const json& s = sweep[b];
    EXPECT_DOUBLE_EQ(s["fraction"].get<double>(), fractions[b]);
    EXPECT_EQ(s["budget_bytes"].get<int64_t>(), Chain16Budget(fractions[b]));
    for (const json& e : s["plans"]) {
      by_solver[e["solver"]].push_back(&e);
      if (e["has_schedule"].get<bool>()) {
        EXPECT_EQ(e["feasible"].get<bool>(),
                  e["peak_bytes"].get<int64_t>() <= s["budget_bytes"].get<int64_t>());
      }
    }
  }
  // At 100% keep-all fits, so the best plan has no overhead.
  ASSERT_TRUE(sweep[4]["best"].is_string());
  EXPECT_DOUBLE_EQ(
      EntryOf(sweep[4], sweep[4]["best"].get<std::string>())->at("overhead").get<double>(), 0.0);
  // The baselines choose the cheapest fitting plan from a candidate set that does not depend on
  // the budget, so a larger budget never makes them infeasible or more expensive. (The random
  // checkpoint search has no such guarantee.)
  for (const char* solver : {"keep-all", "sqrtn-ap", "greedy-ap", "greedy-linear"}) {
    SCOPED_TRACE(solver);
    const auto& entries = by_solver[solver];
    ASSERT_EQ(entries.size(), fractions.size());
    for (size_t b = 1; b < entries.size(); ++b) {
      const json& before = *entries[b - 1];
      const json& after = *entries[b];
      if (!before["feasible"].get<bool>()) continue;
      EXPECT_TRUE(after["feasible"].get<bool>()) << "budget " << fractions[b];
      EXPECT_LE(after["overhead"].get<double>(), before["overhead"].get<double>() + 1e-12)
          << "budget " << fractions[b];
    }
  }
  // checkpoint-search is at least as good as every baseline at every budget.
  for (size_t b = 0; b < fractions.size(); ++b) {
    const json& search = *by_solver["checkpoint-search"][b];
    for (const char* baseline : {"keep-all", "sqrtn-ap", "greedy-ap", "greedy-linear"}) {
      const json& e = *by_solver[baseline][b];
      if (!e["feasible"].get<bool>()) continue;
      ASSERT_TRUE(search["feasible"].get<bool>()) << "budget " << fractions[b];
      EXPECT_LE(search["overhead"].get<double>(), e["overhead"].get<double>() + 1e-12)
          << baseline << " at budget " << fractions[b];
    }
  }
}

TEST(RematSweepCli, InvalidFractionsExitTwoNamingTheValue) {
  for (const auto& [fractions, named] :
       std::vector<std::pair<std::string, std::string>>{{"0.5,abc", "'abc'"},
                                                        {"0,0.5", "'0'"},
                                                        {"-0.5", "'-0.5'"},
                                                        {",", "empty"},
                                                        {"nan", "'nan'"},
                                                        {"inf", "'inf'"},
                                                        {"1e300", "'1e300'"},
                                                        {"0.5x", "'0.5x'"}}) {
    SCOPED_TRACE(fractions);
    const Proc p =
        RunSysopt({"remat", "sweep", kChain16, "--fractions", fractions, "--solver", "keep-all"});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_TRUE(Contains(p.err, "--fractions")) << p.err;
    EXPECT_TRUE(Contains(p.err, named)) << p.err;
  }
}

// ---------------------------------------------------------------------------------------------
// remat max-batch

// A 4-stage chain extracted at batch 2: every tensor is 1000 bytes (500 per sample), fixed bytes
// 10000 (parameters: they do not grow with the batch). At batch b the keep-everything peak is
// 10000 + 5 * 500 * b (see ChainGraph), so a budget of 10000 + 3 * 5000 = 25000 bytes fits
// keep-all up to batch 6 exactly. Forward nodes cost 4 of 12, so "forward" allows 1/3 overhead.
constexpr int64_t kBatchBudget = 25000;
constexpr int64_t kKeepAllMaxBatch = 6;
json BatchChain() { return ChainGraph(4, 1000, 10000, 2); }

std::map<std::string, json> ResultsBySolver(const json& r) {
  std::map<std::string, json> out;
  for (const json& e : r["results"]) out[e["solver"]] = e;
  return out;
}

TEST(RematMaxBatchCli, KeepAllMatchesTheHandComputedBatch) {
  TempDir dir;
  const std::string graph = WriteGraph(dir, "chain4.json", BatchChain());
  const json r = RunJson({"remat", "max-batch", graph, "--budget", std::to_string(kBatchBudget),
                          "--solver", "keep-all,sqrtn-linear,greedy-linear,checkpoint-search",
                          "--time-limit", "0.5", "--json"});
  EXPECT_EQ(r["budget_bytes"].get<int64_t>(), kBatchBudget);
  EXPECT_NEAR(r["max_overhead"].get<double>(), 4.0 / 12.0, 1e-12);
  const auto results = ResultsBySolver(r);
  ASSERT_EQ(results.size(), 4u) << r.dump(2);
  EXPECT_EQ(results.at("keep-all")["max_batch"].get<int64_t>(), kKeepAllMaxBatch);
  EXPECT_DOUBLE_EQ(results.at("keep-all")["overhead"].get<double>(), 0.0);
  for (const auto& [solver, e] : results) {
    SCOPED_TRACE(solver);
    EXPECT_LE(e["overhead"].get<double>(), 4.0 / 12.0 + 1e-9);
    EXPECT_GE(e["overhead"].get<double>(), 0.0);
  }
  // checkpoint-search starts from the baselines (keep-all among them), so it fits at least the
  // batches keep-all fits.
  EXPECT_GE(results.at("checkpoint-search")["max_batch"].get<int64_t>(), kKeepAllMaxBatch);

  // A budget between two batches rounds down: 10000 + 2500 * 6.4.
  const json r2 =
      RunJson({"remat", "max-batch", graph, "--budget", "26000", "--solver", "keep-all", "--json"});
  EXPECT_EQ(r2["results"][0]["max_batch"].get<int64_t>(), 6);
  // Below the fixed bytes plus one sample's activations nothing fits.
  const json r3 =
      RunJson({"remat", "max-batch", graph, "--budget", "12499", "--solver", "keep-all", "--json"});
  EXPECT_EQ(r3["results"][0]["max_batch"].get<int64_t>(), 0);
}

TEST(RematMaxBatchCli, WithoutRecomputationNoSolverBeatsKeepAll) {
  // On a chain the compute order is forced, and keep-all frees every tensor right after its last
  // read, so with no extra compute allowed no plan fits a larger batch than keep-all's.
  TempDir dir;
  const std::string graph = WriteGraph(dir, "chain4.json", BatchChain());
  const json r = RunJson({"remat", "max-batch", graph, "--budget", std::to_string(kBatchBudget),
                          "--max-overhead", "0", "--time-limit", "0.5", "--json"});
  EXPECT_DOUBLE_EQ(r["max_overhead"].get<double>(), 0.0);
  const auto results = ResultsBySolver(r);
  EXPECT_TRUE(results.count("keep-all") && results.count("stage-search")) << r.dump(2);
  for (const auto& [solver, e] : results) {
    SCOPED_TRACE(solver);
    EXPECT_LE(e["max_batch"].get<int64_t>(), kKeepAllMaxBatch);
    EXPECT_DOUBLE_EQ(e["overhead"].get<double>(), 0.0);
  }
  EXPECT_EQ(results.at("keep-all")["max_batch"].get<int64_t>(), kKeepAllMaxBatch);
  EXPECT_EQ(results.at("stage-search")["max_batch"].get<int64_t>(), kKeepAllMaxBatch);
}

TEST(RematMaxBatchCli, BatchLimitCapsTheSearch) {
  TempDir dir;
  const std::string graph = WriteGraph(dir, "chain4.json", BatchChain());
  for (int64_t limit : {1, 4, 5, 6, 7}) {
    SCOPED_TRACE(limit);
    const json r =
        RunJson({"remat", "max-batch", graph, "--budget", std::to_string(kBatchBudget), "--solver",
                 "keep-all", "--batch-limit", std::to_string(limit), "--json"});
    EXPECT_EQ(r["results"][0]["max_batch"].get<int64_t>(), std::min(limit, kKeepAllMaxBatch));
  }
}

TEST(RematMaxBatchCli, TextReportListsEachSolver) {
  TempDir dir;
  const std::string graph = WriteGraph(dir, "chain4.json", BatchChain());
  const Proc p = RunSysopt({"remat", "max-batch", graph, "--budget", std::to_string(kBatchBudget),
                            "--solver", "keep-all,greedy-linear", "--time-limit", "0.5"});
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_TRUE(Contains(p.out, "batch 2")) << p.out;
  std::istringstream row(RowOf(p.out, "keep-all"));
  std::string name, batch, overhead;
  row >> name >> batch >> overhead;
  EXPECT_EQ(batch, "6") << p.out;
  EXPECT_EQ(overhead, "0.00%") << p.out;
  EXPECT_FALSE(RowOf(p.out, "greedy-linear").empty()) << p.out;
}

TEST(RematMaxBatchCli, BadInputsExitTwo) {
  TempDir dir;
  const std::string graph = WriteGraph(dir, "chain4.json", BatchChain());
  const std::string no_batch = WriteGraph(dir, "nobatch.json", ChainGraph(4, 1000, 10000));
  Proc p = RunSysopt({"remat", "max-batch", no_batch, "--budget", "1MiB", "--solver", "keep-all"});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_TRUE(Contains(p.err, "batch_size")) << p.err;
  for (const std::string cap : {"abc", "-0.1", "0.5x", "nan"}) {
    SCOPED_TRACE(cap);
    p = RunSysopt({"remat", "max-batch", graph, "--budget", "1MiB", "--solver", "keep-all",
                   "--max-overhead", cap});
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_TRUE(Contains(p.err, "'" + cap + "'")) << p.err;
  }
  // max-batch takes a size only (a percentage depends on the batch).
  p = RunSysopt({"remat", "max-batch", graph, "--budget", "50%", "--solver", "keep-all"});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_TRUE(Contains(p.err, "--budget")) << p.err;
  EXPECT_TRUE(Contains(p.err, "50%")) << p.err;
}

// ---------------------------------------------------------------------------------------------
// Paging: --page-bandwidth and the graph's "paging" field.

// Chain4 within four tensors (4500 bytes with its 500 fixed): 13 without paging (one forward
// tensor recomputed), 12 + 2 * 1000 / bandwidth with one tensor paged out and back in when that
// is less. At 10000 bytes/s: 12.2; at 1000 bytes/s: 13, no paging.
TEST(RematPagingCli, FastLinkPlansPageAndSimulateChecksThem) {
  TempDir dir;
  const json chain = Chain4();
  const std::string graph = WriteGraph(dir, "chain4.json", chain);
  const std::string out = dir.File("plan.json");
  const std::vector<std::string> plan = {"remat",
                                         "plan",
                                         graph,
                                         "--budget",
                                         "4500",
                                         "--solver",
                                         "stage-search,paging,milp-paging",
                                         "--time-limit",
                                         "20",
                                         "--json",
                                         "-q",
                                         "--out",
                                         out};
  std::vector<std::string> fast = plan;
  fast.insert(fast.end(), {"--page-bandwidth", "10000"});
  const json result = RunJson(fast);
  ASSERT_TRUE(result["best"].is_string()) << result.dump(2);
  EXPECT_NE(result["best"], "stage-search");
  const json* best = EntryOf(result, result["best"].get<std::string>());
  EXPECT_NEAR((*best)["cost"].get<double>(), 12.2, 1e-9);
  EXPECT_NEAR((*best)["paging_seconds"].get<double>(), 0.2, 1e-9);
  EXPECT_EQ((*best)["page_ins"].get<int>(), 1);
  EXPECT_EQ(result["objective"], "time");
  const json* search = EntryOf(result, "stage-search");
  EXPECT_NEAR((*search)["cost"].get<double>(), 13.0, 1e-9);

  // The plan file records the paging steps and the link; the reference simulator agrees.
  const json written = ReadJson(out);
  EXPECT_DOUBLE_EQ(written["paging"]["bandwidth_bytes_per_s"].get<double>(), 10000.0);
  EXPECT_EQ(written["objective"], "time");
  int page_steps = 0;
  for (const json& step : written["steps"]) {
    page_steps += step.contains("page_out") + step.contains("page_in");
  }
  EXPECT_EQ(page_steps, 2);
  const RefResult ref = ReferenceSimulate(chain, written, 10000.0);
  ASSERT_TRUE(ref.valid) << ref.why;
  EXPECT_LE(ref.peak, 4500);
  EXPECT_NEAR(ref.cost, 12.2, 1e-9);
  EXPECT_EQ(ref.recomputes, 0);

  // `simulate` needs the link to cost the paging steps: from the flag or from the graph.
  json sim = RunJson({"remat", "simulate", graph, out, "--json", "--page-bandwidth", "10kB/s"});
  EXPECT_NEAR(sim["cost"].get<double>(), 12.2, 1e-9);
  EXPECT_EQ(sim["page_outs"].get<int>(), 1);
  EXPECT_EQ(sim["peak_bytes"].get<int64_t>(), ref.peak);
  Proc p = RunSysopt({"remat", "simulate", graph, out});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_TRUE(Contains(p.err, out)) << p.err;
  EXPECT_TRUE(Contains(p.err, "no paging parameters")) << p.err;
  json with_link = chain;
  with_link["paging"] = {{"bandwidth_bytes_per_s", "0.01MB/s"}};
  const std::string linked = WriteGraph(dir, "linked.json", with_link);
  sim = RunJson({"remat", "simulate", linked, out, "--json"});
  EXPECT_NEAR(sim["cost"].get<double>(), 12.2, 1e-9);
  p = RunSysopt({"remat", "simulate", linked, out});
  EXPECT_EQ(p.exit_code, 0) << Describe(p);
  EXPECT_TRUE(Contains(p.out, "1 page-outs and 1 page-ins")) << p.out;

  // A slow link: the best plan pages nothing and costs 13.
  std::vector<std::string> slow = plan;
  slow.insert(slow.end(), {"--page-bandwidth", "1kB/s"});
  const json slow_result = RunJson(slow);
  const json* slow_best = EntryOf(slow_result, slow_result["best"].get<std::string>());
  EXPECT_NEAR((*slow_best)["cost"].get<double>(), 13.0, 1e-9);
  EXPECT_EQ((*slow_best)["page_ins"].get<int>(), 0);
  const json slow_plan = ReadJson(out);
  for (const json& step : slow_plan["steps"]) {
    EXPECT_TRUE(step.contains("compute") || step.contains("free")) << step.dump();
  }
}

TEST(RematPagingCli, BadPagingParametersExitTwoNamingFileFieldAndValue) {
  TempDir dir;
  const std::vector<BadGraph> cases = {
      {"negative bandwidth",
       [](json& g) {
         g["paging"] = {{"bandwidth_bytes_per_s", -5}};
       },
       {"'paging.bandwidth_bytes_per_s'", "-5"}},
      {"zero bandwidth",
       [](json& g) {
         g["paging"] = {{"bandwidth_bytes_per_s", 0}};
       },
       {"'paging.bandwidth_bytes_per_s'", "got 0"}},
      {"malformed unit",
       [](json& g) {
         g["paging"] = {{"bandwidth_bytes_per_s", "12 parsecs/s"}};
       },
       {"'paging.bandwidth_bytes_per_s'", "'12 parsecs/s'", "unknown unit"}},
      {"no per second",
       [](json& g) {
         g["paging"] = {{"bandwidth_bytes_per_s", "12GB"}};
       },
       {"'paging.bandwidth_bytes_per_s'", "'12GB'", "per second"}},
      {"unknown field",
       [](json& g) {
         g["paging"] = {{"bandwidth_bytes_per_s", 1e9}, {"bandwith", 2}};
       },
       {"'paging.bandwith'", "unknown"}},
      {"negative latency",
       [](json& g) {
         g["paging"] = {{"bandwidth_bytes_per_s", 1e9}, {"latency_s", -0.5}};
       },
       {"'paging.latency_s'", "-0.5"}},
      {"negative node energy",
       [](json& g) { g["nodes"][1]["energy_j"] = -2; },
       {"nodes[1]", "'energy_j'", "-2"}},
  };
  for (const BadGraph& c : cases) {
    SCOPED_TRACE(c.label);
    json graph = ChainGraph(3, 1000, 0, 1);
    c.corrupt(graph);
    const std::string path = WriteGraph(dir, "bad.json", graph);
    for (const char* command : {"plan", "simulate"}) {
      std::vector<std::string> args = {"remat", command, path};
      if (std::string(command) == "plan") {
        args.insert(args.end(), {"--budget", "1GiB", "--solver", "keep-all"});
      } else {
        args.push_back(dir.File("missing-schedule.json"));
      }
      const Proc p = RunSysopt(args);
      EXPECT_EQ(p.exit_code, 2) << Describe(p);
      EXPECT_TRUE(Contains(p.err, path)) << p.err;
      for (const std::string& part : c.expected_in_error) {
        EXPECT_TRUE(Contains(p.err, part)) << "'" << part << "' missing from: " << p.err;
      }
    }
  }
  // The flags: each bad value named with its flag.
  const std::string graph = WriteGraph(dir, "chain.json", ChainGraph(3, 1000, 0, 1));
  const std::vector<std::vector<std::string>> bad_flags = {
      {"--page-bandwidth", "-5GB/s"},
      {"--page-bandwidth", "0"},
      {"--page-bandwidth", "12GB"},
      {"--page-bandwidth", "fast"},
      {"--page-bandwidth", "12XB/s"},
      {"--page-bandwidth", "inf"},
      {"--page-bandwidth", "1e9", "--page-latency", "-1"},
      {"--page-bandwidth", "1e9", "--page-energy", "x"},
      {"--page-bandwidth", "1e9", "--objective", "power"},
      {"--compute-power", "100"},  // without paging
      {"--objective", "energy"},   // without paging
  };
  for (const auto& flags : bad_flags) {
    SCOPED_TRACE(flags[0] + " " + flags[1]);
    std::vector<std::string> args = {"remat", "plan",     graph,     "--budget",
                                     "1GiB",  "--solver", "keep-all"};
    args.insert(args.end(), flags.begin(), flags.end());
    const Proc p = RunSysopt(args);
    EXPECT_EQ(p.exit_code, 2) << Describe(p);
    EXPECT_TRUE(Contains(p.err, flags[flags.size() - 2])) << p.err;
    EXPECT_TRUE(Contains(p.err, flags.back())) << p.err;
    EXPECT_EQ(p.out, "");
  }
  // A paging solver on a graph without paging parameters is bad input too.
  const Proc p = RunSysopt({"remat", "plan", graph, "--budget", "1GiB", "--solver", "paging"});
  EXPECT_EQ(p.exit_code, 2) << Describe(p);
  EXPECT_TRUE(Contains(p.err, "no paging parameters")) << p.err;
}

TEST(RematPagingCli, HelpExplainsThePagingOptions) {
  const Proc p = RunSysopt({"remat", "plan", "--help"});
  ASSERT_EQ(p.exit_code, 0) << Describe(p);
  for (const char* part : {"--page-bandwidth", "12GB/s", "serialised", "--page-latency",
                           "--page-energy", "--compute-power", "--objective", "milp-paging"}) {
    EXPECT_TRUE(Contains(p.out, part)) << part << " missing from: " << p.out;
  }
}

}  // namespace
