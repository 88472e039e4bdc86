// GridSearch: every combination checked before any trains, then trained in
// parallel on oneTBB, one classifier (with a one-thread executor) per task.
#include <dagrad/core/closest.hpp>
#include <dagrad/core/detail/tsan.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/core/random.hpp>
#include <dagrad/io/features.hpp>
#include <dagrad/ml/grid_search.hpp>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <numeric>
#include <ostream>

namespace dagrad {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Python's repr of a tuple of ints: (50,) or (10, 10, 10, 10).
std::string tuple_text(const std::vector<int>& sizes) {
  std::string s = "(";
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + (sizes.size() == 1 ? ",)" : ")");
}

std::string describe(const std::vector<std::pair<std::string, std::string>>& params, const MLPParams& full) {
  std::string s;
  for (const auto& [name, value] : params) {
    s += (s.empty() ? "" : " ") + name + "=" +
         (name == "hidden_layer_sizes" ? tuple_text(full.hidden_layer_sizes) : value);
  }
  return s;
}

// What can be checked of a scheme without knowing the number of rows.
void check_scheme(const Validation& scheme) {
  if (const auto* h = std::get_if<Holdout>(&scheme)) {
    if (h->rows > 0 && h->fraction != 0) {
      throw Error("grid search: Holdout takes rows or fraction, not both");
    }
    if (h->rows == 0 && !(h->fraction > 0 && h->fraction < 1)) {
      throw Error("grid search: Holdout needs rows > 0 or a fraction in (0, 1), got fraction " +
                  std::to_string(h->fraction));
    }
  } else {
    const auto& k = std::get<KFold>(scheme);
    if (k.folds < 2) throw Error("grid search: KFold needs folds >= 2, got " + std::to_string(k.folds));
  }
}

std::size_t rows_of(const Images& X) { return X.count; }
template <class T>
std::size_t rows_of(const Matrix<T>& X) {
  return static_cast<std::size_t>(X.rows());
}

// Plain values as bytes, for the outcomes and the model ranks send each other.
class ByteWriter {
 public:
  template <class V>
  void put(const V& v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof v);
  }
  void put_matrix(const Matrix<double>& m) {
    put(std::int64_t(m.rows()));
    put(std::int64_t(m.cols()));
    const auto* p = reinterpret_cast<const std::byte*>(m.data());
    bytes.insert(bytes.end(), p, p + std::size_t(m.size()) * sizeof(double));
  }
  std::vector<std::byte> bytes;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  template <class V>
  V get() {
    V v;
    take(&v, sizeof v);
    return v;
  }
  Matrix<double> get_matrix() {
    const auto rows = get<std::int64_t>(), cols = get<std::int64_t>();
    if (rows < 0 || cols < 0) fail();
    Matrix<double> m(rows, cols);
    take(m.data(), std::size_t(m.size()) * sizeof(double));
    return m;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  void take(void* out, std::size_t n) {
    if (n > bytes_.size() - at_) fail();
    std::memcpy(out, bytes_.data() + at_, n);
    at_ += n;
  }
  [[noreturn]] static void fail() { throw Error("grid search: a rank sent a truncated or malformed message"); }
  std::span<const std::byte> bytes_;
  std::size_t at_ = 0;
};

// A trained classifier's weights as bytes, and back (MLPClassifier's
// set_weights): how the best model reaches rank 0 from the rank that trained it.
std::vector<std::byte> model_bytes(const MLPClassifier& model) {
  ByteWriter w;
  w.put(std::uint64_t(model.classes().size()));
  for (int c : model.classes()) w.put(std::int64_t(c));
  const std::vector<Matrix<double>> coefs = model.coefs(), intercepts = model.intercepts();
  w.put(std::uint64_t(coefs.size()));
  for (const auto& m : coefs) w.put_matrix(m);
  for (const auto& m : intercepts) w.put_matrix(m);
  w.put(std::int64_t(model.n_iter()));
  return std::move(w.bytes);
}

MLPClassifier model_from_bytes(std::span<const std::byte> bytes, MLPParams params) {
  ByteReader r(bytes);
  std::vector<int> classes(r.get<std::uint64_t>());
  for (int& c : classes) c = int(r.get<std::int64_t>());
  std::vector<Matrix<double>> coefs(r.get<std::uint64_t>()), intercepts(coefs.size());
  for (auto& m : coefs) m = r.get_matrix();
  for (auto& m : intercepts) m = r.get_matrix();
  const int n_iter = int(r.get<std::int64_t>());
  MLPClassifier model(std::move(params));
  model.set_weights(std::move(classes), coefs, intercepts, n_iter);
  return model;
}

}  // namespace

std::string GridRow::describe() const { return dagrad::describe(params, full_params); }

std::vector<Split> make_splits(std::size_t n, const Validation& scheme) {
  check_scheme(scheme);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::vector<Split> splits;
  if (const auto* h = std::get_if<Holdout>(&scheme)) {
    // train_test_split rounds the test part up.
    const std::size_t n_val =
        h->rows > 0 ? h->rows : static_cast<std::size_t>(std::ceil(h->fraction * static_cast<double>(n)));
    if (n_val == 0 || n_val >= n) {
      throw Error("grid search: a holdout of " + std::to_string(n_val) + " validation rows out of " +
                  std::to_string(n) + " leaves no rows to train on");
    }
    Split s;
    if (h->shuffle) {
      NumpyRandom(h->seed).shuffle(std::span<std::size_t>(order));
      s.validation.assign(order.begin(), order.begin() + n_val);
      s.train.assign(order.begin() + n_val, order.end());
      std::sort(s.validation.begin(), s.validation.end());
      std::sort(s.train.begin(), s.train.end());
    } else {
      s.train.assign(order.begin(), order.end() - n_val);
      s.validation.assign(order.end() - n_val, order.end());
    }
    splits.push_back(std::move(s));
    return splits;
  }
  const auto& k = std::get<KFold>(scheme);
  const std::size_t folds = static_cast<std::size_t>(k.folds);
  if (folds > n) {
    throw Error("grid search: KFold with " + std::to_string(folds) + " folds needs at least that many rows, got " +
                std::to_string(n));
  }
  if (k.shuffle) NumpyRandom(k.seed).shuffle(std::span<std::size_t>(order));
  std::size_t start = 0;
  for (std::size_t f = 0; f < folds; ++f) {
    const std::size_t size = n / folds + (f < n % folds ? 1 : 0);
    Split s;
    s.validation.assign(order.begin() + start, order.begin() + start + size);
    s.train.assign(order.begin(), order.begin() + start);
    s.train.insert(s.train.end(), order.begin() + start + size, order.end());
    std::sort(s.validation.begin(), s.validation.end());
    std::sort(s.train.begin(), s.train.end());
    splits.push_back(std::move(s));
    start += size;
  }
  return splits;
}

Images take_rows(const Images& X, std::span<const std::size_t> indices) {
  Images out;
  out.count = indices.size();
  out.rows = X.rows;
  out.cols = X.cols;
  const std::size_t f = X.features();
  out.pixels.resize(indices.size() * f);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= X.count) throw Error("take_rows: row " + std::to_string(indices[i]) + " out of range");
    std::copy_n(X.pixels.begin() + static_cast<std::ptrdiff_t>(indices[i] * f), f,
                out.pixels.begin() + static_cast<std::ptrdiff_t>(i * f));
  }
  return out;
}

template <class T>
Matrix<T> take_rows(const Matrix<T>& X, std::span<const std::size_t> indices) {
  Matrix<T> out(static_cast<Eigen::Index>(indices.size()), X.cols());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= static_cast<std::size_t>(X.rows())) {
      throw Error("take_rows: row " + std::to_string(indices[i]) + " out of range");
    }
    out.row(static_cast<Eigen::Index>(i)) = X.row(static_cast<Eigen::Index>(indices[i]));
  }
  return out;
}
template Matrix<float> take_rows(const Matrix<float>&, std::span<const std::size_t>);
template Matrix<double> take_rows(const Matrix<double>&, std::span<const std::size_t>);

GridSearch::GridSearch(MLPParams base, Grid grid, GridSearchOptions options)
    : base_(std::move(base)), grid_(std::move(grid)), options_(std::move(options)) {
  const auto& names = MLPParams::names();
  for (std::size_t i = 0; i < grid_.size(); ++i) {
    const std::string& name = grid_[i].name;
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string msg = "grid search: MLPClassifier has no parameter '" + name + "'";
      if (auto near = closest(name, names)) msg += "; did you mean '" + *near + "'?";
      throw Error(msg);
    }
    if (name == "threads") {
      throw Error("grid search: 'threads' cannot be searched: each configuration trains on one thread "
                  "(GridSearchOptions::threads sets how many train at once)");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (grid_[j].name == name) throw Error("grid search: parameter '" + name + "' appears twice in the grid");
    }
    if (grid_[i].values.empty()) throw Error("grid search: parameter '" + name + "' has no values to try");
  }
  if (options_.threads < 0) {
    throw Error("grid search: threads must be 0 (every core) or positive, got " + std::to_string(options_.threads));
  }
  check_scheme(options_.validation);

  // Mixed-radix count over the grid, the last parameter fastest.
  std::size_t total = 1;
  for (const auto& g : grid_) total *= g.values.size();
  for (std::size_t c = 0; c < total; ++c) {
    MLPParams p = base_;
    std::vector<std::pair<std::string, std::string>> assignment(grid_.size());
    std::size_t rest = c;
    for (std::size_t i = grid_.size(); i-- > 0;) {
      const std::size_t n = grid_[i].values.size();
      assignment[i] = {grid_[i].name, grid_[i].values[rest % n]};
      rest /= n;
    }
    for (const auto& [name, value] : assignment) {
      try {
        p.set(name, value);
      } catch (const Error& e) {
        throw Error(std::string("grid search: ") + e.what());
      }
    }
    try {
      p.validate();
    } catch (const Error& e) {
      throw Error("grid search: configuration " + std::to_string(c) + " (" + dagrad::describe(assignment, p) +
                  "): " + e.what());
    }
    configurations_.push_back(std::move(p));
    assignments_.push_back(std::move(assignment));
  }
}

GridResult GridSearch::fit(const Images& X, std::span<const int> y) const { return run(X, y); }
GridResult GridSearch::fit(const Matrix<float>& X, std::span<const int> y) const { return run(X, y); }
GridResult GridSearch::fit(const Matrix<double>& X, std::span<const int> y) const { return run(X, y); }

namespace {

// One (configuration, fold)'s result; the model only when it is kept.
struct Outcome {
  double score = 0, loss = 0, seconds = 0;
  int n_iter = 0;
  std::optional<MLPClassifier> model;
};

// One split's rows, copied once and read by every configuration.
template <class Source>
struct Part {
  Source train_X, validation_X;
  std::vector<int> train_y, validation_y;
};

template <class Source>
std::vector<Part<Source>> take_parts(const Source& X, std::span<const int> y, const std::vector<Split>& splits) {
  std::vector<Part<Source>> parts;
  for (const Split& s : splits) {
    Part<Source> part{take_rows(X, s.train), take_rows(X, s.validation), {}, {}};
    for (std::size_t i : s.train) part.train_y.push_back(y[i]);
    for (std::size_t i : s.validation) part.validation_y.push_back(y[i]);
    parts.push_back(std::move(part));
  }
  return parts;
}

// A classifier trained with its output silenced (a grid prints its own
// table), then given back the default streams.
template <class Source>
MLPClassifier fit_quietly(MLPParams params, const Source& X, std::span<const int> y) {
  std::ostream silent(nullptr);
  MLPClassifier model(std::move(params));
  model.set_output(&silent, &silent);
  model.fit(Features(X), y);
  model.set_output(&std::cout, &std::cerr);  // `silent` dies here
  return model;
}

// Every rank's outcomes to every rank: job, score, loss, seconds, n_iter.
void gather_outcomes(nn::ShardGroup& g, const std::vector<std::size_t>& mine, std::vector<Outcome>& all) {
  ByteWriter w;
  for (std::size_t job : mine) {
    const Outcome& o = all[job];
    w.put(std::uint64_t(job));
    w.put(o.score);
    w.put(o.loss);
    w.put(o.seconds);
    w.put(std::int64_t(o.n_iter));
  }
  for (std::span<const std::byte> bytes : g.all_gather(w.bytes)) {
    ByteReader r(bytes);
    while (!r.done()) {
      const auto job = r.get<std::uint64_t>();
      if (job >= all.size()) {
        throw Error("grid search: a rank sent job " + std::to_string(job) + " of " + std::to_string(all.size()));
      }
      Outcome& o = all[job];
      o.score = r.get<double>();
      o.loss = r.get<double>();
      o.seconds = r.get<double>();
      o.n_iter = int(r.get<std::int64_t>());
    }
  }
}

// A configuration's row from its folds' outcomes, summed in fold order so
// the mean does not depend on the order the folds finished in.
void fill_row(GridRow& row, std::span<const Outcome> folds) {
  for (const Outcome& o : folds) {
    row.fold_scores.push_back(o.score);
    row.validation_score += o.score;
    row.loss += o.loss;
    row.n_iter = std::max(row.n_iter, o.n_iter);
    row.fit_seconds += o.seconds;
  }
  row.validation_score /= static_cast<double>(folds.size());
  row.loss /= static_cast<double>(folds.size());
}

// This process's jobs: all of them, or with a group every size()-th from
// its rank (round robin, so that each rank gets a share of every size).
std::vector<std::size_t> jobs_of(const nn::ShardGroup* group, std::size_t total) {
  std::vector<std::size_t> jobs;
  const std::size_t first = group ? std::size_t(group->rank()) : 0, step = group ? std::size_t(group->size()) : 1;
  for (std::size_t job = first; job < total; job += step) jobs.push_back(job);
  return jobs;
}

// The best model on rank 0 when kept models are spread over ranks (Holdout,
// job = configuration): sent by the rank that trained it.
std::optional<MLPClassifier> kept_model_to_rank_0(nn::ShardGroup& g, std::size_t best, std::vector<Outcome>& all,
                                                  MLPParams params) {
  const int owner = int(best % std::size_t(g.size()));
  const std::vector<std::span<const std::byte>> sent =
      g.all_gather(g.rank() == owner ? model_bytes(*all[best].model) : std::vector<std::byte>{});
  if (g.rank() != 0) return std::nullopt;
  if (owner == 0) return std::move(all[best].model);
  params.threads = 1;  // as it was trained
  return model_from_bytes(sent[std::size_t(owner)], std::move(params));
}

}  // namespace

template <class Source>
GridResult GridSearch::run(const Source& X, std::span<const int> y) const {
  const auto start = Clock::now();
  const std::size_t n = rows_of(X);
  if (y.size() != n) {
    throw Error("grid search: " + std::to_string(n) + " rows but " + std::to_string(y.size()) + " labels");
  }
  GridResult result;
  result.splits = make_splits(n, options_.validation);
  const std::vector<Part<Source>> parts = take_parts(X, y, result.splits);

  const std::size_t configs = configurations_.size(), folds = parts.size();
  const bool keep_models = !options_.refit && folds == 1;
  std::vector<Outcome> outcomes(configs * folds);
  nn::ShardGroup* const group = options_.group;
  result.rows.resize(configs);
  auto remaining = std::make_unique<std::atomic<std::size_t>[]>(configs);
  for (std::size_t c = 0; c < configs; ++c) remaining[c] = folds;
  std::mutex report;
  auto finish = [&](std::size_t c) {
    GridRow& row = result.rows[c];
    row.index = c;
    row.params = assignments_[c];
    row.full_params = configurations_[c];
    fill_row(row, std::span<const Outcome>(outcomes).subspan(c * folds, folds));
    std::lock_guard lock(report);
    if (on_result_) on_result_(row);
  };
  // One task per (configuration, fold), configuration-major.
  auto train = [&](std::size_t job) {
    const std::size_t c = job / folds, k = job % folds;
    MLPParams p = configurations_[c];
    p.threads = 1;
    const auto t0 = Clock::now();
    MLPClassifier model = fit_quietly(std::move(p), parts[k].train_X, parts[k].train_y);
    Outcome& o = outcomes[job];
    o.seconds = seconds_since(t0);
    o.score = model.score(Features(parts[k].validation_X), parts[k].validation_y);
    o.loss = model.loss();
    o.n_iter = model.n_iter();
    if (keep_models) o.model = std::move(model);
    if (!group && remaining[c].fetch_sub(1, std::memory_order_acq_rel) == 1) finish(c);
  };

  const std::vector<std::size_t> jobs = jobs_of(group, configs * folds);
  tbb::task_arena arena(options_.threads > 0 ? options_.threads : tbb::task_arena::automatic);
  // Hand-offs TBB orders but ThreadSanitizer cannot see (detail/tsan.hpp).
  tsan::release(&outcomes);
  arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, jobs.size(), 1),
        [&](const tbb::blocked_range<std::size_t>& r) {
          tsan::acquire(&outcomes);
          for (std::size_t i = r.begin(); i != r.end(); ++i) train(jobs[i]);
          tsan::release(&outcomes);
        },
        tbb::simple_partitioner());
  });
  tsan::acquire(&outcomes);
  if (group) {
    gather_outcomes(*group, jobs, outcomes);
    for (std::size_t c = 0; c < configs; ++c) finish(c);
  }

  for (std::size_t c = 1; c < configs; ++c) {
    if (result.rows[c].validation_score > result.rows[result.best_index].validation_score) result.best_index = c;
  }
  // The best model, on rank 0 only with a group: refit on every row, or the
  // one trained (Holdout without refit); none for KFold without refit.
  const std::size_t best = result.best_index;
  if (options_.refit) {
    if (!group || group->rank() == 0) result.best_estimator = fit_quietly(configurations_[best], X, y);
  } else if (keep_models) {
    result.best_estimator = group ? kept_model_to_rank_0(*group, best, outcomes, configurations_[best])
                                  : std::move(outcomes[best].model);
  }
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace dagrad
