// Surrogate costs on an 8-parameter mixed layout: 5 numeric, 2 categorical (4 choices each) and
// one permutation of 4 (11 encoded columns). Rerun with
//   build-model/bench/model/bench_model --benchmark_repetitions=3
//   --benchmark_report_aggregates_only=true
// and report medians.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "sysopt/core/rng.h"
#include "sysopt/model/gaussian_process.h"
#include "sysopt/model/random_forest.h"

namespace sysopt {
namespace {

FeatureLayout BenchLayout() {
  FeatureLayout layout;
  int at = 0;
  for (int i = 0; i < 5; ++i) layout.groups.push_back({"x", FeatureKind::kNumeric, at++, 1, 0, 0});
  for (int i = 0; i < 2; ++i)
    layout.groups.push_back({"c", FeatureKind::kCategorical, at++, 1, 4, 0});
  layout.groups.push_back({"p", FeatureKind::kPermutation, at, 4, 0, 0});
  layout.width = at + 4;
  return layout;
}

Eigen::MatrixXd Rows(int n, Rng& rng) {
  Eigen::MatrixXd X(n, 11);
  std::vector<int> p = {0, 1, 2, 3};
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < 5; ++c) X(r, c) = Uniform01(rng);
    for (int c = 5; c < 7; ++c) X(r, c) = static_cast<double>(UniformIndex(rng, 4));
    std::shuffle(p.begin(), p.end(), rng);
    for (int i = 0; i < 4; ++i) X(r, 7 + i) = p[static_cast<size_t>(i)];
  }
  return X;
}

// A smooth objective with categorical offsets and a permutation effect, plus noise.
Eigen::VectorXd Objective(const Eigen::MatrixXd& X, Rng& rng) {
  std::normal_distribution<double> noise(0.0, 0.05);
  Eigen::VectorXd y(X.rows());
  for (Eigen::Index r = 0; r < X.rows(); ++r) {
    y[r] = std::sin(3 * X(r, 0)) + (X(r, 1) - 0.3) * (X(r, 1) - 0.3) + 0.5 * X(r, 2) * X(r, 3) +
           0.1 * X(r, 4) + 0.3 * (X(r, 5) == 2) + 0.2 * X(r, 7) + noise(rng);
  }
  return y;
}

void BM_GpFit(benchmark::State& state) {
  Rng rng(1);
  const int n = static_cast<int>(state.range(0));
  const Eigen::MatrixXd X = Rows(n, rng);
  const Eigen::VectorXd y = Objective(X, rng);
  for (auto _ : state) {
    auto gp = *GaussianProcess::Create(BenchLayout(), GpOptions{}, 7);
    benchmark::DoNotOptimize(gp->Fit(X, y, FitOptions{}).ok());
  }
}
BENCHMARK(BM_GpFit)->Arg(100)->Arg(500)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(1);

// Refactorisation only (hyperparameters kept), as after a batch of new observations.
void BM_GpRefit(benchmark::State& state) {
  Rng rng(1);
  const int n = static_cast<int>(state.range(0));
  const Eigen::MatrixXd X = Rows(n, rng);
  const Eigen::VectorXd y = Objective(X, rng);
  auto gp = *GaussianProcess::Create(BenchLayout(), GpOptions{}, 7);
  FitOptions keep;
  keep.optimize_hyperparameters = false;
  for (auto _ : state) benchmark::DoNotOptimize(gp->Fit(X, y, keep).ok());
}
BENCHMARK(BM_GpRefit)->Arg(100)->Arg(500)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_GpPredict1000(benchmark::State& state) {
  Rng rng(1);
  const int n = static_cast<int>(state.range(0));
  const Eigen::MatrixXd X = Rows(n, rng);
  const Eigen::VectorXd y = Objective(X, rng);
  const Eigen::MatrixXd Q = Rows(1000, rng);
  auto gp = *GaussianProcess::Create(BenchLayout(), GpOptions{}, 7);
  FitOptions keep;
  keep.optimize_hyperparameters = false;
  (void)gp->Fit(X, y, keep);
  Eigen::VectorXd mean, var;
  for (auto _ : state) {
    gp->Predict(Q, &mean, &var);
    benchmark::DoNotOptimize(var.data());
  }
}
BENCHMARK(BM_GpPredict1000)->Arg(100)->Arg(500)->Arg(1000)->Unit(benchmark::kMillisecond);

// One incremental observation at n points (append, then remove to keep n fixed).
void BM_GpAddObservation(benchmark::State& state) {
  Rng rng(1);
  const int n = static_cast<int>(state.range(0));
  const Eigen::MatrixXd X = Rows(n + 1, rng);
  const Eigen::VectorXd y = Objective(X, rng);
  auto gp = *GaussianProcess::Create(BenchLayout(), GpOptions{}, 7);
  FitOptions keep;
  keep.optimize_hyperparameters = false;
  (void)gp->Fit(X.topRows(n), y.head(n), keep);
  for (auto _ : state) {
    benchmark::DoNotOptimize(gp->AddObservations(X.bottomRows(1), y.tail(1), {}).ok());
    gp->RemoveLastObservations(1);
  }
}
BENCHMARK(BM_GpAddObservation)->Arg(100)->Arg(500)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_ForestFit(benchmark::State& state) {
  Rng rng(1);
  const int n = static_cast<int>(state.range(0));
  const Eigen::MatrixXd X = Rows(n, rng);
  const Eigen::VectorXd y = Objective(X, rng);
  for (auto _ : state) {
    auto forest = *RandomForest::Create(BenchLayout(), ForestOptions{}, 7);
    benchmark::DoNotOptimize(forest->Fit(X, y, FitOptions{}).ok());
  }
}
BENCHMARK(BM_ForestFit)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

void BM_ForestPredict1000(benchmark::State& state) {
  Rng rng(1);
  const int n = static_cast<int>(state.range(0));
  const Eigen::MatrixXd X = Rows(n, rng);
  const Eigen::VectorXd y = Objective(X, rng);
  const Eigen::MatrixXd Q = Rows(1000, rng);
  auto forest = *RandomForest::Create(BenchLayout(), ForestOptions{}, 7);
  (void)forest->Fit(X, y, FitOptions{});
  Eigen::VectorXd mean, var;
  for (auto _ : state) {
    forest->Predict(Q, &mean, &var);
    benchmark::DoNotOptimize(var.data());
  }
}
BENCHMARK(BM_ForestPredict1000)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sysopt

namespace sysopt {
namespace {

// The cross-covariance part of Predict: 1000 candidates against n observations.
void BM_KernelGram1000(benchmark::State& state) {
  Rng rng(1);
  const Eigen::MatrixXd X = Rows(static_cast<int>(state.range(0)), rng);
  const Eigen::MatrixXd Q = Rows(1000, rng);
  auto kernel = *MakeKernel(BenchLayout(), KernelOptions{});
  Eigen::MatrixXd K;
  for (auto _ : state) {
    kernel->Gram(Q, X, &K);
    benchmark::DoNotOptimize(K.data());
  }
}
BENCHMARK(BM_KernelGram1000)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sysopt
