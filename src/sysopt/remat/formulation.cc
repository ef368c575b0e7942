#include "sysopt/remat/formulation.h"

#include <algorithm>
#include <coin/CoinFinite.hpp>
#include <coin/CoinPackedVector.hpp>

#include "sysopt/remat/paging.h"

namespace sysopt::remat {
namespace {

struct RowBuilder {
  CheckmateModel& model;
  std::vector<int> index;
  std::vector<double> value;
  void Add(int column, double coefficient) {
    index.push_back(column);
    value.push_back(coefficient);
  }
  std::vector<int> rows, cols;
  std::vector<double> elements;
  void Emit(double lb, double ub) {
    // Triplets, assembled once at the end: appending rows one by one is quadratic in COIN.
    const int r = static_cast<int>(model.row_lb.size());
    for (size_t e = 0; e < index.size(); ++e) {
      rows.push_back(r);
      cols.push_back(index[e]);
      elements.push_back(value[e]);
    }
    model.row_lb.push_back(lb);
    model.row_ub.push_back(ub);
    index.clear();
    value.clear();
  }
};

int AddColumn(CheckmateModel& model, double lb, double ub, double objective, bool integer) {
  model.col_lb.push_back(lb);
  model.col_ub.push_back(ub);
  model.objective.push_back(objective);
  model.integer.push_back(integer ? 1 : 0);
  return static_cast<int>(model.col_lb.size()) - 1;
}

// Memory right after stage t computes node t: at least t, its inputs and what is kept into
// t + 1 (the outputs after the last stage) are resident, and the budget holds them. Valid for
// every integer point of the program (see BuildStageBoundaryRelaxation), so adding it to the
// full program cuts off fractional points only.
void EmitBoundaryRow(const Graph& graph, const CheckmateModel& model, const std::vector<double>& m,
                     int t, std::vector<char>& is_input, RowBuilder& row) {
  const int n = model.n;
  double constant = m[t];
  for (int i : graph.nodes[t].inputs) {
    if (!is_input[i]) constant += m[i];
    is_input[i] = 1;
  }
  for (int i = 0; i < t; ++i) {
    if (is_input[i] || m[i] == 0.0) continue;
    if (t + 1 < n) {
      row.Add(model.s[t + 1][i], m[i]);
    } else if (graph.is_output[i]) {
      constant += m[i];
    }
  }
  for (int i : graph.nodes[t].inputs) is_input[i] = 0;
  row.Emit(-COIN_DBL_MAX, 1.0 - constant);
}

}  // namespace

// The rows of stage t shared by both programs: an input is either computed earlier in the stage
// or resident; only what existed in stage t can be kept into stage t + 1.
void EmitStageRows(const Graph& graph, const CheckmateModel& model, int t, RowBuilder& row) {
  const double inf = COIN_DBL_MAX;
  // With paging, a tensor paged in at the start of the stage serves as well.
  auto add_paged_in = [&](int i) {
    if (!model.pi.empty() && i < t && model.pi[t][i] >= 0) row.Add(model.pi[t][i], -1.0);
  };
  for (int k = 0; k <= t; ++k) {
    for (int i : graph.nodes[k].inputs) {
      row.Add(model.r[t][k], 1.0);
      row.Add(model.r[t][i], -1.0);
      row.Add(model.s[t][i], -1.0);
      add_paged_in(i);
      row.Emit(-inf, 0.0);
    }
  }
  if (t + 1 < model.n) {
    for (int i = 0; i <= t; ++i) {
      row.Add(model.s[t + 1][i], 1.0);
      row.Add(model.r[t][i], -1.0);
      if (i < t) row.Add(model.s[t][i], -1.0);
      add_paged_in(i);
      row.Emit(-inf, 0.0);
    }
  }
}

// What both programs start with: the scales, each tensor's memory in budget units (`m`), and
// the R (compute) and S (keep) columns, integer or relaxed. Nothing when the budget leaves no
// room above the fixed bytes.
std::optional<CheckmateModel> StartModel(const Graph& graph, int64_t budget_bytes, bool integer,
                                         std::vector<double>* m) {
  const int n = graph.size();
  const int64_t room = budget_bytes - graph.fixed_bytes;
  if (room <= 0 || n == 0) return std::nullopt;
  CheckmateModel model;
  model.n = n;
  model.memory_scale = static_cast<double>(room);
  const double total_cost = graph.TotalCost();
  model.cost_scale = total_cost > 0 ? 1.0 / total_cost : 1.0;
  m->resize(n);
  for (int i = 0; i < n; ++i) {
    (*m)[i] = static_cast<double>(graph.nodes[i].bytes) / model.memory_scale;
  }
  model.r.assign(n, {});
  model.s.assign(n, {});
  model.u.assign(n, {});
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i <= t; ++i) {
      const double fixed = (i == t) ? 1.0 : 0.0;
      model.r[t].push_back(
          AddColumn(model, fixed, 1.0, graph.nodes[i].cost * model.cost_scale, integer));
    }
    for (int i = 0; i < t; ++i) model.s[t].push_back(AddColumn(model, 0.0, 1.0, 0.0, integer));
  }
  return model;
}

// What both programs end with: every output exists after the last stage, and the rows gathered
// in `row` become the constraint matrix.
void FinishModel(const Graph& graph, CheckmateModel& model, RowBuilder& row) {
  const int n = model.n;
  for (int output : graph.outputs) {
    row.Add(model.r[n - 1][output], 1.0);
    if (output < n - 1) row.Add(model.s[n - 1][output], 1.0);
    row.Emit(1.0, COIN_DBL_MAX);
  }
  model.matrix = CoinPackedMatrix(false, row.rows.data(), row.cols.data(), row.elements.data(),
                                  static_cast<CoinBigIndex>(row.elements.size()));
  model.matrix.setDimensions(static_cast<int>(model.row_lb.size()),
                             static_cast<int>(model.col_lb.size()));
}

namespace {

// POET's columns: PI, PO (binary) and H (continuous) for every tensor with bytes, and the
// objective in `objective`'s units (its total for computing every node once is 1).
void AddPagingColumns(const Graph& graph, Objective objective, CheckmateModel& model) {
  const int n = model.n;
  const double total = objective == Objective::kEnergy ? graph.TotalEnergy() : graph.TotalCost();
  model.cost_scale = total > 0 ? 1.0 / total : 1.0;
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i <= t; ++i) {
      model.objective[model.r[t][i]] = ComputeObjective(graph, i, objective) * model.cost_scale;
    }
  }
  model.pi.assign(n, {});
  model.po.assign(n, {});
  model.h.assign(n, {});
  for (int t = 0; t < n; ++t) {
    model.pi[t].assign(t, -1);
    model.h[t].assign(t, -1);
    model.po[t].assign(t + 1, -1);
    for (int i = 0; i <= t; ++i) {
      if (graph.nodes[i].bytes == 0) continue;
      const double transfer = TransferObjective(graph, i, objective) * model.cost_scale;
      model.po[t][i] = AddColumn(model, 0.0, 1.0, transfer, true);
      if (i == t) continue;
      model.pi[t][i] = AddColumn(model, 0.0, 1.0, transfer, true);
      model.h[t][i] = AddColumn(model, 0.0, 1.0, 0.0, false);
    }
  }
}

// The rows that tie POET's columns together (the stage rows take PI in EmitStageRows).
void EmitPagingRows(const Graph& graph, const CheckmateModel& model, RowBuilder& row) {
  const double inf = COIN_DBL_MAX;
  const int n = model.n;
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i <= t; ++i) {
      if (graph.nodes[i].bytes == 0) continue;
      if (i < t) {
        row.Add(model.pi[t][i], 1.0);
        row.Add(model.h[t][i], -1.0);
        row.Emit(-inf, 0.0);
      }
      if (t + 1 < n) {
        row.Add(model.h[t + 1][i], 1.0);
        if (i < t) row.Add(model.h[t][i], -1.0);
        row.Add(model.po[t][i], -1.0);
        row.Emit(-inf, 0.0);
      }
      row.Add(model.po[t][i], 1.0);
      row.Add(model.r[t][i], -1.0);
      if (i < t) {
        row.Add(model.s[t][i], -1.0);
        row.Add(model.pi[t][i], -1.0);
      }
      row.Emit(-inf, 0.0);
    }
  }
}

// Checkmate's program, with POET's paging when `paging_objective` is given.
std::optional<CheckmateModel> BuildFullModel(const Graph& graph, int64_t budget_bytes,
                                             const Objective* paging_objective) {
  std::vector<double> m;
  auto started = StartModel(graph, budget_bytes, /*integer=*/true, &m);
  if (!started) return std::nullopt;
  CheckmateModel& model = *started;
  const int n = model.n;
  if (paging_objective != nullptr) AddPagingColumns(graph, *paging_objective, model);
  for (int t = 0; t < n; ++t) {
    for (int k = 0; k <= t; ++k) model.u[t].push_back(AddColumn(model, 0.0, 1.0, 0.0, false));
  }
  // Columns of FREE, one per (stage, freed tensor, computing node).
  std::vector<std::vector<std::vector<int>>> free_col(n);  // [t][k] -> columns, parallel to pairs
  for (int t = 0; t < n; ++t) {
    free_col[t].resize(t + 1);
    for (int k = 0; k <= t; ++k) {
      std::vector<int> freed = graph.nodes[k].inputs;
      freed.push_back(k);
      for (int i : freed) {
        const int column = AddColumn(model, 0.0, 1.0, 0.0, true);
        model.frees.push_back({t, i, k, column});
        free_col[t][k].push_back(column);
      }
    }
  }
  RowBuilder row{model, {}, {}, {}, {}, {}};
  const double inf = COIN_DBL_MAX;
  for (int t = 0; t < n; ++t) {
    EmitStageRows(graph, model, t, row);
    // Memory after computing the first node of the stage, then after each later one.
    row.Add(model.u[t][0], 1.0);
    for (int i = 0; i < t; ++i) row.Add(model.s[t][i], -m[i]);
    if (!model.pi.empty()) {
      for (int i = 0; i < t; ++i) {
        if (model.pi[t][i] >= 0) row.Add(model.pi[t][i], -m[i]);
      }
    }
    row.Add(model.r[t][0], -m[0]);
    row.Emit(0.0, 0.0);
    for (int k = 1; k <= t; ++k) {
      row.Add(model.u[t][k], 1.0);
      row.Add(model.u[t][k - 1], -1.0);
      row.Add(model.r[t][k], -m[k]);
      const std::vector<int>& cols = free_col[t][k - 1];
      std::vector<int> freed = graph.nodes[k - 1].inputs;
      freed.push_back(k - 1);
      for (size_t p = 0; p < freed.size(); ++p) row.Add(cols[p], m[freed[p]]);
      row.Emit(0.0, 0.0);
    }
  }
  std::vector<char> is_input(n, 0);
  for (int t = 0; t < n; ++t) EmitBoundaryRow(graph, model, m, t, is_input, row);
  // FREE[t][i][k] <= R[t][k], <= 1 - S[t+1][i], <= 1 - R[t][j] for later readers j of i in
  // stage t. This disaggregated form is exact for integers and tighter than one big-M row.
  for (const CheckmateModel::Free& f : model.frees) {
    row.Add(f.column, 1.0);
    row.Add(model.r[f.t][f.k], -1.0);
    row.Emit(-inf, 0.0);
    if (f.t + 1 < n) {
      row.Add(f.column, 1.0);
      row.Add(model.s[f.t + 1][f.i], 1.0);
      row.Emit(-inf, 1.0);
    } else if (graph.is_output[f.i]) {
      model.col_ub[f.column] = 0.0;
    }
    for (int j : graph.users[f.i]) {
      if (j <= f.k || j > f.t) continue;
      row.Add(f.column, 1.0);
      row.Add(model.r[f.t][j], 1.0);
      row.Emit(-inf, 1.0);
    }
  }
  if (paging_objective != nullptr) EmitPagingRows(graph, model, row);
  FinishModel(graph, model, row);
  return started;
}

}  // namespace

std::optional<CheckmateModel> BuildCheckmateModel(const Graph& graph, int64_t budget_bytes) {
  return BuildFullModel(graph, budget_bytes, nullptr);
}

std::optional<CheckmateModel> BuildPagingModel(const Graph& graph, int64_t budget_bytes,
                                               Objective objective) {
  if (!graph.paging) return std::nullopt;
  return BuildFullModel(graph, budget_bytes, &objective);
}

PagingStages PagingStagesFromColumns(const Graph& graph, const CheckmateModel& model,
                                     const std::vector<double>& columns) {
  const int n = model.n;
  PagingStages stages;
  stages.stored = StoredFromColumns(model, columns, 0.5);
  for (int output : graph.outputs) stages.stored[n][output] = 1;
  stages.paged_in.assign(n + 1, std::vector<char>(n, 0));
  stages.paged_out.assign(n + 1, std::vector<char>(n, 0));
  if (model.pi.empty()) return stages;
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i <= t; ++i) {
      if (i < t && model.pi[t][i] >= 0) stages.paged_in[t][i] = columns[model.pi[t][i]] > 0.5;
      if (model.po[t][i] >= 0) stages.paged_out[t][i] = columns[model.po[t][i]] > 0.5;
    }
  }
  return stages;
}

std::optional<CheckmateModel> BuildStageBoundaryRelaxation(const Graph& graph,
                                                           int64_t budget_bytes) {
  std::vector<double> m;
  auto started = StartModel(graph, budget_bytes, /*integer=*/false, &m);
  if (!started) return std::nullopt;
  CheckmateModel& model = *started;
  const int n = model.n;
  RowBuilder row{model, {}, {}, {}, {}, {}};
  std::vector<char> is_input(n, 0);
  for (int t = 0; t < n; ++t) {
    EmitStageRows(graph, model, t, row);
    EmitBoundaryRow(graph, model, m, t, is_input, row);
  }
  FinishModel(graph, model, row);
  return started;
}

namespace {

// EncodeStagePlan, with the tensors `paged_in` (when given) resident from the start of their
// stage, as the paging program counts them.
std::optional<std::vector<double>> EncodeColumns(const Graph& graph, const CheckmateModel& model,
                                                 const StagePlan& plan,
                                                 const std::vector<std::vector<char>>* paged_in) {
  const int n = model.n;
  std::vector<double> x(model.col_lb.size(), 0.0);
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i <= t; ++i) x[model.r[t][i]] = plan.compute[t][i];
    for (int i = 0; i < t; ++i) x[model.s[t][i]] = plan.stored[t][i];
  }
  auto stored_next = [&](int t, int i) -> bool {
    return t + 1 < n ? plan.stored[t + 1][i] : graph.is_output[i];
  };
  std::vector<std::vector<double>> freed_bytes(n);
  for (const CheckmateModel::Free& f : model.frees) {
    bool value = plan.compute[f.t][f.k] && !stored_next(f.t, f.i);
    for (int j : graph.users[f.i]) {
      if (j > f.k && j <= f.t && plan.compute[f.t][j]) value = false;
    }
    x[f.column] = value ? 1.0 : 0.0;
  }
  for (int t = 0; t < n; ++t) freed_bytes[t].assign(t + 1, 0.0);
  for (const CheckmateModel::Free& f : model.frees) {
    if (x[f.column] > 0.5) {
      freed_bytes[f.t][f.k] += static_cast<double>(graph.nodes[f.i].bytes) / model.memory_scale;
    }
  }
  for (int t = 0; t < n; ++t) {
    double memory = 0.0;
    for (int i = 0; i < t; ++i) {
      if (plan.stored[t][i] || (paged_in && (*paged_in)[t][i])) {
        memory += static_cast<double>(graph.nodes[i].bytes);
      }
    }
    memory /= model.memory_scale;
    for (int k = 0; k <= t; ++k) {
      if (k > 0) memory -= freed_bytes[t][k - 1];
      if (plan.compute[t][k]) {
        memory += static_cast<double>(graph.nodes[k].bytes) / model.memory_scale;
      }
      if (memory > 1.0 + 1e-9) return std::nullopt;
      x[model.u[t][k]] = std::max(0.0, memory);
    }
  }
  return x;
}

}  // namespace

std::optional<std::vector<double>> EncodeStagePlan(const Graph& graph, const CheckmateModel& model,
                                                   const StagePlan& plan) {
  return EncodeColumns(graph, model, plan, nullptr);
}

std::optional<std::vector<double>> EncodePagingSchedule(const Graph& graph,
                                                        const CheckmateModel& model,
                                                        const Schedule& schedule) {
  const int n = model.n;
  const std::vector<Step>& steps = schedule.steps;
  const int m = static_cast<int>(steps.size());
  if (model.pi.empty()) return std::nullopt;
  // A compute or page-in belongs to the stage of the next first computation (node t is the
  // last of stage t); a free or page-out to the stage of the step before it.
  std::vector<int> stage(m, n - 1);
  std::vector<char> first(m, 0), seen(n, 0);
  int expected = 0;
  for (int k = 0; k < m; ++k) {
    if (steps[k].kind != Step::Kind::kCompute || seen[steps[k].node]) continue;
    if (steps[k].node != expected++) return std::nullopt;  // first computations out of order
    seen[steps[k].node] = 1;
    first[k] = 1;
  }
  if (expected != n) return std::nullopt;
  for (int k = m - 1, next = n - 1; k >= 0; --k) {
    if (first[k]) next = steps[k].node;
    stage[k] = next;
  }
  for (int k = 0, current = 0; k < m; ++k) {
    const bool ends = steps[k].kind == Step::Kind::kFree || steps[k].kind == Step::Kind::kPageOut;
    if (ends) {
      stage[k] = current;
    } else {
      current = stage[k];
    }
  }
  StagePlan plan;
  plan.compute.assign(n, std::vector<char>(n, 0));
  plan.stored.assign(n + 1, std::vector<char>(n, 0));
  std::vector<std::vector<char>> paged_in(n, std::vector<char>(n, 0));
  std::vector<std::vector<char>> paged_out(n, std::vector<char>(n, 0));
  std::vector<std::vector<char>> host(n, std::vector<char>(n, 0));
  std::vector<char> resident(n, 0), on_host(n, 0);
  int at = 0;  // the stage whose boundary has been recorded
  for (int k = 0; k < m; ++k) {
    const int t = stage[k];
    if (t < at) return std::nullopt;
    for (; at < t; ++at) {  // entering stage at + 1: what is resident and on the host
      for (int i = 0; i <= at; ++i) {
        plan.stored[at + 1][i] = resident[i];
        host[at + 1][i] = on_host[i];
      }
    }
    const int v = steps[k].node;
    switch (steps[k].kind) {
      case Step::Kind::kCompute:
        if (v > t || plan.compute[t][v] || (v < t && paged_in[t][v])) return std::nullopt;
        plan.compute[t][v] = 1;
        resident[v] = 1;
        break;
      case Step::Kind::kPageIn:
        if (v >= t || paged_in[t][v] || plan.compute[t][v] || model.pi[t][v] < 0) {
          return std::nullopt;
        }
        paged_in[t][v] = 1;
        resident[v] = 1;
        break;
      case Step::Kind::kPageOut:
        if (v > t || model.po[t][v] < 0) return std::nullopt;
        paged_out[t][v] = 1;
        on_host[v] = 1;
        resident[v] = 0;
        break;
      case Step::Kind::kFree:
        resident[v] = 0;
        break;
    }
  }
  for (int output : graph.outputs) plan.stored[n][output] = 1;
  auto x = EncodeColumns(graph, model, plan, &paged_in);
  if (!x) return std::nullopt;
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i <= t; ++i) {
      if (model.po[t][i] >= 0) (*x)[model.po[t][i]] = paged_out[t][i];
      if (i == t || model.pi[t][i] < 0) continue;
      (*x)[model.pi[t][i]] = paged_in[t][i];
      (*x)[model.h[t][i]] = host[t][i];
    }
  }
  return x;
}

std::vector<std::vector<char>> StoredFromColumns(const CheckmateModel& model,
                                                 const std::vector<double>& columns,
                                                 double threshold) {
  std::vector<std::vector<char>> stored(model.n + 1, std::vector<char>(model.n, 0));
  for (int t = 1; t < model.n; ++t) {
    for (int i = 0; i < t; ++i) stored[t][i] = columns[model.s[t][i]] > threshold;
  }
  return stored;
}

}  // namespace sysopt::remat
