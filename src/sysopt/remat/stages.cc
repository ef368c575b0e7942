#include "sysopt/remat/stages.h"

#include <algorithm>

namespace sysopt::remat {
namespace {

// Marks in `compute` the targets and every input they need that `stored` does not hold.
// Inputs have lower indices, so one descending sweep closes the set.
void CloseStage(const Graph& graph, int t, const std::vector<char>& stored,
                std::vector<char>& compute) {
  for (int v = t; v >= 0; --v) {
    if (!compute[v]) continue;
    for (int input : graph.nodes[v].inputs) {
      if (!stored[input]) compute[input] = 1;
    }
  }
}

}  // namespace

void ComputeStageFromStored(const Graph& graph, int t, const std::vector<char>& stored,
                            const std::vector<char>& stored_next, std::vector<char>& compute) {
  std::fill(compute.begin(), compute.end(), 0);
  compute[t] = 1;
  for (int i = 0; i <= t; ++i) {
    if (stored_next[i] && !stored[i]) compute[i] = 1;
  }
  CloseStage(graph, t, stored, compute);
}

StagePlan PlanFromStored(const Graph& graph, std::vector<std::vector<char>> stored) {
  const int n = graph.size();
  stored.resize(n + 1);
  for (auto& row : stored) row.resize(n, 0);
  stored[0].assign(n, 0);
  stored[n].assign(n, 0);
  for (int output : graph.outputs) stored[n][output] = 1;
  for (int t = 1; t < n; ++t) {
    for (int i = t; i < n; ++i) stored[t][i] = 0;
  }
  StagePlan plan;
  plan.compute.assign(n, std::vector<char>(n, 0));
  for (int t = 0; t < n; ++t) {
    ComputeStageFromStored(graph, t, stored[t], stored[t + 1], plan.compute[t]);
  }
  plan.stored = std::move(stored);
  return plan;
}

StagePlan PlanFromCheckpoints(const Graph& graph, const std::vector<char>& checkpoint) {
  const int n = graph.size();
  std::vector<int> last_use(n, -1);
  for (int i = 0; i < n; ++i) {
    last_use[i] = graph.users[i].empty() ? -1 : graph.users[i].back();
    if (graph.is_output[i]) last_use[i] = n;
  }
  StagePlan plan;
  plan.compute.assign(n, std::vector<char>(n, 0));
  plan.stored.assign(n + 1, std::vector<char>(n, 0));
  std::vector<char> next_reads(n, 0);
  for (int t = 0; t < n; ++t) {
    std::vector<char>& compute = plan.compute[t];
    compute[t] = 1;
    CloseStage(graph, t, plan.stored[t], compute);
    if (t + 1 == n) break;
    const bool next_backward = graph.nodes[t + 1].backward;
    for (int input : graph.nodes[t + 1].inputs) next_reads[input] = 1;
    std::vector<char>& next = plan.stored[t + 1];
    for (int i = 0; i <= t; ++i) {
      if (!(compute[i] || plan.stored[t][i]) || last_use[i] <= t) continue;
      const char mode = checkpoint[i];
      next[i] = mode == kCheckpoint || graph.nodes[i].backward || next_reads[i] ||
                (next_backward && mode == kSegment);
    }
    for (int input : graph.nodes[t + 1].inputs) next_reads[input] = 0;
  }
  for (int output : graph.outputs) plan.stored[n][output] = 1;
  return plan;
}

std::vector<int> ComputeOrder(const StagePlan& plan) {
  std::vector<int> order;
  const int n = static_cast<int>(plan.compute.size());
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i <= t; ++i) {
      if (plan.compute[t][i]) order.push_back(i);
    }
  }
  return order;
}

Schedule ScheduleFromStagePlan(const Graph& graph, const StagePlan& plan) {
  return ScheduleFromComputeOrder(graph, ComputeOrder(plan));
}

}  // namespace sysopt::remat
