// Optimizers for any graph: built from the loss, they add the gradient nodes
// once; step() runs forward and backward and updates the parameters in place.
//   nn::Adam opt(loss, {.learning_rate = 1e-3});
//   double l = opt.step(ex, {{x, X}, {y, Y}});
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>
#include <dagrad/core/tensor.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dagrad::nn {

// Named float64 tensors: an optimizer's state, or a checkpoint's contents.
using NamedTensors = std::vector<std::pair<std::string, Matrix<double>>>;

// The learning rate as a function of a clock t that counts steps, epochs or
// samples (`unit`); t starts at 0, so every schedule starts at the initial rate.
// adaptive follows no clock: the training loop lowers its rate at a plateau
// (Optimizer::plateau).
struct Schedule {
  enum class Kind { constant, step, exponential, inverse_scaling, cosine, adaptive };
  enum class Unit { step, epoch, sample };
  Kind kind = Kind::constant;
  Unit unit = Unit::step;
  double gamma = 0.1;             // step, exponential: the factor per decay
  std::uint64_t step_size = 1;    // step: t's between two decays
  double power_t = 0.5;           // inverse_scaling
  std::uint64_t period = 1;       // cosine: the t at which it reaches the floor
  // cosine: the floor; adaptive: a plateau at or below this rate ends training
  double min_learning_rate = 0;
  double divisor = 5;             // adaptive: each plateau divides the rate by it

  // The learning rate at t, starting from learning_rate.
  double at(double learning_rate, std::uint64_t t) const;
};

Schedule constant_schedule();
// learning_rate * gamma^floor(t / step_size)
Schedule step_decay(std::uint64_t step_size, double gamma, Schedule::Unit unit = Schedule::Unit::epoch);
// learning_rate * gamma^t
Schedule exponential_decay(double gamma, Schedule::Unit unit = Schedule::Unit::epoch);
// learning_rate / (t + 1)^power_t: scikit-learn's invscaling, whose t counts
// the samples seen at the last epoch's end (a loop calls epoch_ends(n) after
// each epoch of n samples, as scikit-learn's iteration_ends(t_) does).
Schedule inverse_scaling(double power_t = 0.5, Schedule::Unit unit = Schedule::Unit::sample);
// min + (learning_rate - min) * (1 + cos(pi * min(t, period) / period)) / 2
Schedule cosine_decay(std::uint64_t period, double min_learning_rate = 0,
                      Schedule::Unit unit = Schedule::Unit::epoch);
// scikit-learn's adaptive: learning_rate until the training loop sees a
// plateau (scikit-learn: n_iter_no_change epochs without improvement) and
// calls Optimizer::plateau(), which divides the rate by `divisor` while it is
// above min_learning_rate, and otherwise says to stop. nn::Trainer calls it
// when early stopping would stop.
Schedule adaptive(double divisor = 5, double min_learning_rate = 1e-6);

struct SGDOptions {
  double learning_rate = 0.01;
  double momentum = 0;
  bool nesterov = false;
  double weight_decay = 0;  // adds weight_decay * w to the gradient (an L2 penalty)
  Schedule schedule = {};
  std::optional<double> clip_norm;  // scales gradients down to this global norm
};

struct AdamOptions {
  double learning_rate = 1e-3;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0;  // adds weight_decay * w to the gradient (an L2 penalty)
  Schedule schedule = {};
  std::optional<double> clip_norm;
};

struct AdamWOptions {
  double learning_rate = 1e-3;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0.01;  // decoupled: w -= learning_rate * weight_decay * w
  Schedule schedule = {};
  std::optional<double> clip_norm;
};

// What the three optimizers share: the parameters, their gradient nodes, the
// step count, the schedule's clock, clipping and the per-parameter state.
// Updates are element-wise, shared among the executor's threads in blocks
// fixed by each parameter's size, and the global norm is summed in a fixed
// order, so the results are the same bits at any thread count.
class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(Optimizer&&) noexcept;
  Optimizer& operator=(Optimizer&&) = delete;
  Optimizer(const Optimizer&) = delete;

  // Runs forward and backward (feeds as for Executor::run) and updates every
  // parameter; returns the loss before the update.
  template <class T>
  double step(Executor<T>& ex, const std::vector<Feed<T>>& feeds = {});
  // The same, calling between() once forward and backward are done and
  // before any parameter changes: a training loop refills the inputs there
  // for its next step (nn::BatchLoop::read_ahead), while the update leaves
  // threads idle.
  template <class T>
  double step(Executor<T>& ex, const std::vector<Feed<T>>& feeds, const std::function<void()>& between);
  // Updates from the gradients ex computed last (after ex.compute with
  // gradients() among the fetches): for a caller that runs the graph itself.
  template <class T>
  void apply_gradients(Executor<T>& ex);
  // Updates from these gradients, one per parameter in parameters() order
  // and of its shape: gradients combined elsewhere (the weighted sum of a
  // batch's shards, say). Both overloads throw ShapeError naming the first
  // parameter whose gradient, value or state does not fit it.
  template <class T>
  void apply_gradients(Executor<T>& ex, const std::vector<Matrix<T>>& gradients);

  Node loss() const { return loss_; }
  const std::vector<Node>& parameters() const { return parameters_; }
  // How many numbers the parameters hold, every element counted.
  std::size_t parameter_count() const;
  const std::vector<Node>& gradients() const { return gradients_; }
  // State the loss's ops keep rather than learn (batch_norm's running
  // statistics, Op::state_inputs): each parameter, and the node whose value
  // it takes after each step, in the same order. step() and both
  // apply_gradients() copy those values in, from what the executor computed
  // last; with shards, the last shard this process computed.
  const std::vector<Node>& state_parameters() const { return state_parameters_; }
  const std::vector<Node>& state_updates() const { return state_updates_; }
  // loss, the gradients, the state updates, then any also_fetch() added:
  // what a step fetches.
  const std::vector<Node>& fetches() const { return fetches_; }
  // Makes each step fetch `node` too, so the caller can read its value
  // afterwards (Executor::value): a value a step does not fetch may be
  // overwritten or never stored (ExecutorOptions::plan_memory, fuse).
  void also_fetch(Node node);
  const std::string& name() const { return name_; }  // "sgd", "adam", "adamw"

  std::uint64_t steps() const { return steps_; }
  // The rate the next step uses: the schedule at its clock.
  double learning_rate() const;
  // The rate the schedule starts from; set_learning_rate changes it (a
  // caller that lowers the rate when progress stalls).
  double initial_learning_rate() const { return learning_rate_; }
  void set_learning_rate(double learning_rate);
  const Schedule& schedule() const { return schedule_; }
  std::uint64_t schedule_time() const { return schedule_time_; }
  // Advances an epoch- or sample-counted schedule (a training loop calls it
  // after each epoch); a step-counted one advances in step().
  void epoch_ends(std::uint64_t samples);
  // The training loop's progress has stalled. An adaptive schedule divides
  // the rate by its divisor and returns true (train on), or returns false
  // when the rate is at most its min_learning_rate; any other schedule
  // returns false: time to stop.
  bool plateau();
  // The global gradient norm of the last step, when clip_norm is set.
  std::optional<double> last_gradient_norm() const { return last_norm_; }

  // Everything a resumed run needs to continue with the same bits: the step
  // count, the clock, the rate, and each slot (velocity; m, v) of each
  // parameter, named "state:<optimizer>/<what>" and
  // "state:<optimizer>/<slot>/<parameter name>".
  NamedTensors state() const;
  // Restores state(); throws DataError naming the tensor (and both shapes)
  // that is missing or does not fit these parameters, or holds a value the
  // optimizer never has (not finite; a negative Adam v). Other names are
  // ignored.
  template <class T>
  void set_state(const NamedTensors& state);

 protected:
  enum class Rule { sgd, adam, adamw };
  struct Settings {
    Rule rule;
    double learning_rate, momentum = 0, beta_1 = 0, beta_2 = 0, epsilon = 0, weight_decay = 0;
    bool nesterov = false;
    Schedule schedule;
    std::optional<double> clip_norm;
  };
  Optimizer(Node loss, std::vector<Node> parameters, Settings settings);

 private:
  template <class T>
  std::vector<Matrix<T>>& slots();
  template <class T>
  std::vector<const Matrix<T>*>& gradient_list();
  template <class T>
  void prepare(Executor<T>& ex);
  template <class T>
  double clip_scale(Executor<T>& ex, const std::vector<const Matrix<T>*>& gradients);
  void check_slot(const std::string& name, const Matrix<double>& value, bool squares) const;
  template <class T>
  void check_sizes(Executor<T>& ex, const std::vector<const Matrix<T>*>& gradients);
  template <class T>
  void apply(Executor<T>& ex, const std::vector<const Matrix<T>*>& gradients);
  template <class T>
  void update_state(Executor<T>& ex);
  std::size_t slot_count() const;
  std::vector<std::string> slot_names() const;

  std::string name_;
  Settings settings_;
  Node loss_;
  std::vector<Node> parameters_, gradients_, state_parameters_, state_updates_, fetches_;
  double learning_rate_;
  Schedule schedule_;
  std::uint64_t steps_ = 0, schedule_time_ = 0;
  std::optional<double> last_norm_;
  // Slot s of parameter k at s * parameters().size() + k, in the scalar type
  // of the executor that stepped (the other vector stays empty).
  std::vector<Matrix<float>> slots_float_;
  std::vector<Matrix<double>> slots_double_;
  // apply_gradients' list of the gradients, kept from step to step.
  std::vector<const Matrix<float>*> gradients_float_;
  std::vector<const Matrix<double>*> gradients_double_;
};

// Stochastic gradient descent: velocity = momentum * velocity - lr * g, then
// w += velocity, or with Nesterov w += momentum * velocity - lr * g.
class SGD : public Optimizer {
 public:
  // `parameters` empty: every parameter the loss depends on, in the order
  // they were created (parameters_of).
  SGD(Node loss, SGDOptions options = {}, std::vector<Node> parameters = {});
};

// Adam (Kingma and Ba 2014) with the bias correction folded into the step:
// lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t); m = b1 m + (1 - b1) g;
// v = b2 v + (1 - b2) g^2; w -= lr_t * m / (sqrt(v) + epsilon).
class Adam : public Optimizer {
 public:
  Adam(Node loss, AdamOptions options = {}, std::vector<Node> parameters = {});
};

// AdamW (Loshchilov and Hutter 2019): Adam whose weight decay shrinks the
// weights directly, w -= lr * weight_decay * w, before Adam's step.
class AdamW : public Optimizer {
 public:
  AdamW(Node loss, AdamWOptions options = {}, std::vector<Node> parameters = {});
};

// Every parameter node y depends on that is learned, in the order they were
// created: a parameter that y reaches only as an op's state input
// (batch_norm's running statistics) is state, not learned, and left out.
std::vector<Node> parameters_of(Node y);
// The state parameters y's ops keep, each with the node that gives its value
// after a training step (Op::state_update, built here), in the order of the
// ops that keep them.
struct StateUpdate {
  Node parameter;
  Node value;
};
std::vector<StateUpdate> state_updates_of(Node y);

extern template double Optimizer::step<float>(Executor<float>&, const std::vector<Feed<float>>&);
extern template double Optimizer::step<double>(Executor<double>&, const std::vector<Feed<double>>&);
extern template void Optimizer::apply_gradients<float>(Executor<float>&);
extern template void Optimizer::apply_gradients<double>(Executor<double>&);
extern template void Optimizer::apply_gradients<float>(Executor<float>&, const std::vector<Matrix<float>>&);
extern template void Optimizer::apply_gradients<double>(Executor<double>&, const std::vector<Matrix<double>>&);
extern template void Optimizer::set_state<float>(const NamedTensors&);
extern template void Optimizer::set_state<double>(const NamedTensors&);

}  // namespace dagrad::nn
