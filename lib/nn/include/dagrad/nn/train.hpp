// A training loop for any graph: shuffled mini-batches of row-major data, validation,
// early stopping, progress, and checkpoints from which training resumes with the same bits.
//   nn::Trainer<float> trainer(ex, opt, x, y, {.epochs = 10, .batch_size = 64, .seed = 1});
//   trainer.fit(Features(X), Features(Y));  // X: one example a row; Y: its targets
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>
#include <dagrad/io/features.hpp>
#include <dagrad/nn/optim.hpp>
#include <dagrad/nn/shard_group.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dagrad::nn {

// TrainOptions::bucket_bytes's default: two buckets for the gradients of a
// 784-1024-1024-10 network in float, the last two layers' and the first's
// (docs/scaling.md, "Buckets").
inline constexpr std::size_t default_bucket_bytes = std::size_t(1) << 20;

struct TrainOptions {
  int epochs = 10;            // the epoch fit trains up to (counting epochs done before a resume)
  std::size_t batch_size = 32;
  bool shuffle = true;
  std::uint32_t seed = 0;     // the shuffles and the held-out rows
  // Rows held out of the training data to validate on, when fit is given
  // no validation data; 0 holds out none.
  double validation_fraction = 0;
  // Stop once the validation loss (the training loss without validation)
  // has not fallen by more than tol for `patience` epochs in a row; with an
  // adaptive schedule (nn::adaptive), lower the rate instead while it can.
  bool early_stopping = false;
  int patience = 10;
  double tol = 1e-4;
  // With early stopping on validation data: end with the parameters of the
  // epoch whose validation loss was lowest.
  bool restore_best = true;
  int verbose = 0;            // > 0: "Epoch k, loss = %.8f" after every epoch
  std::string checkpoint;     // a model file rewritten every checkpoint_every epochs
  int checkpoint_every = 1;
  // Each batch cut into this many contiguous shards, run one after another
  // and their gradients summed in shard order, each weighted by its share
  // of the batch's rows: what the ranks of a data-parallel run compute, so
  // that one process can reproduce them (1: the batch at once).
  int shards = 1;
  // The processes training together (not owned): each computes only its
  // rank's shard of every batch, and the group sums the shards' gradients
  // and losses (ShardGroup::reduce_sum) as `shards` does in one process, so
  // the bits are the same. shards must then be 1 (take the group's size) or
  // the group's size. Only rank 0 writes checkpoints.
  ShardGroup* group = nullptr;
  // With a group: its members sum the gradients in buckets of about this
  // many bytes, in the order backward finishes them, each as soon as its
  // last gradient is computed, while backward computes the rest (the graph
  // then runs on a thread of its own; group calls stay on the caller's). 0
  // sums them all once backward is done. The bits are the same either way.
  std::size_t bucket_bytes = default_bucket_bytes;
};

// One epoch's pass of optimizer steps over `rows`, in their order,
// batch_size rows at a time: the batch loop of Trainer and of
// MLPClassifier. For each batch, feed(batch rows) fills the graph's inputs,
// the optimizer takes a step, and after(rows done so far) runs (progress
// bars). Returns the mean loss, the batches' losses weighted by their rows.
// An ExecutionError (a NaN check_numerics found, say) comes back prefixed
// with "<who>: epoch <epoch>, batch b of B: ".
// With shards > 1, each batch's rows are cut into `shards` contiguous runs
// (shard s: rows [n s / S, n (s + 1) / S) of the batch's n); feed() and a
// forward and backward run happen per shard, and the step uses
//   g = sum over s, in order, of (n_s / n) g_s    (and the loss likewise),
// accumulated by accumulate_shard() (shard_group.hpp). With a group, this
// process computes only shard rank() of each batch (feed() sees only its
// rows), and the group's reduce_sum weights and adds the shards' losses and
// gradients with the same function in the same order: every member takes
// the step one process with shards = size() would.
struct BatchLoop {
  std::string who;
  int epoch = 1;
  std::size_t batch_size = 32;
  int shards = 1;
  ShardGroup* group = nullptr;  // shards: 1 or group->size()
  std::size_t bucket_bytes = default_bucket_bytes;  // TrainOptions::bucket_bytes
  // Without shards: called with the next batch's rows once a step's forward
  // and backward are done, before its update (Optimizer::step's between),
  // to read that batch while the update leaves threads idle; feed is still
  // called before each step, and may skip what read_ahead did.
  std::function<void(std::span<const std::size_t>)> read_ahead;
};

template <class T>
double run_batches(Executor<T>& ex, Optimizer& optimizer, std::span<const std::size_t> rows,
                   const BatchLoop& loop, const std::function<void(std::span<const std::size_t>)>& feed,
                   const std::function<void(std::size_t)>& after = {});
// As above, feed(rows, batch) also seeing the whole batch the rows are a
// shard of (the same span without shards): for a loss whose terms depend on
// the batch's size, such as an L2 penalty scaled by 1 / its rows.
template <class T>
double run_batches(Executor<T>& ex, Optimizer& optimizer, std::span<const std::size_t> rows,
                   const BatchLoop& loop,
                   const std::function<void(std::span<const std::size_t>, std::span<const std::size_t>)>& feed,
                   const std::function<void(std::size_t)>& after = {});

// After each mini-batch, for progress bars.
struct TrainProgress {
  int epoch;  // 1-based
  std::size_t samples_done, samples_total;
};

struct History {
  std::vector<double> loss;             // each epoch's mean training loss
  std::vector<double> validation_loss;  // each epoch's, when there is validation data
  // Each epoch's value of every metric Trainer::set_metrics returned, by name.
  std::map<std::string, std::vector<double>> metrics;
  bool stopped_early = false;
  int epochs() const { return static_cast<int>(loss.size()); }
};

// What a program's metrics see after each epoch (Trainer::set_metrics):
// the epoch's losses and the data validated on, to score the model its own
// way (accuracy, say) with the trainer's executor.
struct EpochEnd {
  int epoch = 0;  // 1-based
  double loss = 0;
  std::optional<double> validation_loss;  // when there is validation data
  // The validation data: fit's X_val and Y_val, or X and Y themselves with
  // validation_rows the rows held out of them (validation_fraction); null
  // and empty without validation.
  const Features* X_val = nullptr;
  const Features* Y_val = nullptr;
  std::span<const std::size_t> validation_rows;
};
// A metric's name and its value for the epoch.
using Metrics = std::vector<std::pair<std::string, double>>;

template <class T>
class Trainer {
 public:
  // x and y are the graph's inputs for a batch of X's and Y's rows; the
  // optimizer's loss is what is minimized and reported.
  Trainer(Executor<T>& ex, Optimizer& optimizer, Node x, Node y, TrainOptions options = {});

  // Trains from the epochs done so far up to options.epochs (or an early
  // stop), holding out validation_fraction of the rows to validate on.
  const History& fit(const Features& X, const Features& Y);
  // As fit, validating on X_val and Y_val.
  const History& fit(const Features& X, const Features& Y, const Features& X_val,
                     const Features& Y_val);
  // The mean loss over all of X's rows, in batches, without training.
  double evaluate(const Features& X, const Features& Y);

  // Writes the parameters (the state parameters too: batch_norm's running
  // statistics), the optimizer's state and the loop's (epochs done,
  // seed, history, stopping-rule memory) to a model file, atomically.
  void save_checkpoint(const std::string& path) const;
  // Restores a checkpoint, so that the next fit continues as the run that
  // wrote it would have. Throws DataError naming the file and the parameter
  // or state tensor that is missing, has another shape (both shapes), holds
  // a value no run writes (not finite, not a count, a negative Adam v) or is
  // one this network and optimizer never write, and then changes nothing.
  void load_checkpoint(const std::string& path);
  // As load_checkpoint, from bytes in memory; `name` stands for the path in messages.
  void parse_checkpoint(std::span<const std::uint8_t> bytes, const std::string& name);

  const History& history() const { return history_; }
  int epochs_done() const { return history_.epochs(); }
  TrainOptions& options() { return options_; }

  // After each epoch's losses (before the stopping rule and the checkpoint):
  // metrics(epoch) returns named values, which History::metrics keeps, a
  // checkpoint saves, and verbose prints ("Validation accuracy: 0.98120000"
  // for "validation accuracy"). A metric must be returned every epoch from
  // the first; the names are free text. Runs on every rank of a group.
  //   trainer.set_metrics([&](const nn::EpochEnd& e) {
  //     return nn::Metrics{{"validation accuracy", accuracy(ex, *e.X_val, *e.Y_val, e.validation_rows)}}; });
  void set_metrics(std::function<Metrics(const EpochEnd&)> metrics) { metrics_ = std::move(metrics); }
  // The rows of X the last fit held out to validate on (validation_fraction),
  // in order: drawn from the seed alone, the same on every resume. Empty
  // when fit was given validation data, or none was held out.
  const std::vector<std::size_t>& held_out_rows() const { return held_out_; }

  void set_output(std::ostream* out) { out_ = out; }
  void set_progress(std::function<void(const TrainProgress&)> callback) { progress_ = std::move(callback); }

 private:
  const History& run(const Features& X, const Features& Y, const Features* X_val,
                     const Features* Y_val);
  double train_epoch(const Features& X, const Features& Y, std::vector<std::size_t>& rows);
  double mean_loss(const Features& X, const Features& Y, std::span<const std::size_t> rows);
  void check_data(const Features& X, const Features& Y, const char* what) const;
  bool stopping_rule(double metric, bool on_validation);
  void stalled(bool on_validation);
  struct Rows {
    std::vector<std::size_t> train, validation;
  };
  Rows split_rows(const Features& X, const Features* X_val) const;
  void record_metrics(const Metrics& values);
  std::set<std::string> loop_state_names() const;
  void restore(const NamedTensors& tensors, const std::string& path);
  // What a checkpoint and the best epoch keep: the optimizer's parameters,
  // then its state parameters.
  std::vector<Node> kept_parameters() const;

  Executor<T>& ex_;
  Optimizer& optimizer_;
  Node x_, y_;
  // The graph's "training_step" input (nn::dropout, nn::batch_norm), fed the optimizer's
  // step count while training and -1 while evaluating.
  std::optional<Node> step_;
  TrainOptions options_;
  History history_;
  double best_ = INFINITY;
  int no_improvement_ = 0;
  std::vector<Matrix<T>> best_parameters_;
  std::ostream* out_;
  std::function<void(const TrainProgress&)> progress_;
  std::function<Metrics(const EpochEnd&)> metrics_;
  std::vector<std::size_t> held_out_;
};

// Checkpoints of any training loop, the Trainer's or a program's own: the
// parameters' values by name and the optimizer's state(), to which a loop
// adds its own "state:<loop>/..." tensors (save_tensors writes them).
template <class T>
NamedTensors checkpoint_tensors(const Executor<T>& ex, const Optimizer& optimizer, const std::string& path);
// Checks, changing nothing, that a checkpoint holds every parameter (of its
// shape, finite) and every tensor of the optimizer's state, and nothing but
// those and `loop_names`; throws DataError naming `path` and the tensor.
void check_checkpoint(const Optimizer& optimizer, const NamedTensors& tensors, const std::string& path,
                      const std::set<std::string>& loop_names);
// After check_checkpoint: restores the optimizer's state (which checks its
// own values before changing anything), then the parameters' values.
template <class T>
void restore_checkpoint(Executor<T>& ex, Optimizer& optimizer, const NamedTensors& tensors, const std::string& path);

// Trains with a Trainer made for the call; returns its history.
template <class T>
History fit(Executor<T>& ex, Optimizer& optimizer, Node x, Node y, const Features& X,
            const Features& Y, TrainOptions options = {});

extern template NamedTensors checkpoint_tensors<float>(const Executor<float>&, const Optimizer&, const std::string&);
extern template NamedTensors checkpoint_tensors<double>(const Executor<double>&, const Optimizer&,
                                                        const std::string&);
extern template void restore_checkpoint<float>(Executor<float>&, Optimizer&, const NamedTensors&, const std::string&);
extern template void restore_checkpoint<double>(Executor<double>&, Optimizer&, const NamedTensors&,
                                                const std::string&);
extern template class Trainer<float>;
extern template class Trainer<double>;
extern template double run_batches<float>(Executor<float>&, Optimizer&, std::span<const std::size_t>,
                                          const BatchLoop&,
                                          const std::function<void(std::span<const std::size_t>)>&,
                                          const std::function<void(std::size_t)>&);
extern template double run_batches<double>(Executor<double>&, Optimizer&, std::span<const std::size_t>,
                                           const BatchLoop&,
                                           const std::function<void(std::span<const std::size_t>)>&,
                                           const std::function<void(std::size_t)>&);
extern template double run_batches<float>(
    Executor<float>&, Optimizer&, std::span<const std::size_t>, const BatchLoop&,
    const std::function<void(std::span<const std::size_t>, std::span<const std::size_t>)>&,
    const std::function<void(std::size_t)>&);
extern template double run_batches<double>(
    Executor<double>&, Optimizer&, std::span<const std::size_t>, const BatchLoop&,
    const std::function<void(std::span<const std::size_t>, std::span<const std::size_t>)>&,
    const std::function<void(std::size_t)>&);
extern template History fit<float>(Executor<float>&, Optimizer&, Node, Node, const Features&,
                                   const Features&, TrainOptions);
extern template History fit<double>(Executor<double>&, Optimizer&, Node, Node, const Features&,
                                    const Features&, TrainOptions);

}  // namespace dagrad::nn
