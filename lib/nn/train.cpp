#include <dagrad/core/detail/whole_line.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/core/random.hpp>
#include <dagrad/io/model_file.hpp>
#include <dagrad/nn/train.hpp>

#include "bucketed_step.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

namespace dagrad::nn {

namespace {

constexpr const char* state_prefix = "state:train/";
// A metric's history in a checkpoint: state_prefix + "metric/" + its name.
constexpr const char* metric_prefix = "metric/";

// The seed of epoch k's shuffle (k = 0: the held-out split), so that the
// stream a resumed run draws from depends on the seed and the epoch alone.
// SplitMix64's finalizer mixes the pair into 32 bits.
std::uint32_t stream_seed(std::uint32_t seed, std::uint64_t epoch) {
  return static_cast<std::uint32_t>(mix64((std::uint64_t{seed} << 32 | (epoch & 0xffffffffu)) + 0x9e3779b97f4a7c15u) >> 32);
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

Matrix<double> scalar(double v) { return Matrix<double>::Constant(1, 1, v); }

Matrix<double> row_of(const std::vector<double>& v) {
  Matrix<double> m(1, static_cast<Eigen::Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) m(0, static_cast<Eigen::Index>(i)) = v[i];
  return m;
}

// The number of shards a loop cuts each batch into, checked against its group.
std::size_t shard_count(const BatchLoop& loop) {
  if (loop.shards < 1) throw Error(loop.who + ": shards must be at least 1, not " + std::to_string(loop.shards));
  if (!loop.group) return std::size_t(loop.shards);
  const int size = loop.group->size();
  if (loop.shards != 1 && loop.shards != size) {
    throw Error(loop.who + ": shards is " + std::to_string(loop.shards) + " but the group has " +
                std::to_string(size) + " ranks; each rank computes one shard, so give shards " +
                std::to_string(size) + " (or 1)");
  }
  return std::size_t(size);
}

// What a checkpoint keeps of a network: its trained parameters, then the
// state parameters its optimizer updates (batch norm's running statistics).
std::vector<Node> saved_parameters(const Optimizer& optimizer) {
  std::vector<Node> kept = optimizer.parameters();
  kept.insert(kept.end(), optimizer.state_parameters().begin(), optimizer.state_parameters().end());
  return kept;
}

}  // namespace

template <class T>
Trainer<T>::Trainer(Executor<T>& ex, Optimizer& optimizer, Node x, Node y, TrainOptions options)
    : ex_(ex), optimizer_(optimizer), x_(x), y_(y), options_(std::move(options)), out_(&std::cout) {
  auto fail = [](const std::string& problem) { throw Error("nn::Trainer: " + problem); };
  Graph& g = ex.graph();
  if (&optimizer.loss().graph() != &g) fail("the optimizer's loss belongs to another graph than the executor's");
  step_ = g.find("training_step");
  for (Node n : {x, y}) {
    g.check_owns(n, "nn::Trainer");
    if (n.kind() != NodeKind::input) {
      fail("'" + n.name() + "' is " + std::string(to_string(n.kind())) +
           " node; x and y must be inputs, fed a batch of rows");
    }
    if (n.shape().rows != batch) {
      fail("input '" + n.name() + "' has shape " + to_string(n.shape()) +
           "; its rows must be open (batch) to take batches of any size");
    }
  }
  if (options_.epochs < 0) fail("epochs " + std::to_string(options_.epochs) + " must be at least 0");
  if (options_.batch_size < 1) fail("batch_size must be at least 1");
  shard_count({.who = "nn::Trainer", .shards = options_.shards, .group = options_.group});  // throws naming the problem
  if (!(options_.validation_fraction >= 0 && options_.validation_fraction < 1)) {
    fail("validation_fraction " + fixed(options_.validation_fraction, 3) + " is outside [0, 1)");
  }
  if (options_.patience < 1) fail("patience " + std::to_string(options_.patience) + " must be at least 1");
  if (options_.checkpoint_every < 1) fail("checkpoint_every must be at least 1");
}

template <class T>
void Trainer<T>::check_data(const Features& X, const Features& Y, const char* what) const {
  auto fail = [&](const std::string& problem) {
    throw ShapeError(std::string("nn::Trainer: ") + what + ": " + problem);
  };
  if (X.rows() == 0) fail("X has no rows");
  if (X.rows() != Y.rows()) {
    fail("X has " + std::to_string(X.rows()) + " rows but Y has " + std::to_string(Y.rows()));
  }
  if (X.cols() != static_cast<std::size_t>(x_.shape().cols)) {
    fail("X has " + std::to_string(X.cols()) + " columns but input '" + x_.name() + "' is " +
         to_string(x_.shape()));
  }
  if (Y.cols() != static_cast<std::size_t>(y_.shape().cols)) {
    fail("Y has " + std::to_string(Y.cols()) + " columns but input '" + y_.name() + "' is " +
         to_string(y_.shape()));
  }
}

template <class T>
const History& Trainer<T>::fit(const Features& X, const Features& Y) {
  return run(X, Y, nullptr, nullptr);
}

template <class T>
const History& Trainer<T>::fit(const Features& X, const Features& Y, const Features& X_val,
                               const Features& Y_val) {
  return run(X, Y, &X_val, &Y_val);
}

namespace {

// feed(shard rows, batch rows).
using ShardFeed = std::function<void(std::span<const std::size_t>, std::span<const std::size_t>)>;

// Shard s of a batch of m rows: rows [m s / S, m (s + 1) / S).
struct ShardRows {
  std::size_t lo, hi;
};
ShardRows shard_rows(std::size_t m, std::size_t s, std::size_t shards) {
  return {m * s / shards, m * (s + 1) / shards};
}

// One shard's part of a step in one process: loss += share * shard_loss
// and each gradient likewise, through accumulate_shard (shard_group.hpp),
// which a group's reduce_sum also uses, so that every path rounds alike (a
// fused multiply-add in one and not the other would change the bits).
template <class T>
void add_shard(std::vector<Matrix<T>>& sums, double& loss, double shard_loss,
               std::span<const Matrix<T>* const> gradients, double share, bool first) {
  accumulate_shard<double>(std::span(&loss, 1), std::span(&shard_loss, 1), share, first);
  for (std::size_t k = 0; k < sums.size(); ++k) {
    const Matrix<T>& g = *gradients[k];
    if (first) sums[k].resize(g.rows(), g.cols());
    accumulate_shard<T>(std::span(sums[k].data(), std::size_t(g.size())),
                        std::span(g.data(), std::size_t(g.size())), static_cast<T>(share), first);
  }
}

// A shard's gradients end to end, each in storage order, and back into
// matrices shaped as the parameters: what reduce_sum sums.
template <class T>
void flatten(std::span<const Matrix<T>* const> gradients, std::vector<T>& flat) {
  std::size_t at = 0;
  for (const Matrix<T>* g : gradients) {
    std::memcpy(flat.data() + at, g->data(), std::size_t(g->size()) * sizeof(T));
    at += std::size_t(g->size());
  }
}
template <class T>
void unflatten(std::span<const T> flat, const std::vector<Node>& parameters, std::vector<Matrix<T>>& gradients) {
  std::size_t at = 0;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    Matrix<T>& g = gradients[k];
    g.resize(parameters[k].shape().rows, parameters[k].shape().cols);
    std::memcpy(g.data(), flat.data() + at, std::size_t(g.size()) * sizeof(T));
    at += std::size_t(g.size());
  }
}

// Runs the graph on shard rows already fed; returns its loss and points
// `gradients` at its gradients' values.
template <class T>
double run_shard(Executor<T>& ex, Optimizer& optimizer, std::vector<const Matrix<T>*>& gradients) {
  ex.compute({}, optimizer.fetches());
  gradients.clear();
  for (const Node& g : optimizer.gradients()) gradients.push_back(&ex.value(g));
  return static_cast<double>(ex.value(optimizer.loss())(0, 0));
}

// One batch cut into shards, all computed here; returns its loss.
template <class T>
double local_shards(Executor<T>& ex, Optimizer& optimizer, std::span<const std::size_t> batch_rows,
                    std::size_t shards, const ShardFeed& feed, std::vector<Matrix<T>>& sums) {
  const std::size_t m = batch_rows.size();
  std::vector<const Matrix<T>*> gradients;
  double loss = 0;
  bool first = true;
  for (std::size_t s = 0; s < shards; ++s) {
    const auto [lo, hi] = shard_rows(m, s, shards);
    if (hi == lo) continue;  // a batch smaller than the shards leaves some empty
    feed(batch_rows.subspan(lo, hi - lo), batch_rows);
    const double shard_loss = run_shard(ex, optimizer, gradients);
    add_shard<T>(sums, loss, shard_loss, gradients, double(hi - lo) / double(m), first);
    first = false;
  }
  return loss;
}

// One batch across a group: this rank's shard computed here, and every
// rank's loss and gradients weighted by their shares and added in rank order
// by the group's reduce_sum, with the arithmetic of local_shards (an empty
// shard weighs 0, and is left out as there); returns the batch's loss.
// With `buckets`, each bucket of gradients is summed as soon as backward
// has finished it (detail::BucketedStep); without, all of them once
// backward is done. The bits are the same.
template <class T>
double group_shards(Executor<T>& ex, Optimizer& optimizer, std::span<const std::size_t> batch_rows,
                    ShardGroup& group, const ShardFeed& feed, std::vector<Matrix<T>>& sums, std::vector<T>& flat,
                    detail::BucketedStep<T>* buckets) {
  const std::size_t m = batch_rows.size(), shards = std::size_t(group.size());
  const auto [lo, hi] = shard_rows(m, std::size_t(group.rank()), shards);
  const double share = double(hi - lo) / double(m);
  if (buckets) {
    if (hi > lo) feed(batch_rows.subspan(lo, hi - lo), batch_rows);
    return buckets->run(group, hi > lo, share, sums);
  }
  std::size_t size = 0;
  for (const Node& p : optimizer.parameters()) size += std::size_t(p.shape().rows) * std::size_t(p.shape().cols);
  flat.resize(size);
  double loss = 0;
  if (hi > lo) {
    feed(batch_rows.subspan(lo, hi - lo), batch_rows);
    std::vector<const Matrix<T>*> gradients;
    loss = run_shard(ex, optimizer, gradients);
    flatten<T>(gradients, flat);
  }
  group.reduce_sum(std::span(&loss, 1), share);
  group.reduce_sum(std::span<T>(flat), static_cast<T>(share));
  unflatten<T>(flat, optimizer.parameters(), sums);
  return loss;
}

}  // namespace

// One epoch over `rows`, in their order; returns the mean loss, each batch's
// loss weighted by its rows.
template <class T>
double run_batches(Executor<T>& ex, Optimizer& optimizer, std::span<const std::size_t> rows,
                   const BatchLoop& loop, const std::function<void(std::span<const std::size_t>)>& feed,
                   const std::function<void(std::size_t)>& after) {
  return run_batches<T>(
      ex, optimizer, rows, loop, [&](std::span<const std::size_t> shard, std::span<const std::size_t>) { feed(shard); },
      after);
}

template <class T>
double run_batches(Executor<T>& ex, Optimizer& optimizer, std::span<const std::size_t> rows,
                   const BatchLoop& loop, const ShardFeed& feed, const std::function<void(std::size_t)>& after) {
  const std::size_t n = rows.size(), size = loop.batch_size;
  if (size == 0) throw Error(loop.who + ": batch_size must be at least 1");
  const std::size_t shards = shard_count(loop);
  const std::size_t batches = (n + size - 1) / size;
  std::vector<Matrix<T>> sums(optimizer.parameters().size());
  std::vector<T> flat;  // a group's values to sum, storage kept from batch to batch
  std::optional<detail::BucketedStep<T>> buckets;  // a group's, unless loop.bucket_bytes is 0
  if (loop.group && shards > 1 && loop.bucket_bytes > 0) buckets.emplace(ex, optimizer, loop.bucket_bytes);
  double total = 0;
  for (std::size_t start = 0; start < n; start += size) {
    const std::span<const std::size_t> batch_rows = rows.subspan(start, std::min(size, n - start));
    try {
      if (shards == 1) {
        feed(batch_rows, batch_rows);
        const std::size_t next = start + batch_rows.size();
        const std::span<const std::size_t> next_rows = rows.subspan(next, std::min(size, n - next));
        // Two references: small enough for std::function to hold without
        // allocating, so a step still allocates nothing.
        const auto read_next = [&loop, &next_rows] { loop.read_ahead(next_rows); };
        total += optimizer.step(ex, {}, loop.read_ahead && next < n ? std::function<void()>(read_next)
                                                                   : std::function<void()>()) *
                 double(batch_rows.size());
      } else {
        const double loss = loop.group ? group_shards(ex, optimizer, batch_rows, *loop.group, feed, sums, flat,
                                                                 buckets ? &*buckets : nullptr)
                                       : local_shards(ex, optimizer, batch_rows, shards, feed, sums);
        optimizer.apply_gradients(ex, sums);
        total += loss * double(batch_rows.size());
      }
    } catch (const ExecutionError& e) {
      throw ExecutionError(loop.who + ": epoch " + std::to_string(loop.epoch) + ", batch " +
                           std::to_string(start / size + 1) + " of " + std::to_string(batches) + ": " +
                           e.what());
    }
    if (after) after(start + batch_rows.size());
  }
  return total / double(n);
}

template <class T>
double Trainer<T>::train_epoch(const Features& X, const Features& Y, std::vector<std::size_t>& rows) {
  const int epoch = epochs_done() + 1;
  if (options_.shuffle) {
    NumpyRandom rng(stream_seed(options_.seed, static_cast<std::uint64_t>(epoch)));
    rng.shuffle(std::span<std::size_t>(rows));
  }
  const std::size_t n = rows.size();
  // A batch's rows are read into the inputs between the previous step's
  // backward and its update (BatchLoop::read_ahead): the threads are still
  // awake there, and the reads (a system call and cache misses an image
  // from a file) are shared by them. `read` is the batch read that way.
  std::span<const std::size_t> read;
  const auto gather = [&](std::span<const std::size_t> batch_rows) {
    ex_.within([&] {
      X.gather(batch_rows, ex_.input(x_));
      Y.gather(batch_rows, ex_.input(y_));
    });
  };
  const double loss = run_batches<T>(
      ex_, optimizer_, rows,
      {.who = "nn::Trainer",
       .epoch = epoch,
       .batch_size = options_.batch_size,
       .shards = options_.shards,
       .group = options_.group,
       .bucket_bytes = options_.bucket_bytes,
       .read_ahead =
           [&](std::span<const std::size_t> next) {
             gather(next);
             read = next;
           }},
      [&](std::span<const std::size_t> batch_rows) {
        if (read.data() != batch_rows.data() || read.size() != batch_rows.size()) gather(batch_rows);
        read = {};
        // After the previous update: the count this step's dropout draws from.
        if (step_) ex_.input(*step_).setConstant(1, 1, static_cast<T>(optimizer_.steps()));
      },
      [&](std::size_t done) {
        if (progress_) progress_({epoch, done, n});
      });
  optimizer_.epoch_ends(n);
  return loss;
}

template <class T>
double Trainer<T>::mean_loss(const Features& X, const Features& Y, std::span<const std::size_t> rows) {
  double total = 0;
  const std::size_t size = options_.batch_size;
  for (std::size_t start = 0; start < rows.size(); start += size) {
    std::span<const std::size_t> batch_rows = rows.subspan(start, std::min(size, rows.size() - start));
    ex_.within([&] {
      X.gather(batch_rows, ex_.input(x_));
      Y.gather(batch_rows, ex_.input(y_));
    });
    if (step_) ex_.input(*step_).setConstant(1, 1, T(-1));  // dropout off
    ex_.compute({}, {optimizer_.loss()});
    total += static_cast<double>(ex_.value(optimizer_.loss())(0, 0)) * double(batch_rows.size());
  }
  return total / double(rows.size());
}

template <class T>
double Trainer<T>::evaluate(const Features& X, const Features& Y) {
  check_data(X, Y, "evaluate");
  std::vector<std::size_t> rows(X.rows());
  std::iota(rows.begin(), rows.end(), 0);
  return mean_loss(X, Y, rows);
}

// Counts epochs without an improvement larger than tol; true when it is time
// to stop. Keeps the best parameters when validating.
template <class T>
bool Trainer<T>::stopping_rule(double metric, bool on_validation) {
  if (metric < best_ - options_.tol) {
    no_improvement_ = 0;
  } else {
    ++no_improvement_;
  }
  if (metric < best_) {
    best_ = metric;
    if (on_validation && options_.early_stopping && options_.restore_best) {
      best_parameters_.clear();
      for (const Node& p : kept_parameters()) best_parameters_.push_back(ex_.value(p));
    }
  }
  return options_.early_stopping && no_improvement_ >= options_.patience;
}

// The rows trained on and the rows validated on: all of X_val's, or
// validation_fraction of X's, drawn from the seed alone (the same on every
// resume); both sorted.
template <class T>
auto Trainer<T>::split_rows(const Features& X, const Features* X_val) const -> Rows {
  Rows r;
  r.train.resize(X.rows());
  std::iota(r.train.begin(), r.train.end(), 0);
  if (X_val) {
    r.validation.resize(X_val->rows());
    std::iota(r.validation.begin(), r.validation.end(), 0);
    return r;
  }
  if (options_.validation_fraction <= 0) return r;
  const auto n_val = static_cast<std::size_t>(std::ceil(options_.validation_fraction * double(X.rows())));
  if (n_val >= X.rows()) {
    throw Error("nn::Trainer: validation_fraction " + fixed(options_.validation_fraction, 3) + " of " +
                std::to_string(X.rows()) + " rows leaves no rows to train on");
  }
  NumpyRandom rng(stream_seed(options_.seed, 0));
  rng.shuffle(std::span<std::size_t>(r.train));
  const auto cut = r.train.begin() + static_cast<std::ptrdiff_t>(n_val);
  r.validation.assign(r.train.begin(), cut);
  r.train.erase(r.train.begin(), cut);
  std::sort(r.validation.begin(), r.validation.end());
  std::sort(r.train.begin(), r.train.end());
  return r;
}

// The loss stopped improving: an adaptive schedule lowers the rate and
// trains on, until the rate is too small; any other stops the run.
template <class T>
void Trainer<T>::stalled(bool on_validation) {
  const bool lowered = optimizer_.plateau();
  if (lowered) {
    no_improvement_ = 0;
  } else {
    history_.stopped_early = true;
  }
  if (options_.verbose > 0) {
    const std::string what = std::string(on_validation ? "Validation" : "Training") +
                             " loss did not improve more than tol=" + fixed(options_.tol, 6) + " for " +
                             std::to_string(options_.patience) + " consecutive epochs.";
    const std::string then =
        lowered ? " Setting learning rate to " + fixed(optimizer_.learning_rate(), 6) : " Stopping.";
    dagrad::detail::write_whole(*out_, what + then + "\n");
  }
}

template <class T>
const History& Trainer<T>::run(const Features& X, const Features& Y, const Features* X_val,
                               const Features* Y_val) {
  check_data(X, Y, "fit");
  if (X_val) check_data(*X_val, *Y_val, "fit (validation data)");
  const Rows split = split_rows(X, X_val);
  const Features& Xv = X_val ? *X_val : X;
  const Features& Yv = Y_val ? *Y_val : Y;
  const bool validating = !split.validation.empty();
  held_out_ = X_val ? std::vector<std::size_t>{} : split.validation;

  while (!history_.stopped_early && epochs_done() < options_.epochs) {
    // Each epoch shuffles the rows in their first order, so an epoch's batches
    // depend on the seed and the epoch alone.
    std::vector<std::size_t> rows = split.train;
    const double loss = train_epoch(X, Y, rows);
    history_.loss.push_back(loss);
    const int epoch = epochs_done();
    if (options_.verbose > 0) {
      dagrad::detail::write_whole(*out_, "Epoch " + std::to_string(epoch) + ", loss = " + fixed(loss, 8) + "\n");
    }
    double metric = loss;
    if (validating) {
      metric = mean_loss(Xv, Yv, split.validation);
      history_.validation_loss.push_back(metric);
      if (options_.verbose > 0) dagrad::detail::write_whole(*out_, "Validation loss: " + fixed(metric, 8) + "\n");
    }
    if (metrics_) {
      record_metrics(metrics_({.epoch = epoch,
                               .loss = loss,
                               .validation_loss = validating ? std::optional<double>(metric) : std::nullopt,
                               .X_val = validating ? &Xv : nullptr,
                               .Y_val = validating ? &Yv : nullptr,
                               .validation_rows = split.validation}));
    }
    if (stopping_rule(metric, validating)) stalled(validating);
    const bool writes = !options_.group || options_.group->rank() == 0;  // one copy, from rank 0
    if (!options_.checkpoint.empty() && writes &&
        (epoch % options_.checkpoint_every == 0 || history_.stopped_early || epoch == options_.epochs)) {
      save_checkpoint(options_.checkpoint);
    }
  }
  if (history_.stopped_early && !best_parameters_.empty()) {
    const std::vector<Node> kept = kept_parameters();
    for (std::size_t k = 0; k < best_parameters_.size(); ++k) ex_.set(kept[k], best_parameters_[k]);
  }
  return history_;
}

// Keeps an epoch's metrics, each returned every epoch from the first, and
// prints them with verbose.
template <class T>
void Trainer<T>::record_metrics(const Metrics& values) {
  const std::size_t epoch = history_.loss.size();
  std::set<std::string> seen;
  for (const auto& [name, value] : values) {
    if (name.empty()) throw Error("nn::Trainer: a metric has an empty name (epoch " + std::to_string(epoch) + ")");
    if (!seen.insert(name).second) {
      throw Error("nn::Trainer: metric '" + name + "' is returned twice at epoch " + std::to_string(epoch));
    }
    const auto it = history_.metrics.find(name);
    if ((it == history_.metrics.end() ? 0 : it->second.size()) + 1 != epoch) {
      throw Error("nn::Trainer: metric '" + name + "' is returned at epoch " + std::to_string(epoch) +
                  " but not at every epoch before it; return each metric from the first epoch on");
    }
  }
  for (const auto& [name, history] : history_.metrics) {
    if (!seen.count(name)) {
      throw Error("nn::Trainer: metric '" + name + "' was returned before epoch " + std::to_string(epoch) +
                  " but not at it; return each metric every epoch");
    }
  }
  for (const auto& [name, value] : values) {
    history_.metrics[name].push_back(value);
    if (options_.verbose > 0) {
      std::string label = name;
      label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
      dagrad::detail::write_whole(*out_, label + ": " + fixed(value, 8) + "\n");
    }
  }
}

template <class T>
std::vector<Node> Trainer<T>::kept_parameters() const {
  return saved_parameters(optimizer_);
}

template <class T>
NamedTensors checkpoint_tensors(const Executor<T>& ex, const Optimizer& optimizer, const std::string& path) {
  NamedTensors tensors;
  for (const Node& p : saved_parameters(optimizer)) {
    if (!ex.has_value(p)) throw Error(path + ": cannot save '" + p.name() + "', which has no value");
    tensors.emplace_back(p.name(), ex.value(p).template cast<double>());
  }
  for (auto& t : optimizer.state()) tensors.push_back(std::move(t));
  return tensors;
}

void check_checkpoint(const Optimizer& optimizer, const NamedTensors& tensors, const std::string& path,
                      const std::set<std::string>& loop_names) {
  std::map<std::string, const Matrix<double>*> by_name;
  for (const auto& [name, value] : tensors) by_name[name] = &value;
  const std::vector<Node> kept = saved_parameters(optimizer);
  for (const Node& p : kept) {
    auto it = by_name.find(p.name());
    if (it == by_name.end()) {
      throw DataError(path + ": holds no parameter '" + p.name() + "' (a checkpoint of another network?)");
    }
    const Matrix<double>& v = *it->second;
    if (shape_of(v) != p.shape()) {
      throw DataError(path + ": parameter '" + p.name() + "' is " + to_string(shape_of(v)) +
                      " in the checkpoint but " + to_string(p.shape()) + " in this network");
    }
    for (Eigen::Index k = 0; k < v.size(); ++k) {
      if (!std::isfinite(v.data()[k])) {
        throw DataError(path + ": parameter '" + p.name() + "' holds a value that is not finite at row " +
                        std::to_string(k / v.cols()) + ", column " + std::to_string(k % v.cols()));
      }
    }
  }
  // Any name that is not a parameter, the optimizer's or the loop's is a
  // file of another run, or an edited one, and is refused.
  std::set<std::string> known = loop_names;
  for (const Node& p : kept) known.insert(p.name());
  for (const auto& t : optimizer.state()) {
    if (!by_name.count(t.first)) {
      throw DataError(path + ": holds no state '" + t.first + "' (a checkpoint of another optimizer or network?)");
    }
    known.insert(t.first);
  }
  for (const auto& [name, value] : tensors) {
    if (known.count(name)) continue;
    if (name.rfind("state:", 0) != 0) {
      throw DataError(path + ": holds parameter '" + name + "' (" + to_string(shape_of(value)) +
                      "), which this network does not train");
    }
    throw DataError(path + ": holds state '" + name + "', which a checkpoint of this network and nn::" +
                    optimizer.name() + " never holds");
  }
}

template <class T>
void restore_checkpoint(Executor<T>& ex, Optimizer& optimizer, const NamedTensors& tensors, const std::string& path) {
  try {
    optimizer.set_state<T>(tensors);  // checks all of its own before changing anything
  } catch (const DataError& e) {
    throw DataError(path + ": " + e.what());
  }
  const std::vector<Node> kept = saved_parameters(optimizer);
  for (const auto& [name, value] : tensors) {
    for (const Node& p : kept) {
      if (p.name() == name) ex.set(p, value.template cast<T>());
    }
  }
}

template <class T>
void Trainer<T>::save_checkpoint(const std::string& path) const {
  NamedTensors tensors = checkpoint_tensors(ex_, optimizer_, path);
  const std::string s = state_prefix;
  tensors.emplace_back(s + "seed", scalar(double(options_.seed)));
  tensors.emplace_back(s + "epochs_done", scalar(double(epochs_done())));
  tensors.emplace_back(s + "stopped_early", scalar(history_.stopped_early ? 1.0 : 0.0));
  tensors.emplace_back(s + "best", scalar(best_));
  tensors.emplace_back(s + "no_improvement", scalar(double(no_improvement_)));
  if (!history_.loss.empty()) tensors.emplace_back(s + "loss", row_of(history_.loss));
  if (!history_.validation_loss.empty()) {
    tensors.emplace_back(s + "validation_loss", row_of(history_.validation_loss));
  }
  for (const auto& [name, values] : history_.metrics) tensors.emplace_back(s + metric_prefix + name, row_of(values));
  const std::vector<Node> kept = kept_parameters();
  for (std::size_t k = 0; k < best_parameters_.size(); ++k) {
    tensors.emplace_back(s + "best/" + kept[k].name(),
                         best_parameters_[k].template cast<double>());
  }
  save_tensors(tensors, path);
}

// The names of the loop's own tensors a checkpoint may hold.
template <class T>
std::set<std::string> Trainer<T>::loop_state_names() const {
  const std::string s = state_prefix;
  std::set<std::string> known;
  for (const char* name : {"seed", "epochs_done", "stopped_early", "best", "no_improvement", "loss", "validation_loss"}) {
    known.insert(s + name);
  }
  for (const Node& p : kept_parameters()) known.insert(s + "best/" + p.name());
  return known;
}

template <class T>
void Trainer<T>::load_checkpoint(const std::string& path) {
  restore(load_tensors(path), path);
}

template <class T>
void Trainer<T>::parse_checkpoint(std::span<const std::uint8_t> bytes, const std::string& name) {
  restore(parse_tensors(bytes, name), name);
}

template <class T>
void Trainer<T>::restore(const NamedTensors& tensors, const std::string& path) {
  auto fail = [&](const std::string& problem) -> void { throw DataError(path + ": " + problem); };
  std::map<std::string, const Matrix<double>*> by_name;
  for (const auto& [name, value] : tensors) by_name[name] = &value;
  const std::vector<Node> params = kept_parameters();
  // Every check before any change: a refused checkpoint leaves the run as it was.
  auto get = [&](const std::string& name, Shape shape, const std::string& what) -> const Matrix<double>& {
    auto it = by_name.find(name);
    if (it == by_name.end()) fail("holds no " + what + " '" + name + "' (a checkpoint of another network?)");
    if (shape_of(*it->second) != shape) {
      fail(what + " '" + name + "' is " + to_string(shape_of(*it->second)) + " in the checkpoint but " +
           to_string(shape) + " in this network");
    }
    return *it->second;
  };
  // A parameter's value, checked finite as every trained value is.
  auto value = [&](const std::string& name, Shape shape, const std::string& what) -> const Matrix<double>& {
    const Matrix<double>& v = get(name, shape, what);
    for (Eigen::Index k = 0; k < v.size(); ++k) {
      if (!std::isfinite(v.data()[k])) {
        fail(what + " '" + name + "' holds a value that is not finite at row " + std::to_string(k / v.cols()) +
             ", column " + std::to_string(k % v.cols()));
      }
    }
    return v;
  };
  // The metrics a program returned: any name, one value an epoch.
  std::set<std::string> loop_names = loop_state_names();
  std::vector<std::string> metric_names;
  for (const auto& [name, value] : tensors) {
    if (name.rfind(std::string(state_prefix) + metric_prefix, 0) == 0) {
      loop_names.insert(name);
      metric_names.push_back(name);
    }
  }
  check_checkpoint(optimizer_, tensors, path, loop_names);
  const std::string s = state_prefix;
  auto count = [&](const std::string& what, double most) {
    const double v = get(s + what, {1, 1}, "state")(0, 0);
    if (!(v >= 0 && v == std::floor(v) && v <= most)) {
      fail("'" + s + what + "' is " + fixed(v, 1) + ", not a count up to " + fixed(most, 0));
    }
    return static_cast<std::uint32_t>(v);
  };
  const std::uint32_t seed = count("seed", 4294967295.0), epochs = count("epochs_done", 2147483647.0),
                      stopped = count("stopped_early", 1), no_improvement = count("no_improvement", epochs);
  const double best = get(s + "best", {1, 1}, "state")(0, 0);
  if (std::isnan(best)) fail("'" + s + "best' is not a number");
  History history;
  history.stopped_early = stopped != 0;
  if (epochs > 0) {
    const Matrix<double>& l = get(s + "loss", {1, Dim(epochs)}, "state");
    history.loss.assign(l.data(), l.data() + l.size());
    if (by_name.count(s + "validation_loss")) {
      const Matrix<double>& v = get(s + "validation_loss", {1, Dim(epochs)}, "state");
      history.validation_loss.assign(v.data(), v.data() + v.size());
    }
  } else if (by_name.count(s + "loss") || by_name.count(s + "validation_loss") || !metric_names.empty()) {
    fail("holds a loss history, but '" + s + "epochs_done' is 0");
  }
  for (const std::string& name : metric_names) {
    const Matrix<double>& m = get(name, {1, Dim(epochs)}, "metric");
    history.metrics[name.substr(s.size() + std::string_view(metric_prefix).size())].assign(m.data(),
                                                                                        m.data() + m.size());
  }
  std::vector<Matrix<T>> best_parameters;
  if (by_name.count(s + "best/" + params.front().name())) {
    for (const Node& p : params) best_parameters.push_back(value(s + "best/" + p.name(), p.shape(), "state").template cast<T>());
  }
  restore_checkpoint(ex_, optimizer_, tensors, path);
  options_.seed = seed;
  history_ = std::move(history);
  best_ = best;
  no_improvement_ = static_cast<int>(no_improvement);
  best_parameters_ = std::move(best_parameters);
}

template <class T>
History fit(Executor<T>& ex, Optimizer& optimizer, Node x, Node y, const Features& X,
            const Features& Y, TrainOptions options) {
  Trainer<T> trainer(ex, optimizer, x, y, std::move(options));
  return trainer.fit(X, Y);
}

template NamedTensors checkpoint_tensors<float>(const Executor<float>&, const Optimizer&, const std::string&);
template NamedTensors checkpoint_tensors<double>(const Executor<double>&, const Optimizer&, const std::string&);
template void restore_checkpoint<float>(Executor<float>&, Optimizer&, const NamedTensors&, const std::string&);
template void restore_checkpoint<double>(Executor<double>&, Optimizer&, const NamedTensors&, const std::string&);
template class Trainer<float>;
template class Trainer<double>;
template double run_batches<float>(Executor<float>&, Optimizer&, std::span<const std::size_t>, const BatchLoop&,
                                   const std::function<void(std::span<const std::size_t>)>&,
                                   const std::function<void(std::size_t)>&);
template double run_batches<double>(Executor<double>&, Optimizer&, std::span<const std::size_t>,
                                    const BatchLoop&, const std::function<void(std::span<const std::size_t>)>&,
                                    const std::function<void(std::size_t)>&);
template double run_batches<float>(Executor<float>&, Optimizer&, std::span<const std::size_t>, const BatchLoop&,
                                   const ShardFeed&, const std::function<void(std::size_t)>&);
template double run_batches<double>(Executor<double>&, Optimizer&, std::span<const std::size_t>, const BatchLoop&,
                                    const ShardFeed&, const std::function<void(std::size_t)>&);
template History fit<float>(Executor<float>&, Optimizer&, Node, Node, const Features&,
                            const Features&, TrainOptions);
template History fit<double>(Executor<double>&, Optimizer&, Node, Node, const Features&,
                             const Features&, TrainOptions);

}  // namespace dagrad::nn
