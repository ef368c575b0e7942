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

StoredRuns StoredRunsFromDense(const Graph& graph, const std::vector<std::vector<char>>& stored) {
  const int n = graph.size();
  StoredRuns runs(n);
  // Row by row (the matrix's own layout), extending each node's last run while it continues.
  for (int t = 1; t < n && t < static_cast<int>(stored.size()); ++t) {
    const std::vector<char>& row = stored[t];
    const int width = std::min<int>(t, static_cast<int>(row.size()));
    for (int i = 0; i < width; ++i) {
      if (!row[i]) continue;
      std::vector<StageRun>& r = runs[i];
      if (!r.empty() && r.back().last == t - 1) {
        r.back().last = t;
      } else {
        r.push_back({t, t});
      }
    }
  }
  for (int output : graph.outputs) {
    std::vector<StageRun>& r = runs[output];
    if (!r.empty() && r.back().last == n - 1) {
      r.back().last = n;
    } else {
      r.push_back({n, n});
    }
  }
  return runs;
}

std::vector<std::vector<char>> DenseStored(int n, const StoredRuns& runs) {
  std::vector<std::vector<char>> stored(n + 1, std::vector<char>(n, 0));
  for (int i = 0; i < static_cast<int>(runs.size()); ++i) {
    for (const StageRun& run : runs[i]) {
      for (int t = run.first; t <= run.last; ++t) stored[t][i] = 1;
    }
  }
  return stored;
}

SparseStagePlan SparsePlanFromCheckpoints(const Graph& graph,
                                          const std::vector<char>& checkpoint) {
  const int n = graph.size();
  std::vector<int> last_use(n, -1);
  for (int i = 0; i < n; ++i) {
    last_use[i] = graph.users[i].empty() ? -1 : graph.users[i].back();
    if (graph.is_output[i]) last_use[i] = n;
  }
  // backward_end[t]: the last stage of the run of backward stages that starts at t.
  std::vector<int> backward_end(n + 1, -1);
  for (int t = n - 1; t >= 0; --t) {
    if (graph.nodes[t].backward) backward_end[t] = backward_end[t + 1] >= 0 ? backward_end[t + 1] : t;
  }
  SparseStagePlan plan;
  plan.stored.assign(n, {});
  plan.stage_begin.assign(n + 1, 0);
  // PlanFromCheckpoints decides at every stage, for every resident tensor, whether it is kept
  // into the next; most decisions are foregone (a checkpoint or backward tensor stays until its
  // last read, a segment tensor through a run of backward stages), so each resident tensor
  // waits in the bucket of the stage where its decision can change.
  std::vector<char> resident(n, 0);  // stored into the current stage
  std::vector<std::vector<int>> decide_at(n);
  std::vector<int> mark(n, -1), reads(n, -1), stack, stage;
  for (int t = 0; t < n; ++t) {
    // The stage: node t and every input it needs (recursively) that is not stored.
    stage.clear();
    stack.assign(1, t);
    mark[t] = t;
    while (!stack.empty()) {
      const int v = stack.back();
      stack.pop_back();
      stage.push_back(v);
      for (int input : graph.nodes[v].inputs) {
        if (!resident[input] && mark[input] != t) {
          mark[input] = t;
          stack.push_back(input);
        }
      }
    }
    std::sort(stage.begin(), stage.end());
    plan.stage_begin[t] = static_cast<int>(plan.order.size());
    plan.order.insert(plan.order.end(), stage.begin(), stage.end());
    if (t + 1 == n) break;
    const bool next_backward = graph.nodes[t + 1].backward;
    for (int input : graph.nodes[t + 1].inputs) reads[input] = t + 1;
    auto decide = [&](int i) {
      // The last stage into which i is certainly kept from here, or t when it is dropped.
      int until = t;
      if (last_use[i] > t) {
        const char mode = checkpoint[i];
        if (mode == kCheckpoint || graph.nodes[i].backward) {
          until = std::min(last_use[i], n - 1);
        } else if (next_backward && mode == kSegment) {
          until = std::min(last_use[i], backward_end[t + 1]);
        } else if (reads[i] == t + 1) {
          until = t + 1;
        }
      }
      resident[i] = until > t;
      if (until <= t) return;
      std::vector<StageRun>& runs = plan.stored[i];
      if (!runs.empty() && runs.back().last == t) {
        runs.back().last = until;
      } else {
        runs.push_back({t + 1, until});
      }
      if (until < n - 1) decide_at[until].push_back(i);
    };
    for (int i : stage) decide(i);
    for (int i : decide_at[t]) decide(i);
    std::vector<int>().swap(decide_at[t]);
  }
  plan.stage_begin[n] = static_cast<int>(plan.order.size());
  for (int output : graph.outputs) {
    std::vector<StageRun>& runs = plan.stored[output];
    if (!runs.empty() && runs.back().last == n - 1) {
      runs.back().last = n;
    } else {
      runs.push_back({n, n});
    }
  }
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
