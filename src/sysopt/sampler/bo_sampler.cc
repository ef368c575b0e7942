#include "sysopt/sampler/bo_sampler.h"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "sysopt/core/log.h"
#include "sysopt/model/acquisition.h"
#include "sysopt/model/gaussian_process.h"
#include "sysopt/model/output_warping.h"
#include "sysopt/model/random_forest.h"
#include "sysopt/model/surrogate.h"
#include "sysopt/sampler/samplers.h"
#include "sysopt/study/study.h"

namespace sysopt {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The training data extracted from the history, in the model's terms (minimisation).
struct TrainingData {
  std::vector<const Config*> configs;  // into the history the data was extracted from
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  Eigen::VectorXd noise;  // known noise variance per row (0 where unknown)
  bool any_noise = false;
  std::vector<size_t> fingerprint;  // config hashes in order, to recognise a grown history
  // What the targets mean: a cached model can only be extended while this stays the same.
  std::string transform_key;
  // Feasibility labels over every finished, non-interrupted trial.
  Eigen::MatrixXd X_all;
  std::vector<bool> feasible;
  int failures = 0;
};

// Forests are refitted only at these history sizes: every size up to 40, then every 5% of growth.
// A model is fitted on the first ScheduledPrefix(n) rows, so what it is depends on the history
// alone (never on when the sampler was created), and its cost is amortised over long histories.
int ScheduledPrefix(int n) {
  if (n <= 40) return n;
  int m = 40;
  while (true) {
    const int next = static_cast<int>(std::ceil(m * 1.05));
    if (next > n) return m;
    m = next;
  }
}

size_t HashRows(const Eigen::MatrixXd& X, Eigen::Index rows, const std::vector<bool>* labels) {
  size_t h = static_cast<size_t>(rows) * 0x9E3779B97F4A7C15ULL;
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      h ^= std::hash<double>{}(X(i, j)) + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    }
    if (labels != nullptr) h ^= (*labels)[i] ? 0x51ED27 : 0x2545F4;
  }
  return h;
}

Eigen::MatrixXd EncodeRows(const Space& space, const std::vector<Config>& configs) {
  Eigen::MatrixXd X(static_cast<Eigen::Index>(configs.size()), space.layout().width);
  std::vector<double> row(space.layout().width);
  for (size_t i = 0; i < configs.size(); ++i) {
    space.Encode(configs[i], row.data());
    for (int j = 0; j < space.layout().width; ++j) X(static_cast<Eigen::Index>(i), j) = row[j];
  }
  return X;
}

// Output warpings are refitted at these history sizes: every size up to 30, then every 10% of
// growth, on the first WarpingPrefix(n) values.
// A new warping invalidates the cached GP, so fitting it at every trial would force a full refit
// at every trial; fitted on a prefix it depends on the history alone.
int WarpingPrefix(int n) {
  if (n <= 30) return n;
  int m = 30;
  while (true) {
    const int next = static_cast<int>(std::ceil(m * 1.1));
    if (next > n) return m;
    m = next;
  }
}

// Per objective: the model minimises warp(v) for minimised objectives and warp(-v) for maximised
// ones, with warp a power transform fitted to the observed values (output_warping.h): runtimes
// spanning decades come out close to log-scale, squared errors near 0 close to their square root,
// so neither the best points nor the worst dominate the fit.
struct ObjectiveScale {
  OutputWarping warping;
  bool minimize = true;
  double Apply(double v) const { return warping.Apply(minimize ? v : -v); }
  // Multiplies a variance of v into the model's scale (delta method).
  double VarianceFactor(double v) const {
    const double d = warping.Derivative(minimize ? v : -v);
    return d * d;
  }
};

// The last warping fitted per objective, with a hash of the values it was fitted on: between two
// scheduled sizes the prefix stays the same, and refitting it at every proposal would cost a
// sort and a likelihood search over the whole prefix each time.
struct WarpingCache {
  size_t key = 0;
  bool valid = false;
  OutputWarping warping;
};

size_t HashValues(const std::vector<double>& values) {
  size_t h = values.size() * 0x9E3779B97F4A7C15ULL;
  for (double v : values) h ^= std::hash<double>{}(v) + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  return h;
}

OutputWarping FitWarping(const std::vector<double>& values, WarpingCache& cache) {
  const size_t key = HashValues(values);
  if (!cache.valid || cache.key != key) {
    cache.warping = OutputWarping::Fit(values);
    cache.key = key;
    cache.valid = true;
  }
  return cache.warping;
}

std::vector<ObjectiveScale> ChooseScales(const std::vector<const TrialRecord*>& complete,
                                         const std::vector<Objective>& objectives,
                                         std::vector<WarpingCache>& cache) {
  std::vector<ObjectiveScale> scales(objectives.size());
  cache.resize(objectives.size());
  const int m = WarpingPrefix(static_cast<int>(complete.size()));
  for (size_t k = 0; k < objectives.size(); ++k) {
    scales[k].minimize = objectives[k].minimize;
    const double sign = objectives[k].minimize ? 1.0 : -1.0;
    std::vector<double> values;
    for (int i = 0; i < m; ++i) values.push_back(sign * complete[i]->values[k]);
    scales[k].warping = FitWarping(values, cache[k]);
    // A later value outside the fitted family's domain (Box-Cox met a value <= 0) brings in
    // every value at once.
    bool accepted = true;
    for (const auto* t : complete)
      accepted = accepted && scales[k].warping.Accepts(sign * t->values[k]);
    if (!accepted) {
      values.clear();
      for (const auto* t : complete) values.push_back(sign * t->values[k]);
      scales[k].warping = FitWarping(values, cache[k]);
    }
  }
  return scales;
}

// One random neighbourhood move of one random parameter, kept only when the result is feasible
// (a few tries; the configuration is left as it is when none works).
void MutateOne(const Space& space, Config& config, Rng& rng) {
  std::uniform_int_distribution<size_t> which(0, space.size() - 1);
  for (int attempt = 0; attempt < 4; ++attempt) {
    const size_t i = which(rng);
    std::vector<Value> options = space.parameters()[i].Neighbors(config[i], rng);
    if (options.empty()) continue;
    std::uniform_int_distribution<size_t> pick(0, options.size() - 1);
    Value previous = std::move(config[i]);
    config[i] = std::move(options[pick(rng)]);
    if (space.IsFeasible(config)) return;
    config[i] = std::move(previous);
  }
}

// Each finished trial's configuration hash and encoding, kept across proposals by trial id, so
// that a long history is not re-hashed and re-encoded at every proposal. Storage ids are unique;
// a history that repeats an id (one built by hand) is served without the cache.
class TrialCache {
 public:
  void Reset(const Space& space, const std::vector<TrialRecord>& history) {
    if (&space != space_) {
      index_.clear();
      hashes_.clear();
      used_ = 0;
      space_ = &space;
    }
    // Each entry remembers the last pass that met it: meeting it twice in one pass is a repeated
    // id. The set of configuration hashes is extended as trials arrive and rebuilt only when a
    // cached trial has left the history.
    ++pass_;
    usable_ = true;
    const int width = space.layout().width;
    std::vector<double> row(static_cast<size_t>(width));
    for (const auto& t : history) {
      auto found = index_.find(t.id);
      if (found != index_.end()) {
        if (found->second.pass == pass_) usable_ = false;
        found->second.pass = pass_;
        continue;
      }
      if (used_ == encoded_.rows()) {
        encoded_.conservativeResize(std::max<Eigen::Index>(64, 2 * used_), width);
      }
      space.Encode(t.config, row.data());
      for (int j = 0; j < width; ++j) encoded_(used_, j) = row[static_cast<size_t>(j)];
      const size_t hash = HashConfig(t.config);
      index_.emplace(t.id, Entry{hash, used_++, pass_});
      hashes_.insert(hash);
    }
    if (usable_ && index_.size() != history.size()) {
      // A cached trial left the history: forget it, and rebuild the hashes from what is left.
      for (auto it = index_.begin(); it != index_.end();) {
        it = it->second.pass == pass_ ? std::next(it) : index_.erase(it);
      }
      hashes_.clear();
      for (const auto& [id, entry] : index_) hashes_.insert(entry.hash);
    }
  }

  // Hashes of every configuration in the history; empty unless usable().
  const std::unordered_set<size_t>& hashes() const { return hashes_; }
  bool usable() const { return usable_; }

  size_t Hash(const TrialRecord& t) const {
    return usable_ ? index_.at(t.id).hash : HashConfig(t.config);
  }

  Eigen::MatrixXd Rows(const std::vector<const TrialRecord*>& trials) const {
    const int width = space_->layout().width;
    Eigen::MatrixXd X(static_cast<Eigen::Index>(trials.size()), width);
    std::vector<double> row(static_cast<size_t>(width));
    for (size_t i = 0; i < trials.size(); ++i) {
      const auto r = static_cast<Eigen::Index>(i);
      if (usable_) {
        X.row(r) = encoded_.row(index_.at(trials[i]->id).row);
      } else {
        space_->Encode(trials[i]->config, row.data());
        for (int j = 0; j < width; ++j) X(r, j) = row[static_cast<size_t>(j)];
      }
    }
    return X;
  }

 private:
  struct Entry {
    size_t hash;
    Eigen::Index row;
    uint64_t pass;
  };
  const Space* space_ = nullptr;
  bool usable_ = false;
  uint64_t pass_ = 0;
  std::unordered_set<size_t> hashes_;
  std::unordered_map<int64_t, Entry> index_;
  Eigen::MatrixXd encoded_;
  Eigen::Index used_ = 0;
};

// Configuration hashes already measured or in flight: the history's (kept by TrialCache, not
// copied) and those added for this proposal.
class Seen {
 public:
  explicit Seen(const std::unordered_set<size_t>* history) : history_(history) {}
  bool count(size_t h) const { return (history_ && history_->count(h)) || added_.count(h); }
  void insert(size_t h) { added_.insert(h); }
  std::unordered_set<size_t> All() const {
    std::unordered_set<size_t> all = added_;
    if (history_) all.insert(history_->begin(), history_->end());
    return all;
  }

 private:
  const std::unordered_set<size_t>* history_;
  std::unordered_set<size_t> added_;
};

class BayesSampler : public Sampler {
 public:
  BayesSampler(const SamplerOptions& options, const BayesOptions& bayes)
      : options_(options), bayes_(bayes), design_(MakeLatinHypercubeSampler(options)) {}

  std::string_view name() const override {
    switch (bayes_.surrogate) {
      case SurrogateChoice::kGaussianProcess:
        return "gp";
      case SurrogateChoice::kRandomForest:
        return "forest";
      case SurrogateChoice::kAuto:
        break;
    }
    return "auto";
  }

  Expected<std::vector<Config>> Ask(const SamplerContext& context, int n) override {
    const Space& space = context.space;
    std::vector<const TrialRecord*> complete;
    for (const auto& t : context.history) {
      if (t.state == TrialState::kComplete && t.values.size() == context.objectives.size()) {
        complete.push_back(&t);
      }
    }
    if (static_cast<int>(complete.size()) < InitialDesignSize(space)) {
      // The design is indexed by how many trials exist, so failed design points are replaced by
      // the next design points rather than retried.
      return design_->Ask(context, n);
    }
    if (auto again = Remeasure(context, complete)) return std::vector<Config>{std::move(*again)};
    Rng rng = AskRng(options_.seed, context);
    trials_.Reset(space, context.history);
    TrainingData data = Extract(context, complete, trials_, rng);
    SYSOPT_RETURN_IF_ERROR(FitModels(space, data));
    Seen seen(trials_.usable() ? &trials_.hashes() : nullptr);
    if (!trials_.usable()) {
      for (const auto& t : context.history) seen.insert(trials_.Hash(t));
    }
    for (const auto& c : context.pending) seen.insert(HashConfig(c));

    // Fantasies: pending configurations are added with their predicted mean (kriging believer),
    // so that the proposals of parallel workers spread out instead of piling up.
    // The fitted model is copied only when fantasies are to be added to it (the copy of a GP
    // holds its whole factor).
    std::unique_ptr<Surrogate> copy;
    if (!context.pending.empty() || n > 1) copy = model_->Clone();
    Surrogate* model = copy ? copy.get() : model_.get();
    if (!context.pending.empty()) AddFantasies(space, *model, context.pending);

    std::vector<Config> out;
    for (int k = 0; k < n; ++k) {
      auto next = Propose(space, *model, data, seen, rng);
      if (!next.ok()) return next.error();
      if (!next->has_value()) break;
      seen.insert(HashConfig(**next));
      out.push_back(**next);
      if (k + 1 < n) AddFantasies(space, *model, {**next});
    }
    if (out.size() < static_cast<size_t>(n)) {
      // The acquisition search found nothing new (a nearly exhausted discrete space): fall back
      // to any unseen feasible configuration.
      std::unordered_set<size_t> all = seen.All();
      auto rest = SampleDistinct(space, n - static_cast<int>(out.size()), rng, all);
      if (!rest.ok()) return rest.error();
      for (auto& c : *rest) out.push_back(std::move(c));
    }
    return out;
  }

 private:
  // With repeats, each trial's samples tell how noisy its value is. When the incumbent leads the
  // runner-up by less than two standard errors and has been measured only once, it is measured
  // again before anything else, so that the best configuration is not declared on luck.
  static std::optional<Config> Remeasure(const SamplerContext& context,
                                         const std::vector<const TrialRecord*>& complete) {
    if (context.objectives.size() != 1 || complete.size() < 2) return std::nullopt;
    const bool minimize = context.objectives[0].minimize;
    auto better = [&](const TrialRecord* a, const TrialRecord* b) {
      return minimize ? a->values[0] < b->values[0] : a->values[0] > b->values[0];
    };
    // Linear scans, not a sort: this runs at every proposal of a long study.
    const TrialRecord& best = **std::min_element(complete.begin(), complete.end(), better);
    if (best.samples.size() < 2) return std::nullopt;
    const size_t h = HashConfig(best.config);
    int measured = 0;
    for (const auto& t : context.history) measured += HashConfig(t.config) == h;
    for (const auto& c : context.pending) measured += HashConfig(c) == h;
    if (measured > 1) return std::nullopt;
    // The runner-up: the best completed trial of another configuration (the first in history
    // order among equals, as a stable sort would give).
    const TrialRecord* runner_up = nullptr;
    for (const TrialRecord* t : complete) {
      if (t == &best || HashConfig(t->config) == h) continue;
      if (runner_up == nullptr || better(t, runner_up)) runner_up = t;
    }
    if (runner_up == nullptr) return std::nullopt;
    double mean = 0, var = 0;
    for (const auto& s : best.samples) mean += s[0];
    mean /= best.samples.size();
    for (const auto& s : best.samples) var += (s[0] - mean) * (s[0] - mean);
    var /= (best.samples.size() - 1);
    const double standard_error = std::sqrt(var / best.samples.size());
    if (std::abs(runner_up->values[0] - best.values[0]) < 2 * standard_error) return best.config;
    return std::nullopt;
  }

  int InitialDesignSize(const Space& space) const {
    if (bayes_.initial_design > 0) return bayes_.initial_design;
    // Enough points to see every dimension move, but never more than a quarter of the budget.
    const int dims = static_cast<int>(space.size());
    return std::clamp(std::min(dims + 3, options_.budget / 4), 4, 20);
  }

  TrainingData Extract(const SamplerContext& context,
                       const std::vector<const TrialRecord*>& complete, TrialCache& trials,
                       Rng& rng) {
    TrainingData data;
    const auto& objectives = context.objectives;
    const auto scales = ChooseScales(complete, objectives, warping_cache_);
    // Several objectives: one random Chebyshev scalarisation per proposal (ParEGO), over
    // objectives normalised to [0, 1] on the observed range.
    std::vector<double> weights(objectives.size(), 1.0);
    std::vector<double> lo(objectives.size(), std::numeric_limits<double>::infinity());
    std::vector<double> hi(objectives.size(), -std::numeric_limits<double>::infinity());
    if (objectives.size() > 1) {
      double total = 0;
      for (auto& w : weights) total += (w = -std::log(1.0 - Uniform01(rng)));
      for (auto& w : weights) w /= total;
      for (const auto* t : complete) {
        for (size_t k = 0; k < objectives.size(); ++k) {
          lo[k] = std::min(lo[k], scales[k].Apply(t->values[k]));
          hi[k] = std::max(hi[k], scales[k].Apply(t->values[k]));
        }
      }
    }
    data.transform_key = objectives.size() == 1 ? scales[0].warping.Describe()
                                                : fmt::format("scalarised:{}", Uniform01(rng));
    // Rows follow the history (trial number order), failed trials included, so that a history
    // grown by new trials extends the previous rows and the cached model can be extended
    // incrementally; with the completed trials first and the failed ones after them, every new
    // completed trial would land in the middle and force a full refit.
    const auto m = static_cast<Eigen::Index>(complete.size());
    Eigen::VectorXd y_complete(m), noise_complete = Eigen::VectorXd::Zero(m);
    bool any_noise = false;
    for (Eigen::Index i = 0; i < m; ++i) {
      const TrialRecord& t = *complete[i];
      if (objectives.size() == 1) {
        y_complete(i) = scales[0].Apply(t.values[0]);
        // Repeats give the noise of this trial's value: the variance of the mean of the samples
        // (a fair proxy for the median too), mapped into the model's scale.
        if (t.samples.size() > 1) {
          double mean = 0, var = 0;
          for (const auto& s : t.samples) mean += s[0];
          mean /= t.samples.size();
          for (const auto& s : t.samples) var += (s[0] - mean) * (s[0] - mean);
          var /= (t.samples.size() - 1) * t.samples.size();
          var *= scales[0].VarianceFactor(t.values[0]);
          noise_complete(i) = var;
          any_noise = any_noise || var > 0;
        }
      } else {
        double worst = kNegInf, sum = 0;
        for (size_t k = 0; k < objectives.size(); ++k) {
          const double range = hi[k] - lo[k];
          const double f = range > 0 ? (scales[k].Apply(t.values[k]) - lo[k]) / range : 0.0;
          worst = std::max(worst, weights[k] * f);
          sum += weights[k] * f;
        }
        y_complete(i) = worst + 0.05 * sum;
      }
    }
    // Failed trials join the regression at the worst observed value: without them the model is
    // most uncertain exactly where runs fail, and the acquisition keeps returning there (the
    // classifier then only weights what is left).
    const double worst = m > 0 ? y_complete.maxCoeff() : 0.0;
    std::vector<double> y, noise;
    std::vector<const TrialRecord*> rows;
    size_t next_complete = 0;
    bool any_failed = false;
    for (const auto& t : context.history) {
      if (next_complete < complete.size() && &t == complete[next_complete]) {
        y.push_back(y_complete(static_cast<Eigen::Index>(next_complete)));
        noise.push_back(noise_complete(static_cast<Eigen::Index>(next_complete)));
        data.configs.push_back(&t.config);
        data.fingerprint.push_back(trials.Hash(t));
        rows.push_back(&t);
        ++next_complete;
      } else if (m > 0 && t.state == TrialState::kFailed && CountsTowardsBudget(t)) {
        y.push_back(worst);
        noise.push_back(0.0);
        data.configs.push_back(&t.config);
        data.fingerprint.push_back(trials.Hash(t) ^ 0x5bd1e995);
        rows.push_back(&t);
        any_failed = true;
      }
    }
    data.y = Eigen::Map<const Eigen::VectorXd>(y.data(), static_cast<Eigen::Index>(y.size()));
    data.noise =
        Eigen::Map<const Eigen::VectorXd>(noise.data(), static_cast<Eigen::Index>(noise.size()));
    data.any_noise = any_noise;
    if (any_failed) data.transform_key += fmt::format(":worst={}", worst);
    data.X = trials.Rows(rows);
    rows.clear();
    for (const auto& t : context.history) {
      if (!CountsTowardsBudget(t)) continue;
      rows.push_back(&t);
      data.feasible.push_back(t.state == TrialState::kComplete);
      data.failures += t.state != TrialState::kComplete;
    }
    data.X_all = trials.Rows(rows);
    return data;
  }

  SurrogateChoice Choose(const Space& space, const TrainingData& data) const {
    if (bayes_.surrogate != SurrogateChoice::kAuto) return bayes_.surrogate;
    // The exact GP costs O(n^3) per refit and fits unordered choices with many levels poorly;
    // the forest takes over for long histories and large categorical spaces.
    int categorical_levels = 0, numeric = 0;
    for (const auto& g : space.layout().groups) {
      if (g.kind == FeatureKind::kCategorical) categorical_levels += g.n_choices;
      if (g.kind != FeatureKind::kCategorical) ++numeric;
    }
    const bool large_categorical = categorical_levels > 24 && categorical_levels > 4 * numeric;
    if (data.y.size() > bayes_.gp_max_trials || large_categorical) {
      return SurrogateChoice::kRandomForest;
    }
    return SurrogateChoice::kGaussianProcess;
  }

  Expected<void> FitModels(const Space& space, const TrainingData& data) {
    const SurrogateChoice choice = Choose(space, data);
    const int n = static_cast<int>(data.y.size());
    const bool same_kind = model_ && choice == model_choice_;
    // The cached model is reusable when the current history extends the one it was fitted on.
    const bool extends = same_kind && fitted_.size() <= data.fingerprint.size() &&
                         std::equal(fitted_.begin(), fitted_.end(), data.fingerprint.begin()) &&
                         last_transform_ == data.transform_key;
    if (!same_kind) {
      Log(LogLevel::kInfo,
          fmt::format(
              "bayes: using the {} surrogate ({} completed trials)",
              choice == SurrogateChoice::kGaussianProcess ? "Gaussian process" : "random forest",
              n));
    }
    if (choice == SurrogateChoice::kRandomForest) {
      // Forests draw from a generator that advances with every fit, so each is built afresh from
      // a seed derived from its (scheduled) training prefix.
      const int m = ScheduledPrefix(n);
      const size_t key =
          HashRows(data.X, m, nullptr) ^ std::hash<std::string>{}(data.transform_key);
      if (!same_kind || key != forest_key_) {
        auto made = MakeModel(space, choice, m);
        if (!made.ok()) return made.error();
        FitOptions fit;
        SYSOPT_RETURN_IF_ERROR((*made)->Fit(data.X.topRows(m), data.y.head(m), fit));
        model_ = std::move(*made);
        forest_key_ = key;
      }
      model_choice_ = choice;
      fitted_ = data.fingerprint;
      last_transform_ = data.transform_key;
      // A forest's prediction at a training point averages its leaf, which is not a noise model:
      // its incumbent stays the observed minimum (as in SMAC).
      best_y_ = data.y.minCoeff();
      return FitFeasibility(space, data, n);
    }
    if (!same_kind) {
      auto made = MakeModel(space, choice, n);
      if (!made.ok()) return made.error();
      model_ = std::move(*made);
      model_choice_ = choice;
      hyper_fit_at_ = 0;
    }
    FitOptions fit;
    if (data.any_noise) fit.noise_variance = data.noise;
    // Hyperparameters are refitted when the history has grown by a fifth since the last full fit
    // (a tenth cost 23% more CPU over a 400-trial study and found no better optima on the
    // replayed spaces); in between, new observations extend the Cholesky factor incrementally
    // (O(n^2) each).
    const bool refit = !extends || n - hyper_fit_at_ >= std::max(1, hyper_fit_at_ / 5);
    if (refit) {
      fit.optimize_hyperparameters = true;
      SYSOPT_RETURN_IF_ERROR(model_->Fit(data.X, data.y, fit));
      hyper_fit_at_ = n;
    } else if (static_cast<size_t>(n) > fitted_.size()) {
      const auto start = static_cast<Eigen::Index>(fitted_.size());
      const Eigen::Index count = n - start;
      Eigen::VectorXd noise =
          data.any_noise ? Eigen::VectorXd(data.noise.segment(start, count)) : Eigen::VectorXd();
      auto added = model_->AddObservations(data.X.middleRows(start, count),
                                           data.y.segment(start, count), noise);
      if (!added.ok()) SYSOPT_RETURN_IF_ERROR(model_->Fit(data.X, data.y, fit));
    }
    fitted_ = data.fingerprint;
    last_transform_ = data.transform_key;
    SYSOPT_RETURN_IF_ERROR(FitFeasibility(space, data, n));
    // The incumbent EI improves on is the least posterior mean over the observed points (the
    // plug-in rule for noisy observations). A GP that explains the best observation partly as
    // noise predicts worse than it there; measured against the raw minimum, every candidate near
    // the incumbent then looks hopeless and EI goes to the far corners of the space, where only
    // the prior's variance is left (the stall of continuous dimensions at their bounds).
    Eigen::VectorXd mean;
    model_->Predict(data.X, &mean, nullptr);
    best_y_ = mean.minCoeff();
    return Ok();
  }

  Expected<void> FitFeasibility(const Space& space, const TrainingData& data, int n) {
    n_observations_ = n;
    const int labels = static_cast<int>(data.feasible.size());
    if (data.failures == 0 || data.failures == labels) {
      feasibility_.reset();
      return Ok();
    }
    // Fitted on a scheduled prefix of the labels like the forest regressor, except that a failure
    // beyond the prefix brings in every label at once: a new failure is news worth a refit.
    int m = ScheduledPrefix(labels);
    for (int i = m; i < labels; ++i) {
      if (!data.feasible[i]) m = labels;
    }
    const size_t key = HashRows(data.X_all, m, &data.feasible);
    if (feasibility_ && key == feasibility_key_) return Ok();
    // More trees than the default and every feature at each split: the classifier sees few
    // points, and its probabilities near a boundary are only as smooth as the ensemble.
    ForestOptions forest = FeasibilityForestDefaults();
    forest.num_trees = 64;
    forest.max_features = 1.0;
    auto f = FeasibilityForest::Create(space.layout(), forest,
                                       DeriveSeed(options_.seed, 77 + static_cast<uint64_t>(m)));
    if (!f.ok()) return f.error();
    const std::vector<bool> prefix(data.feasible.begin(), data.feasible.begin() + m);
    SYSOPT_RETURN_IF_ERROR((*f)->Fit(data.X_all.topRows(m), prefix));
    feasibility_ = std::move(*f);
    feasibility_key_ = key;
    return Ok();
  }

  Expected<std::unique_ptr<Surrogate>> MakeModel(const Space& space, SurrogateChoice choice,
                                                 int n) const {
    const uint64_t seed = DeriveSeed(options_.seed, 99 + static_cast<uint64_t>(n));
    if (choice == SurrogateChoice::kRandomForest) {
      ForestOptions f;
      f.num_trees = 24;
      // Each tree sees at most 1,024 rows: a refit then costs the same at 5,000 trials as at
      // 1,000, and 24 trees still cover nearly every row between them.
      f.max_samples = 1024;
      auto forest = RandomForest::Create(space.layout(), f, seed);
      if (!forest.ok()) return forest.error();
      return std::unique_ptr<Surrogate>(std::move(*forest));
    }
    GpOptions g;
    g.max_points = bayes_.gp_max_trials;
    auto gp = GaussianProcess::Create(space.layout(), g, seed);
    if (!gp.ok()) return gp.error();
    return std::unique_ptr<Surrogate>(std::move(*gp));
  }

  void AddFantasies(const Space& space, Surrogate& model, const std::vector<Config>& configs) {
    Eigen::MatrixXd X = EncodeRows(space, configs);
    Eigen::VectorXd mean;
    model.Predict(X, &mean, nullptr);
    // The model predicts in its own scale; AddObservations takes the scale Fit was given. A
    // fantasy that cannot be added (a factor that would lose definiteness) only makes parallel
    // proposals spread less; duplicates are still excluded by the caller's seen-set, so the
    // proposal goes on without it.
    if (!model.AddObservations(X, mean, Eigen::VectorXd()).ok()) {
      Log(LogLevel::kDebug, "bayes: a pending configuration could not be added as a fantasy");
    }
  }

  // Scores candidates: log EI (or -LCB) + log P(feasible) + piBO prior weight; -inf for
  // candidates the feasibility model rules out.
  Eigen::VectorXd Score(const Space& space, const Surrogate& model,
                        const std::vector<Config>& candidates) const {
    Eigen::MatrixXd X = EncodeRows(space, candidates);
    Eigen::VectorXd mean, var;
    model.Predict(X, &mean, &var);
    Eigen::VectorXd p_feasible;
    if (feasibility_) feasibility_->PredictProbability(X, &p_feasible);
    Eigen::VectorXd log_prior;
    const bool prior = space.HasPrior();
    if (prior) {
      log_prior.resize(X.rows());
      for (size_t i = 0; i < candidates.size(); ++i) log_prior(i) = space.LogPrior(candidates[i]);
    }
    AcquisitionOptions options;
    options.kind = bayes_.lower_confidence_bound ? AcquisitionKind::kLowerConfidenceBound
                                                 : AcquisitionKind::kLogExpectedImprovement;
    options.pibo_beta = prior ? bayes_.prior_beta : 0.0;
    AcquisitionInput input;
    input.mean = &mean;
    input.variance = &var;
    input.best = best_y_;
    input.p_feasible = feasibility_ ? &p_feasible : nullptr;
    input.log_prior = prior ? &log_prior : nullptr;
    input.num_observations = n_observations_;
    Eigen::VectorXd score;
    MakeAcquisition(options)->Score(input, &score);
    if (feasibility_) {
      for (Eigen::Index i = 0; i < score.size(); ++i) {
        if (p_feasible(i) < bayes_.min_feasibility) score(i) = kNegInf;
      }
    }
    return score;
  }

  Expected<std::optional<Config>> Propose(const Space& space, const Surrogate& model,
                                          const TrainingData& data,
                                          const Seen& seen, Rng& rng) const {
    // Never propose a configuration already measured or in flight, in continuous spaces too:
    // the acquisition's local search readily walks back onto the incumbent.
    auto fresh = [&](const Config& c) { return !seen.count(HashConfig(c)); };
    // Candidates: random feasible points (some from the prior when there is one).
    std::vector<Config> candidates;
    // Long histories make every prediction dearer (and the model surer): fewer random candidates.
    const int random_candidates =
        data.y.size() > 200 ? bayes_.random_candidates / 2 : bayes_.random_candidates;
    const int from_prior = space.HasPrior() ? random_candidates / 2 : 0;
    for (int i = 0; i < random_candidates; ++i) {
      auto c = i < from_prior ? space.SampleFromPrior(rng) : space.Sample(rng);
      if (!c.ok()) return c.error();
      if (fresh(*c)) candidates.push_back(std::move(*c));
    }
    std::vector<Eigen::Index> order(data.y.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return data.y(a) < data.y(b); });
    // And half as many again near the best observed configurations: a few random neighbourhood
    // moves away from one of them. Uniform candidates alone rarely land close to a good point in
    // more than a few dimensions, so the acquisition would otherwise compare the incumbent's region
    // only with far-away regions, whose high variance wins (the box's corners, typically).
    // With a prior, the prior's own candidates take this role: moves around the incumbent would
    // outbid the prior's region long before its weight has faded. Over permutations and
    // sequences they measured worse (tsp10, the sequence toy of the tests): there the local
    // search below already walks the incumbents' swap neighbourhoods, and more of the same only
    // narrows the search.
    bool ordered = false;
    for (const auto& g : space.layout().groups) {
      ordered = ordered || g.kind == FeatureKind::kPermutation || g.kind == FeatureKind::kSequence;
    }
    const int local = space.HasPrior() || ordered ? 0 : static_cast<int>(candidates.size()) / 2;
    const int bases = std::min<int>(bayes_.local_starts, static_cast<int>(order.size()));
    for (int i = 0; i < local && bases > 0; ++i) {
      Config c = *data.configs[order[static_cast<size_t>(i % bases)]];
      std::geometric_distribution<int> extra(0.5);
      const int moves = 1 + std::min(extra(rng), static_cast<int>(space.size()) - 1);
      for (int m = 0; m < moves; ++m) MutateOne(space, c, rng);
      if (fresh(c)) candidates.push_back(std::move(c));
    }
    Eigen::VectorXd scores =
        candidates.empty() ? Eigen::VectorXd() : Score(space, model, candidates);

    // Local search starts: the best observed configurations and the best candidates.
    std::vector<std::pair<double, Config>> starts;
    const int half = std::max(1, bayes_.local_starts / 2);
    for (int i = 0; i < half && i < static_cast<int>(order.size()); ++i) {
      starts.emplace_back(kNegInf, *data.configs[order[i]]);
    }
    std::vector<Eigen::Index> by_score(scores.size());
    std::iota(by_score.begin(), by_score.end(), 0);
    std::sort(by_score.begin(), by_score.end(),
              [&](auto a, auto b) { return scores(a) > scores(b); });
    for (int i = 0; i < bayes_.local_starts - half && i < static_cast<int>(by_score.size()); ++i) {
      starts.emplace_back(scores(by_score[i]), candidates[by_score[i]]);
    }

    double best_score = kNegInf;
    std::optional<Config> best;
    if (!by_score.empty() && scores(by_score[0]) > kNegInf) {
      best_score = scores(by_score[0]);
      best = candidates[by_score[0]];
    }
    // Greedy hill climbing on the acquisition through the parameters' neighbourhoods, all starts
    // at once: one prediction per step scores the neighbours of every start still climbing.
    const int max_steps = data.y.size() > 200 ? 10 : 25;
    std::vector<bool> climbing(starts.size(), true);
    for (int step = 0; step < max_steps; ++step) {
      std::vector<Config> options;
      std::vector<size_t> owner;
      for (size_t s = 0; s < starts.size(); ++s) {
        if (!climbing[s]) continue;
        for (auto& c : space.Neighbors(starts[s].second, rng)) {
          if (fresh(c)) {
            options.push_back(std::move(c));
            owner.push_back(s);
          }
        }
      }
      if (options.empty()) break;
      Eigen::VectorXd s = Score(space, model, options);
      std::vector<Eigen::Index> top(starts.size(), -1);
      for (Eigen::Index i = 0; i < s.size(); ++i) {
        const size_t o = owner[i];
        if (top[o] < 0 || s(i) > s(top[o])) top[o] = i;
      }
      bool moved = false;
      for (size_t o = 0; o < starts.size(); ++o) {
        if (!climbing[o]) continue;
        if (top[o] < 0 || !(s(top[o]) > starts[o].first)) {
          climbing[o] = false;
          continue;
        }
        starts[o] = {s(top[o]), options[top[o]]};
        moved = true;
        if (starts[o].first > best_score) {
          best_score = starts[o].first;
          best = starts[o].second;
        }
      }
      if (!moved) break;
    }
    if (!best) return std::optional<Config>();
    return best;
  }

  SamplerOptions options_;
  BayesOptions bayes_;
  std::unique_ptr<Sampler> design_;
  // Derived from the history and rebuilt whenever it does not match (see FitModels).
  std::unique_ptr<Surrogate> model_;
  SurrogateChoice model_choice_ = SurrogateChoice::kAuto;
  std::unique_ptr<FeasibilityForest> feasibility_;
  std::vector<size_t> fitted_;
  size_t forest_key_ = 0;
  size_t feasibility_key_ = 0;
  std::string last_transform_;
  std::vector<WarpingCache> warping_cache_;
  TrialCache trials_;
  int hyper_fit_at_ = 0;
  double best_y_ = 0;
  int n_observations_ = 0;
};

}  // namespace

std::unique_ptr<Sampler> MakeBayesSampler(const SamplerOptions& options,
                                          const BayesOptions& bayes) {
  return std::make_unique<BayesSampler>(options, bayes);
}

}  // namespace sysopt
