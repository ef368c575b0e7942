#include "sysopt/remat/formulation.h"

#include <algorithm>
#include <coin/CoinFinite.hpp>
#include <coin/CoinPackedVector.hpp>

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
  for (int k = 0; k <= t; ++k) {
    for (int i : graph.nodes[k].inputs) {
      row.Add(model.r[t][k], 1.0);
      row.Add(model.r[t][i], -1.0);
      row.Add(model.s[t][i], -1.0);
      row.Emit(-inf, 0.0);
    }
  }
  if (t + 1 < model.n) {
    for (int i = 0; i <= t; ++i) {
      row.Add(model.s[t + 1][i], 1.0);
      row.Add(model.r[t][i], -1.0);
      if (i < t) row.Add(model.s[t][i], -1.0);
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

std::optional<CheckmateModel> BuildCheckmateModel(const Graph& graph, int64_t budget_bytes) {
  std::vector<double> m;
  auto started = StartModel(graph, budget_bytes, /*integer=*/true, &m);
  if (!started) return std::nullopt;
  CheckmateModel& model = *started;
  const int n = model.n;
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
  FinishModel(graph, model, row);
  return started;
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

std::optional<std::vector<double>> EncodeStagePlan(const Graph& graph, const CheckmateModel& model,
                                                   const StagePlan& plan) {
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
      if (plan.stored[t][i]) memory += static_cast<double>(graph.nodes[i].bytes);
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
