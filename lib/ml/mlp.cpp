#include "lbfgsb.hpp"

#include <dagrad/core/autodiff.hpp>
#include <dagrad/core/detail/whole_line.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/core/executor.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/core/random.hpp>
#include <dagrad/ml/mlp.hpp>
#include <dagrad/nn/init.hpp>
#include <dagrad/nn/layers.hpp>
#include <dagrad/nn/optim.hpp>
#include <dagrad/nn/train.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

namespace dagrad {

// The network as a graph, built once per fit that starts afresh. The part
// that depends on the scalar type (executor, optimizer state) is ModelT<T>.
struct MultilayerPerceptron::Model {
  Graph graph;
  // How the parameters start: scikit-learn's Glorot uniform, drawn by each
  // fit from its own stream (the seed here is unused).
  nn::Init init{0};
  // output: the output layer's activation of its z (probabilities, or the
  // values for identity). loss is scikit-learn's reported loss; objective
  // is what the solvers differentiate (see below), most often loss itself.
  Node x, y, l2_factor, output, loss, objective;
  std::vector<Node> weights, biases, gradient;  // gradient: of objective, per parameter
  std::vector<int> layer_units;
  MLPOutActivation out_activation;

  Model(const std::vector<int>& units, MLPActivation activation, MLPOutActivation out)
      : layer_units(units), out_activation(out) {
    Graph& g = graph;
    x = g.input("x", {batch, units.front()});
    y = g.input("y", {batch, units.back()});  // the targets as the output layer sees them
    // scikit-learn's factor in every layer's bound follows the hidden layers' activation.
    const nn::Initializer glorot = nn::scikit_learn_glorot(activation == MLPActivation::logistic);
    Node a = x;
    const std::size_t layers = units.size() - 1;
    for (std::size_t i = 0; i < layers; ++i) {
      const bool last = i + 1 == layers;
      a = layer(a, last ? "output" : "layer" + std::to_string(i + 1), units[i], units[i + 1],
                last ? nn::Activation::none : hidden_activation(activation), glorot);
    }
    const Node z = a;  // the output layer's, before its activation
    {
      auto scope = g.scope("output");
      output = out == MLPOutActivation::identity  ? z
               : out == MLPOutActivation::softmax ? softmax(z)
                                                  : sigmoid(z);
      if (out != MLPOutActivation::identity) g.rename(output, "output/probabilities");
    }
    {
      auto scope = g.scope("loss");
      // alpha / (2 n) for a batch of n rows: scikit-learn's L2 scaling.
      l2_factor = g.input("l2_factor", {1, 1});
      Node data_loss = data_term(z);
      std::vector<Node> squares;
      for (Node w : weights) squares.push_back(sum_squares(w));
      Node penalty = mul(l2_factor, add_n(squares));
      g.rename(penalty, "loss/l2_penalty");
      loss = add(data_loss, penalty);
      g.rename(loss, "loss/total");
      objective = loss;
      const int outputs = units.back();
      if (out == MLPOutActivation::identity && outputs > 1) {
        // scikit-learn's squared error is a mean over all n k values, but its
        // gradient is (prediction - y) / n, the gradient of k times that
        // mean: what it reports and what it descends differ for k > 1 outputs.
        objective = add(loss, scale(data_loss, double(outputs - 1)));
        g.rename(objective, "loss/objective");
      }
    }
    // The backward nodes are built here, so the graph is whole before any
    // executor runs it; the optimizer's gradients() finds them cached.
    gradient = gradients(objective, parameters());
  }
  virtual ~Model() = default;

  static nn::Activation hidden_activation(MLPActivation activation) {
    switch (activation) {
      case MLPActivation::identity: return nn::Activation::none;
      case MLPActivation::logistic: return nn::Activation::sigmoid;
      case MLPActivation::tanh: return nn::Activation::tanh;
      case MLPActivation::relu: return nn::Activation::relu;
    }
    return nn::Activation::none;
  }

  // One nn::dense layer, its parameters named name/weights and name/bias
  // (the names model files, drawings and ONNX exports know) and made before
  // its ops, as scikit-learn draws them: the weights, then the bias from the
  // weights' bound.
  Node layer(Node a, const std::string& name, int fan_in, int fan_out, nn::Activation activation,
             nn::Initializer glorot) {
    Graph& g = graph;
    Node w, b;
    {
      auto scope = g.scope(name);
      w = init.parameter(g, "weights", {fan_in, fan_out}, glorot);
      glorot.fan_in = fan_in;
      glorot.fan_out = fan_out;
      b = init.parameter(g, "bias", {1, fan_out}, glorot);
    }
    weights.push_back(w);
    biases.push_back(b);
    return nn::dense(a, fan_out, init, name, {.activation = activation, .weight = w, .bias_parameter = b});
  }

  // scikit-learn's loss of the output layer's z against the targets: the
  // cross-entropy of softmax (mean over rows); binary cross-entropy summed
  // over the labels, mean over rows (the op's mean over all n k values,
  // times k); half the mean squared error over all values.
  Node data_term(Node z) {
    Graph& g = graph;
    const int outputs = layer_units.back();
    Node term;
    if (out_activation == MLPOutActivation::softmax) {
      term = softmax_cross_entropy(z, y);
      g.rename(term, "loss/cross_entropy");
    } else if (out_activation == MLPOutActivation::logistic) {
      term = binary_cross_entropy(z, y);
      if (outputs > 1) term = scale(term, double(outputs));
      g.rename(term, "loss/binary_cross_entropy");
    } else {
      term = scale(mse_loss(z, y), 0.5);
      g.rename(term, "loss/squared_error");
    }
    return term;
  }

  // The weights then the biases: the order of the optimizer's state.
  std::vector<Node> parameters() const {
    std::vector<Node> params = weights;
    params.insert(params.end(), biases.begin(), biases.end());
    return params;
  }

  std::size_t n_params() const { return weights.size() + biases.size(); }
  Node param(std::size_t k) const {
    return k < weights.size() ? weights[k] : biases[k - weights.size()];
  }
  // How many numbers the parameters hold, all layers together.
  std::size_t packed_size() const {
    std::size_t total = 0;
    for (std::size_t i = 0; i + 1 < layer_units.size(); ++i) {
      total += std::size_t(layer_units[i] + 1) * std::size_t(layer_units[i + 1]);
    }
    return total;
  }

  virtual void set_param(std::size_t k, const Matrix<double>& v) = 0;
  // Draws every parameter as init says, from the fit's stream.
  virtual void initialize(NumpyRandom& rng) = 0;
  virtual Matrix<double> get_param(std::size_t k) const = 0;
  virtual void reset_optimizer(const MLPParams& p) = 0;
  virtual void set_profiling(bool on) = 0;
  virtual std::vector<NodeTime> profile() const = 0;
  // Where the last training step kept its values (Executor::memory_plan()),
  // taken once an epoch (or lbfgs evaluation), not a run of scoring.
  MemoryReport fit_memory;
  // One epoch's optimizer steps over `order`, batch_size rows at a time
  // (nn::run_batches); returns the mean loss. after(rows done) follows each
  // batch.
  virtual double train_epoch(const Features& X, std::span<const std::size_t> order, const Matrix<double>& Y,
                             const nn::BatchLoop& loop, const std::function<void(std::size_t)>& after) = 0;
  // The output layer's values for `rows` of X.
  virtual void outputs_of(const Features& X, std::span<const std::size_t> rows, Matrix<double>& out) = 0;
  // The loss over `rows` (its L2 term scaled for their count), without
  // training, and their output values into `out`.
  virtual double evaluate(const Features& X, std::span<const std::size_t> rows, const Matrix<double>& Y,
                          Matrix<double>& out) = 0;
  virtual void iteration_ends(std::uint64_t t) = 0;
  virtual bool trigger_stopping(const std::string& msg, bool verbose, std::ostream& out) = 0;
  virtual bool all_finite() const = 0;
  // lbfgs: every parameter in one vector, the weights then the biases, each
  // row by row (scikit-learn's _pack), and the loss over all of X with the
  // objective's gradient packed the same way.
  virtual void pack(std::span<double> out) const = 0;
  virtual void unpack(std::span<const double> in) = 0;
  // Shard s of S holds rows [n s / S, n (s + 1) / S); each shard's part is
  // summed in shard order, from this process's shards, or with a group of
  // S ranks from every rank's (each computes its own), so the bits agree.
  virtual double loss_and_gradient(const Features& X, const Matrix<double>& Y, std::span<double> grad, int shards,
                                   nn::ShardGroup* group) = 0;
};

namespace {

std::string format_fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

// Rows [0, n) in chunks, so scoring 60,000 rows never holds them all as floats.
constexpr std::size_t score_chunk = 2000;

template <class T>
struct ModelT final : MultilayerPerceptron::Model {
  Executor<T> ex;
  // nn's SGD or Adam over the weights then the biases, made afresh by
  // reset_optimizer, with learning_rate_init and nn's schedule for
  // scikit-learn's learning_rate (sgd's; adam keeps its rate).
  std::unique_ptr<nn::Optimizer> optimizer;
  double alpha = 0;

  ModelT(const std::vector<int>& units, const MLPParams& p, const MLPChoices& choices, MLPOutActivation out_activation)
      : Model(units, choices.activation, out_activation), ex(graph, {.threads = p.threads, .check_numerics = p.check_numerics}), alpha(p.alpha) {}

  void set_profiling(bool on) override { ex.set_profiling(on); }
  std::vector<NodeTime> profile() const override { return ex.profile(); }

  void set_param(std::size_t k, const Matrix<double>& v) override {
    ex.set(param(k), v.cast<T>());
  }
  Matrix<double> get_param(std::size_t k) const override {
    return ex.value(param(k)).template cast<double>();
  }
  void initialize(NumpyRandom& rng) override { init.apply(ex, rng); }

  // scikit-learn's learning_rate as nn's schedule: invscaling's clock the
  // samples seen at each epoch's end (iteration_ends), adaptive's plateaus
  // its stopping rule's (trigger_stopping).
  static nn::Schedule schedule_of(MLPLearningRate learning_rate, double power_t) {
    switch (learning_rate) {
      case MLPLearningRate::constant: return nn::constant_schedule();
      case MLPLearningRate::invscaling: return nn::inverse_scaling(power_t, nn::Schedule::Unit::sample);
      case MLPLearningRate::adaptive: return nn::adaptive(5.0, 1e-6);
    }
    return nn::constant_schedule();
  }

  void reset_optimizer(const MLPParams& p) override {
    const MLPChoices choices = p.choices();
    alpha = p.alpha;
    const std::vector<Node> params = parameters();
    switch (choices.solver) {
      case MLPSolver::lbfgs:  // L-BFGS-B keeps its own state, for one fit
        optimizer.reset();
        return;
      case MLPSolver::adam:
        optimizer = std::make_unique<nn::Adam>(
            objective, nn::AdamOptions{.learning_rate = p.learning_rate_init, .beta_1 = p.beta_1,
                                       .beta_2 = p.beta_2, .epsilon = p.epsilon},
            params);
        break;
      case MLPSolver::sgd:
        optimizer = std::make_unique<nn::SGD>(
            objective, nn::SGDOptions{.learning_rate = p.learning_rate_init, .momentum = p.momentum,
                                      .nesterov = p.nesterovs_momentum,
                                      .schedule = schedule_of(choices.learning_rate, p.power_t)},
            params);
        break;
    }
    // The epoch's loss is read from each step when it is not the objective.
    if (objective.id() != loss.id()) optimizer->also_fetch(loss);
  }

  double train_epoch(const Features& X, std::span<const std::size_t> order, const Matrix<double>& Y,
                     const nn::BatchLoop& loop, const std::function<void(std::size_t)>& after) override {
    // The batch loop reports the objective's mean; when the loss differs
    // (several regression outputs), each batch's loss, computed on the way
    // to the objective, is weighted by its rows instead.
    const bool own_loss = objective.id() != loss.id();
    const bool sharded = loop.shards > 1 || (loop.group && loop.group->size() > 1);
    if (own_loss && sharded) return sharded_regression_epoch(X, order, Y, loop, after);
    double total = 0;
    std::size_t done_before = 0;
    const double mean = nn::run_batches<T>(
        ex, *optimizer, order, loop,
        // Each shard's L2 factor is its batch's, alpha / (2 n): weighted by
        // their shares of the rows, the shards add the penalty once.
        [&](std::span<const std::size_t> rows, std::span<const std::size_t> batch_rows) {
          feed(X, rows, Y, batch_rows.size());
        },
        [&](std::size_t done) {
          if (own_loss) total += static_cast<double>(ex.value(loss)(0, 0)) * double(done - done_before);
          done_before = done;
          if (after) after(done);
        });
    fit_memory = ex.memory_plan();
    return own_loss ? total / double(order.size()) : mean;
  }

  // As train_epoch for several regression outputs, sharded: the executor
  // holds only this process's last shard's loss, so the epoch's is found
  // from the objective's mean, which is summed over every shard. With k
  // outputs, objective = k data + penalty and loss = data + penalty, so
  //   loss = (objective + (k - 1) penalty) / k,
  // a batch of n rows' penalty alpha / (2 n) |W|^2 with the weights before its step.
  double sharded_regression_epoch(const Features& X, std::span<const std::size_t> order, const Matrix<double>& Y,
                                  const nn::BatchLoop& loop, const std::function<void(std::size_t)>& after) {
    double squares = squared_weights(), squares_sum = 0;  // sum over batches of n_b |W_b|^2 / n_b
    const double mean = nn::run_batches<T>(
        ex, *optimizer, order, loop,
        [&](std::span<const std::size_t> rows, std::span<const std::size_t> batch_rows) {
          feed(X, rows, Y, batch_rows.size());
        },
        [&](std::size_t done) {
          squares_sum += squares;
          squares = squared_weights();
          if (after) after(done);
        });
    const double k = layer_units.back(), n = double(order.size());
    return (mean + (k - 1) * 0.5 * alpha * squares_sum / n) / k;
  }

  double squared_weights() const {
    double sum = 0;
    for (Node w : weights) sum += ex.value(w).template cast<double>().squaredNorm();
    return sum;
  }

  // Writes the rows straight into the executor's inputs (no copies), with
  // the L2 factor alpha / (2 n) for a loss over n rows.
  void feed(const Features& X, std::span<const std::size_t> rows, const Matrix<double>& Y, std::size_t n) {
    ex.within([&] {
      X.gather(rows, ex.input(x));
      Features(Y).gather(rows, ex.input(y));
    });
    ex.input(l2_factor).setConstant(1, 1, static_cast<T>(0.5 * alpha / static_cast<double>(n)));
  }

  void pack(std::span<double> out) const override {
    std::size_t at = 0;
    for (std::size_t k = 0; k < n_params(); ++k) {
      const Matrix<T>& v = ex.value(param(k));  // row-major: C order, as numpy's ravel
      for (Eigen::Index i = 0; i < v.size(); ++i) out[at++] = static_cast<double>(v.data()[i]);
    }
  }

  void unpack(std::span<const double> in) override {
    std::size_t at = 0;
    for (std::size_t k = 0; k < n_params(); ++k) {
      Matrix<T>& v = ex.parameter(param(k));
      for (Eigen::Index i = 0; i < v.size(); ++i) v.data()[i] = static_cast<T>(in[at++]);
    }
  }

  // The full-batch loss, lbfgs_chunk rows at a time so that a large X is
  // never held whole as T: each chunk's mean loss and gradient weighted by
  // its share of the rows. The L2 term uses all n rows' factor in every
  // chunk, so the shares add it once. One chunk (n <= lbfgs_chunk) is the
  // loss itself, with no reweighting. 2,000 rows (12 MB of float64 pixels)
  // ran the lesson's evaluations 1.5x as fast as 10,000 and 2.5x as fast
  // as all 60,000 at once. Shards cut the rows first; one shard is the
  // whole loss as above.
  double loss_and_gradient(const Features& X, const Matrix<double>& Y, std::span<double> grad, int shards,
                           nn::ShardGroup* group) override {
    const std::size_t n = X.rows();
    const auto count = static_cast<std::size_t>(group ? group->size() : shards);
    auto first_row = [&](std::size_t s) { return n * s / count; };
    if (!group || count == 1) {
      double total = shard_part(X, Y, first_row(0), first_row(1), n, grad);
      std::vector<double> part(count > 1 ? grad.size() : 0);
      for (std::size_t s = 1; s < count; ++s) {
        total += shard_part(X, Y, first_row(s), first_row(s + 1), n, part);
        nn::accumulate_shard<double>(grad, part, 1.0, false);  // grad += part
      }
      return total;
    }
    // This rank's shard's loss and gradient, and every rank's summed in rank
    // order by the group as above (a weight of 1 multiplies exactly).
    const auto rank = static_cast<std::size_t>(group->rank());
    std::vector<double> mine(1 + grad.size());
    mine[0] = shard_part(X, Y, first_row(rank), first_row(rank + 1), n, std::span(mine).subspan(1));
    group->reduce_sum(std::span(mine), 1.0);
    std::copy(mine.begin() + 1, mine.end(), grad.begin());
    return mine[0];
  }

  // Rows [first, last) of the full-batch loss over n rows: their chunks'
  // losses and gradients, each weighted by its share of all n rows.
  double shard_part(const Features& X, const Matrix<double>& Y, std::size_t first, std::size_t last, std::size_t n,
                    std::span<double> grad) {
    constexpr std::size_t lbfgs_chunk = 2000;
    std::fill(grad.begin(), grad.end(), 0.0);
    std::vector<Node> fetches = gradient;
    fetches.push_back(loss);
    std::vector<std::size_t> rows;
    double total = 0;
    for (std::size_t start = first; start < last; start += lbfgs_chunk) {
      rows.resize(std::min(lbfgs_chunk, last - start));
      std::iota(rows.begin(), rows.end(), start);
      feed(X, rows, Y, n);
      ex.compute({}, fetches);
      const double share = double(rows.size()) / double(n);
      total += share * static_cast<double>(ex.value(loss)(0, 0));
      std::size_t at = 0;
      for (Node g : gradient) {
        const Matrix<T>& v = ex.value(g);
        for (Eigen::Index i = 0; i < v.size(); ++i) grad[at++] += share * static_cast<double>(v.data()[i]);
      }
    }
    fit_memory = ex.memory_plan();
    return total;
  }

  void outputs_of(const Features& X, std::span<const std::size_t> rows, Matrix<double>& out) override {
    ex.within([&] { X.gather(rows, ex.input(x)); });
    ex.compute({}, {output});
    out = ex.value(output).template cast<double>();
  }

  // As loss_and_gradient, score_chunk rows at a time, without the gradient.
  double evaluate(const Features& X, std::span<const std::size_t> rows, const Matrix<double>& Y,
                  Matrix<double>& out) override {
    const std::size_t n = rows.size();
    out.resize(static_cast<Eigen::Index>(n), layer_units.back());
    double total = 0;
    for (std::size_t start = 0; start < n; start += score_chunk) {
      const std::span<const std::size_t> chunk = rows.subspan(start, std::min(score_chunk, n - start));
      feed(X, chunk, Y, n);
      ex.compute({}, {loss, output});
      total += double(chunk.size()) / double(n) * static_cast<double>(ex.value(loss)(0, 0));
      out.middleRows(static_cast<Eigen::Index>(start), static_cast<Eigen::Index>(chunk.size())) =
          ex.value(output).template cast<double>();
    }
    return total;
  }

  // The schedule's clock is t, the samples the model has seen (scikit-learn's
  // t_), which a warm start's fresh optimizer continues from.
  void iteration_ends(std::uint64_t t) override {
    if (optimizer->schedule().unit == nn::Schedule::Unit::sample) {
      optimizer->epoch_ends(t - optimizer->schedule_time());
    }
  }

  bool trigger_stopping(const std::string& msg, bool verbose, std::ostream& out) override {
    if (optimizer->plateau()) {
      if (verbose) {
        detail::write_whole(out, msg + " Setting learning rate to " + format_fixed(optimizer->learning_rate(), 6) + "\n");
      }
      return false;
    }
    const bool adaptive = optimizer->schedule().kind == nn::Schedule::Kind::adaptive;
    if (verbose) detail::write_whole(out, msg + (adaptive ? " Learning rate too small. Stopping.\n" : " Stopping.\n"));
    return true;
  }

  bool all_finite() const override {
    for (std::size_t k = 0; k < n_params(); ++k) {
      if (!ex.value(param(k)).allFinite()) return false;
    }
    return true;
  }
};

using Model = MultilayerPerceptron::Model;

std::unique_ptr<Model> make_model(const std::vector<int>& units, const MLPParams& p,
                                  MLPOutActivation out_activation, const std::string& estimator) {
  try {
    p.check_memory(units.front(), units.back());
  } catch (const Error& e) {
    throw Error(estimator + ": " + e.what());
  }
  const MLPChoices choices = p.choices();
  if (choices.dtype == MLPDtype::float64) {
    return std::make_unique<ModelT<double>>(units, p, choices, out_activation);
  }
  return std::make_unique<ModelT<float>>(units, p, choices, out_activation);
}

// What every fit checks of X and the count of its targets: `who` starts the
// message ("MLPClassifier.fit"), `targets` says what y holds ("labels").
void check_fit_input(const Features& X, std::size_t y_rows, const std::string& who, const char* targets) {
  const std::size_t n_all = X.rows();
  if (n_all == 0) throw Error(who + ": X has no rows");
  if (X.cols() == 0) throw Error(who + ": X has no columns; at least 1 feature is needed");
  if (y_rows != n_all) {
    throw Error(who + ": X has " + std::to_string(n_all) + " rows but y has " + std::to_string(y_rows) + " " +
                targets);
  }
  if (std::size_t r, c; X.find_nonfinite(r, c)) {
    throw Error(who + ": X holds a value that is not finite at row " + std::to_string(r) + ", column " +
                std::to_string(c));
  }
}

// The classes are the distinct labels, sorted: a class's index is its place here.
std::vector<int> distinct_sorted(std::span<const int> labels) {
  std::vector<int> classes(labels.begin(), labels.end());
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  return classes;
}

// Each row's class as the one-hot row softmax's cross-entropy compares
// with; a label outside `classes` throws.
Matrix<double> one_hot(std::span<const int> classes, std::span<const int> y_labels) {
  Matrix<double> Y = Matrix<double>::Zero(static_cast<Eigen::Index>(y_labels.size()),
                                          static_cast<Eigen::Index>(classes.size()));
  for (std::size_t i = 0; i < y_labels.size(); ++i) {
    auto it = std::lower_bound(classes.begin(), classes.end(), y_labels[i]);
    if (it == classes.end() || *it != y_labels[i]) {
      throw Error("MLPClassifier.fit: label " + std::to_string(y_labels[i]) + " at row " +
                  std::to_string(i) + " is not one of the classes the model was built with");
    }
    Y(static_cast<Eigen::Index>(i), it - classes.begin()) = 1;
  }
  return Y;
}

// The width of every layer: the features, the hidden layers, the outputs.
std::vector<int> network_units(int n_features, const std::vector<int>& hidden_layer_sizes, int n_outputs) {
  std::vector<int> units{n_features};
  units.insert(units.end(), hidden_layer_sizes.begin(), hidden_layer_sizes.end());
  units.push_back(n_outputs);
  return units;
}

// The rows a fit trains on and, with early stopping, those it scores after
// each epoch; both sorted.
struct RowSplit {
  std::vector<std::size_t> train, validation;
};

RowSplit train_on_all(std::size_t n_all) {
  RowSplit split;
  split.train.resize(n_all);
  std::iota(split.train.begin(), split.train.end(), 0);
  return split;
}

// The rows early stopping holds out: ceil(validation_fraction * n), and the
// rest to train on; throws naming `who` when either would be empty.
std::size_t validation_rows(std::size_t n_all, double validation_fraction, const std::string& who) {
  const auto n_val = static_cast<std::size_t>(std::ceil(validation_fraction * double(n_all)));
  if (n_val < 1 || n_val >= n_all) {
    throw Error(who + ": validation_fraction " + format_fixed(validation_fraction, 3) + " of " +
                std::to_string(n_all) + " rows leaves no rows to train or to validate on");
  }
  return n_val;
}

// numpy's legacy RandomState.permutation(n): a shuffled 0..n-1.
std::vector<std::size_t> permutation(std::size_t n, NumpyRandom& rng) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  rng.shuffle(std::span<std::size_t>(p));
  return p;
}

// scikit-learn's _approximate_mode: n_draws shared among the classes in
// proportion to their counts, floored, the rest given to the largest
// remainders; ties broken by rng as its rng.choice(replace=False) does.
std::vector<std::size_t> approximate_mode(const std::vector<std::size_t>& counts, std::size_t n_draws,
                                          NumpyRandom& rng) {
  std::size_t total = 0;
  for (std::size_t c : counts) total += c;
  std::vector<double> continuous(counts.size()), remainder(counts.size());
  std::vector<std::size_t> floored(counts.size());
  std::size_t sum = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    continuous[i] = double(counts[i]) / double(total) * double(n_draws);
    floored[i] = static_cast<std::size_t>(std::floor(continuous[i]));
    remainder[i] = continuous[i] - std::floor(continuous[i]);
    sum += floored[i];
  }
  std::size_t need = n_draws - sum;
  std::vector<double> values = remainder;
  std::sort(values.begin(), values.end(), std::greater<>());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  for (std::size_t v = 0; v < values.size() && need > 0; ++v) {
    std::vector<std::size_t> tied;
    for (std::size_t i = 0; i < remainder.size(); ++i) {
      if (remainder[i] == values[v]) tied.push_back(i);
    }
    const std::size_t add = std::min(tied.size(), need);
    const std::vector<std::size_t> pick = permutation(tied.size(), rng);
    for (std::size_t k = 0; k < add; ++k) ++floored[tied[pick[k]]];
    need -= add;
  }
  return floored;
}

// scikit-learn's StratifiedShuffleSplit (train_test_split with stratify):
// each class keeps its share of the held-out rows. Each class's rows, in
// row order, are permuted; the first go to training, the next are held
// out; both lists are then permuted again.
RowSplit stratified_split(std::span<const int> target, std::size_t n_classes, double validation_fraction,
                          NumpyRandom& rng, const std::string& who) {
  const std::size_t n_all = target.size();
  const std::size_t n_val = validation_rows(n_all, validation_fraction, who);
  std::vector<std::vector<std::size_t>> by_class(n_classes);
  for (std::size_t i = 0; i < n_all; ++i) by_class[static_cast<std::size_t>(target[i])].push_back(i);
  by_class.erase(std::remove_if(by_class.begin(), by_class.end(), [](const auto& rows) { return rows.empty(); }),
                 by_class.end());
  std::vector<std::size_t> counts;
  for (const auto& rows : by_class) {
    if (rows.size() < 2) {
      throw Error(who + ": early stopping's stratified split needs 2 rows of every class; the least "
                  "populated class in y has only 1 member");
    }
    counts.push_back(rows.size());
  }
  if (n_all - n_val < counts.size() || n_val < counts.size()) {
    throw Error(who + ": validation_fraction " + format_fixed(validation_fraction, 3) + " of " +
                std::to_string(n_all) + " rows leaves fewer rows than the " + std::to_string(counts.size()) +
                " classes to train or to validate on");
  }
  const std::vector<std::size_t> n_train = approximate_mode(counts, n_all - n_val, rng);
  std::vector<std::size_t> left(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) left[i] = counts[i] - n_train[i];
  const std::vector<std::size_t> n_test = approximate_mode(left, n_val, rng);
  RowSplit split;
  for (std::size_t c = 0; c < by_class.size(); ++c) {
    const std::vector<std::size_t> order = permutation(counts[c], rng);
    for (std::size_t k = 0; k < n_train[c] + n_test[c]; ++k) {
      (k < n_train[c] ? split.train : split.validation).push_back(by_class[c][order[k]]);
    }
  }
  rng.shuffle(std::span<std::size_t>(split.train));
  rng.shuffle(std::span<std::size_t>(split.validation));
  return split;
}

// scikit-learn's rule: "auto" is min(200, n); a size above n is clipped to
// n, with scikit-learn's warning.
std::size_t batch_size_for(std::optional<int> batch_size, std::size_t n, std::ostream& warnings) {
  if (!batch_size) return std::min<std::size_t>(200, n);
  if (static_cast<std::size_t>(*batch_size) > n) {
    detail::write_whole(warnings, "UserWarning: Got `batch_size` less than 1 or larger than sample size. It is "
                                  "going to be clipped\n");
  }
  return std::clamp<std::size_t>(static_cast<std::size_t>(*batch_size), 1, n);
}

// sklearn.utils.shuffle: a shuffled arange, used to index the current order.
void shuffle_as_sklearn(std::vector<std::size_t>& order, NumpyRandom& rng) {
  std::vector<std::size_t> perm(order.size());
  std::iota(perm.begin(), perm.end(), 0);
  rng.shuffle(std::span<std::size_t>(perm));
  for (std::size_t& k : perm) k = order[k];
  order.swap(perm);
}

// scikit-learn's train_test_split without stratification (ShuffleSplit):
// ceil(validation_fraction * n) rows held out, the first of a permutation of
// all rows, and the rest trained on in the permutation's order.
RowSplit shuffle_split(std::size_t n_all, double validation_fraction, NumpyRandom& rng,
                       const std::string& who) {
  const std::size_t n_val = validation_rows(n_all, validation_fraction, who);
  const std::vector<std::size_t> order = permutation(n_all, rng);
  RowSplit split;
  split.validation.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_val));
  split.train.assign(order.begin() + static_cast<std::ptrdiff_t>(n_val), order.end());
  return split;
}

// Each row's class index, from one-hot rows or a single 0/1 column.
std::vector<int> class_of_rows(const Matrix<double>& Y) {
  std::vector<int> target(static_cast<std::size_t>(Y.rows()));
  for (Eigen::Index r = 0; r < Y.rows(); ++r) {
    Eigen::Index best = 0;
    if (Y.cols() == 1) {
      best = Y(r, 0) > 0.5;
    } else {
      Y.row(r).maxCoeff(&best);
    }
    target[static_cast<std::size_t>(r)] = static_cast<int>(best);
  }
  return target;
}

void check_finite(const Model& model, const MLPParams& p, MLPSolver solver, const std::string& who) {
  if (!model.all_finite()) {
    throw Error(who + ": the solver produced weights that are not finite; the input may "
                "hold large values and need scaling" +
                (solver == MLPSolver::lbfgs ? std::string()
                                     : ", or learning_rate_init (" + format_fixed(p.learning_rate_init, 6) +
                                           ") may be too large"));
  }
}

// Shapes of coefs and intercepts against the network they must fill.
void check_weight_shapes(const std::vector<int>& units, const std::vector<Matrix<double>>& coefs,
                         const std::vector<Matrix<double>>& intercepts, const std::string& where) {
  for (std::size_t i = 0; i + 1 < units.size(); ++i) {
    const Shape w{units[i], units[i + 1]}, b{1, units[i + 1]};
    if (shape_of(coefs[i]) != w || shape_of(intercepts[i]) != b) {
      throw ShapeError(where + "layer " + std::to_string(i + 1) + " has coefs " + to_string(shape_of(coefs[i])) +
                       " and intercepts " + to_string(shape_of(intercepts[i])) + "; the features, " +
                       "hidden_layer_sizes and outputs call for " + to_string(w) + " and " + to_string(b));
    }
  }
}

}  // namespace

std::vector<int> to_labels(std::span<const std::uint8_t> labels) {
  return std::vector<int>(labels.begin(), labels.end());
}

double r2_score(const Matrix<double>& y_true, const Matrix<double>& y_pred) {
  if (shape_of(y_true) != shape_of(y_pred)) {
    throw ShapeError("r2_score: y_true is " + to_string(shape_of(y_true)) + " but y_pred is " +
                     to_string(shape_of(y_pred)));
  }
  if (y_true.rows() < 2 || y_true.cols() < 1) return NAN;
  double sum = 0;
  for (Eigen::Index c = 0; c < y_true.cols(); ++c) {
    const double numerator = (y_true.col(c) - y_pred.col(c)).squaredNorm();
    const double denominator = (y_true.col(c).array() - y_true.col(c).mean()).matrix().squaredNorm();
    if (denominator != 0) {
      sum += numerator != 0 ? 1 - numerator / denominator : 1.0;
    } else {
      sum += numerator != 0 ? 0.0 : 1.0;  // a constant column: perfect or nothing
    }
  }
  return sum / double(y_true.cols());
}

MultilayerPerceptron::MultilayerPerceptron(MLPParams params, std::string name)
    : params_(std::move(params)), name_(std::move(name)), out_(&std::cout), warnings_(&std::cerr) {
  check_params();
}
MultilayerPerceptron::~MultilayerPerceptron() = default;
MultilayerPerceptron::MultilayerPerceptron(MultilayerPerceptron&&) noexcept = default;
MultilayerPerceptron& MultilayerPerceptron::operator=(MultilayerPerceptron&&) noexcept = default;

void MultilayerPerceptron::set_output(std::ostream* out, std::ostream* warnings) {
  out_ = out;
  warnings_ = warnings;
}

void MultilayerPerceptron::set_profiling(bool on) {
  profiling_ = on;
  if (model_) model_->set_profiling(on);
}

std::vector<NodeTime> MultilayerPerceptron::profile() const {
  return model_ ? model_->profile() : std::vector<NodeTime>{};
}

MemoryReport MultilayerPerceptron::fit_memory_plan() const { return model_ ? model_->fit_memory : MemoryReport{}; }

void MultilayerPerceptron::set_progress(std::function<void(const Progress&)> callback) {
  progress_ = std::move(callback);
}

int MultilayerPerceptron::n_outputs() const { return model_ ? model_->layer_units.back() : 0; }

std::string MultilayerPerceptron::out_activation() const {
  return model_ ? to_string(model_->out_activation) : "";
}

void MultilayerPerceptron::check_params() const {
  try {
    params_.validate();
  } catch (const Error& e) {
    throw Error(name_ + " " + e.what());
  }
}

MLPChoices MultilayerPerceptron::choices() const {
  try {
    return params_.choices();
  } catch (const Error& e) {
    throw Error(name_ + " " + e.what());
  }
}

MLPOutActivation MultilayerPerceptron::out_kind() const {
  return model_ ? model_->out_activation : MLPOutActivation::identity;
}

const Graph& MultilayerPerceptron::graph() const {
  if (!model_) throw Error(name_ + ": the network is built by the first fit; call fit first");
  return model_->graph;
}

Node MultilayerPerceptron::output() const {
  graph();  // the error before a fit
  return model_->output;
}

std::vector<std::pair<Node, Matrix<double>>> MultilayerPerceptron::parameter_values() const {
  graph();
  std::vector<std::pair<Node, Matrix<double>>> values;
  for (std::size_t k = 0; k < model_->n_params(); ++k) values.emplace_back(model_->param(k), model_->get_param(k));
  return values;
}

// A group computes one shard a rank.
void MultilayerPerceptron::check_sharding() const {
  const MLPParams& p = params_;
  const int ranks = group_ ? group_->size() : 1;
  if (group_ && p.shards != 1 && p.shards != ranks) {
    throw Error(name_ + ": shards is " + std::to_string(p.shards) + " but the group has " + std::to_string(ranks) +
                " ranks; each rank computes one shard, so give shards " + std::to_string(ranks) + " (or 1)");
  }
}

// random_state, else a fresh seed: rank 0's in a group, so that every rank
// draws the same weights, split and shuffles.
std::uint32_t MultilayerPerceptron::fit_seed() const {
  if (params_.random_state) return *params_.random_state;
  std::uint32_t seed = std::random_device{}();
  if (group_ && group_->size() > 1) {
    const auto all = group_->all_gather(std::as_bytes(std::span(&seed, 1)));
    if (all.front().size() != sizeof seed) throw Error(name_ + ": rank 0 sent no seed");
    std::memcpy(&seed, all.front().data(), sizeof seed);
  }
  return seed;
}

void MultilayerPerceptron::fit_targets(const Features& X, const Matrix<double>& Y, bool incremental,
                                       MLPOutActivation out_activation, bool stratify) {
  check_params();
  check_sharding();
  const MLPParams& p = params_;
  const MLPChoices choices = p.choices();
  const bool first_pass = !model_ || (!p.warm_start && !incremental);
  const std::vector<int> units =
      network_units(static_cast<int>(X.cols()), p.hidden_layer_sizes, static_cast<int>(Y.cols()));
  if (!first_pass && model_->layer_units != units) {
    throw Error(name_ + ": warm start or partial_fit with data of another shape (the model was built for " +
                std::to_string(model_->layer_units.front()) + " features and " +
                std::to_string(model_->layer_units.back()) + " outputs)");
  }

  // scikit-learn seeds a fresh RandomState from random_state on every fit;
  // it draws the initial weights, then the validation split, then each
  // epoch's shuffle.
  NumpyRandom rng(fit_seed());
  if (first_pass) {
    model_ = make_model(units, p, out_activation, name_);
    model_->set_profiling(profiling_);
    model_->initialize(rng);
    reset_training_state(0);
  }
  if (!incremental || first_pass) model_->reset_optimizer(p);
  if (choices.solver == MLPSolver::lbfgs) {  // full batch: no validation split, no shuffles
    fit_lbfgs(X, Y);
  } else {
    fit_stochastic(X, Y, incremental, stratify, rng);
  }
  check_finite(*model_, p, choices.solver, name_);
}

void MultilayerPerceptron::fit_stochastic(const Features& X, const Matrix<double>& Y, bool incremental,
                                          bool stratify, NumpyRandom& rng) {
  const MLPParams& p = params_;
  const bool early_stopping = p.early_stopping && !incremental;
  // A warm start may switch early stopping on after a fit without it.
  if (early_stopping && !best_validation_score_) best_validation_score_ = -INFINITY;
  RowSplit split;
  if (!early_stopping) {
    split = train_on_all(X.rows());
  } else if (stratify) {
    split = stratified_split(class_of_rows(Y), std::max<std::size_t>(2, std::size_t(Y.cols())),
                             p.validation_fraction, rng, name_);
  } else {
    split = shuffle_split(X.rows(), p.validation_fraction, rng, name_);
  }
  const std::size_t batch_size = batch_size_for(p.batch_size, split.train.size(), *warnings_);

  std::vector<Matrix<double>> best_params;  // at the best validation score
  std::vector<std::size_t> order = split.train;
  for (int it = 0; it < p.max_iter; ++it) {
    if (p.shuffle) shuffle_as_sklearn(order, rng);
    const double epoch_loss = train_epoch(X, order, Y, batch_size);
    if (early_stopping) {
      validate_epoch(X, Y, split.validation, best_params);
    } else {
      update_no_improvement_count(epoch_loss, std::nullopt, best_params);
    }
    model_->iteration_ends(t_);
    if (no_improvement_count_ > p.n_iter_no_change && no_improvement_stops(early_stopping)) break;
    if (incremental) break;
    if (n_iter_ == p.max_iter) {
      detail::write_whole(*warnings_, "ConvergenceWarning: Stochastic Optimizer: Maximum iterations (" +
                                          std::to_string(p.max_iter) +
                                          ") reached and the optimization hasn't converged yet.\n");
    }
  }
  if (early_stopping && !best_params.empty()) {
    for (std::size_t k = 0; k < best_params.size(); ++k) model_->set_param(k, best_params[k]);
  }
}

// One pass over `order` in mini-batches, counted as scikit-learn counts it
// (n_iter_, t_ the samples seen, loss_curve_, the verbose line); returns the
// epoch's mean loss.
double MultilayerPerceptron::train_epoch(const Features& X, std::span<const std::size_t> order,
                                         const Matrix<double>& Y, std::size_t batch_size) {
  const std::size_t n = order.size();
  const int epoch = n_iter_ + 1;
  // nn's batch loop; with check_numerics its error names the node, and the
  // loop says in which epoch and batch.
  const double epoch_loss = model_->train_epoch(
      X, order, Y,
      {.who = name_ + ".fit", .epoch = epoch, .batch_size = batch_size, .shards = params_.shards, .group = group_},
      [&](std::size_t done) {
        if (progress_) progress_({epoch, done, n});
      });
  ++n_iter_;
  t_ += n;
  loss_ = epoch_loss;
  loss_curve_.push_back(epoch_loss);
  if (params_.verbose) {
    detail::write_whole(*out_, "Iteration " + std::to_string(n_iter_) + ", loss = " + format_fixed(epoch_loss, 8) + "\n");
  }
  return epoch_loss;
}

// Early stopping's look at the held-out rows after an epoch: their score
// (accuracy, R^2) and, dagrad's own, their loss.
void MultilayerPerceptron::validate_epoch(const Features& X, const Matrix<double>& Y,
                                          std::span<const std::size_t> rows,
                                          std::vector<Matrix<double>>& best_params) {
  Matrix<double> output;
  validation_loss_curve_.push_back(model_->evaluate(X, rows, Y, output));
  Matrix<double> targets(static_cast<Eigen::Index>(rows.size()), Y.cols());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    targets.row(static_cast<Eigen::Index>(i)) = Y.row(static_cast<Eigen::Index>(rows[i]));
  }
  update_no_improvement_count(loss_, validation_score(output, targets), best_params);
}

// scikit-learn's _fit_lbfgs: L-BFGS-B (lib/ml/lbfgsb.cpp, scipy's loop) on the
// full-batch loss over all weights and biases in one vector, with
// scikit-learn's options (gtol = tol, maxiter = max_iter, maxfun = max_fun,
// iprint 1 when verbose) and its _check_optimize_result warning.
void MultilayerPerceptron::fit_lbfgs(const Features& X, const Matrix<double>& Y) {
  const MLPParams& p = params_;
  std::vector<double> packed(model_->packed_size());
  model_->pack(packed);
  const std::size_t n = X.rows();
  const LbfgsbResult r = lbfgsb_minimize(
      packed,
      [&](std::span<const double> w, std::span<double> grad) {
        model_->unpack(w);
        return model_->loss_and_gradient(X, Y, grad, p.shards, group_);
      },
      {.max_iter = p.max_iter, .max_fun = p.max_fun, .gtol = p.tol, .iprint = p.verbose ? 1 : -1,
       .on_iteration = [&](int iteration) {
         if (progress_) progress_({iteration, n, n});
       }});
  model_->unpack(packed);
  n_iter_ = std::min(r.nit, p.max_iter);
  loss_ = r.fun;
  if (r.status != 0) {
    detail::write_whole(*warnings_, "ConvergenceWarning: lbfgs failed to converge (status=" + std::to_string(r.status) +
                                        "):\n" + r.message +
                                        ".\n\nIncrease the number of iterations (max_iter) or scale the data as "
                                        "shown in:\n    https://scikit-learn.org/stable/modules/preprocessing.html\n");
  }
}

// scikit-learn's _update_no_improvement_count: an epoch counts toward
// n_iter_no_change unless it beats the best validation score (early
// stopping) or the best training loss by tol. With early stopping the score
// is recorded, and the weights at the best score kept in best_params.
void MultilayerPerceptron::update_no_improvement_count(double epoch_loss, std::optional<double> validation_score,
                                                       std::vector<Matrix<double>>& best_params) {
  const MLPParams& p = params_;
  if (validation_score) {
    const double v = *validation_score;
    validation_scores_.push_back(v);
    if (p.verbose) detail::write_whole(*out_, "Validation score: " + format_fixed(v, 6) + "\n");
    if (v < *best_validation_score_ + p.tol) {
      ++no_improvement_count_;
    } else {
      no_improvement_count_ = 0;
    }
    if (v > *best_validation_score_) {
      best_validation_score_ = v;
      best_params.clear();
      for (std::size_t k = 0; k < model_->n_params(); ++k) best_params.push_back(model_->get_param(k));
    }
  } else {
    if (!best_loss_) best_loss_ = INFINITY;
    if (epoch_loss > *best_loss_ - p.tol) {
      ++no_improvement_count_;
    } else {
      no_improvement_count_ = 0;
    }
    if (epoch_loss < *best_loss_) best_loss_ = epoch_loss;
  }
}

// After more than n_iter_no_change epochs without improvement: whether
// training stops (adam, and sgd but for the adaptive schedule) or goes on at
// a fifth of the learning rate (adaptive sgd, while that rate is above 1e-6).
bool MultilayerPerceptron::no_improvement_stops(bool early_stopping) {
  const MLPParams& p = params_;
  const std::string msg =
      (early_stopping ? "Validation score did not improve more than tol="
                      : "Training loss did not improve more than tol=") +
      format_fixed(p.tol, 6) + " for " + std::to_string(p.n_iter_no_change) +
      " consecutive epochs.";
  if (model_->trigger_stopping(msg, p.verbose != 0, *out_)) return true;
  no_improvement_count_ = 0;
  return false;
}

void MultilayerPerceptron::restore(const std::vector<Matrix<double>>& coefs,
                                   const std::vector<Matrix<double>>& intercepts, int n_outputs,
                                   MLPOutActivation out_activation, int n_iter, const std::string& where) {
  check_params();
  const MLPParams& p = params_;
  const std::size_t layers = p.hidden_layer_sizes.size() + 1;
  if (coefs.size() != layers || intercepts.size() != layers) {
    throw Error(where + "hidden_layer_sizes " + p.get("hidden_layer_sizes") + " needs " +
                std::to_string(layers) + " coefs and intercepts, got " + std::to_string(coefs.size()) +
                " and " + std::to_string(intercepts.size()));
  }
  if (coefs[0].rows() < 1 || coefs[0].rows() > std::numeric_limits<int>::max()) {
    throw Error(where + "coefs[0] has " + std::to_string(coefs[0].rows()) + " rows (features)");
  }
  const std::vector<int> units = network_units(static_cast<int>(coefs[0].rows()), p.hidden_layer_sizes, n_outputs);
  check_weight_shapes(units, coefs, intercepts, where);
  auto model = make_model(units, p, out_activation, name_);
  model->set_profiling(profiling_);
  for (std::size_t i = 0; i < layers; ++i) {
    model->set_param(i, coefs[i]);
    model->set_param(layers + i, intercepts[i]);
  }
  model->reset_optimizer(p);
  model_ = std::move(model);
  reset_training_state(n_iter);
}

// A model whose weights were just made (by initialization or set_weights)
// starts its history afresh: no loss curve, no stopping-rule memory.
void MultilayerPerceptron::reset_training_state(int n_iter) {
  n_iter_ = n_iter;
  t_ = 0;
  loss_ = NAN;
  loss_curve_.clear();
  validation_scores_.clear();
  validation_loss_curve_.clear();
  no_improvement_count_ = 0;
  best_loss_.reset();
  best_validation_score_.reset();
  if (choices().solver == MLPSolver::lbfgs) return;  // scikit-learn's stochastic solvers' state only
  if (params_.early_stopping) {
    best_validation_score_ = -INFINITY;
  } else {
    best_loss_ = INFINITY;
  }
}

void MultilayerPerceptron::check_predict_input(const Features& X) const {
  if (!fitted()) throw Error(name_ + ": predict before fit; call fit first");
  if (X.cols() != static_cast<std::size_t>(model_->layer_units.front())) {
    throw Error(name_ + ": X has " + std::to_string(X.cols()) + " features but the model was fitted on " +
                std::to_string(model_->layer_units.front()));
  }
}

Matrix<double> MultilayerPerceptron::forward(const Features& X) const {
  check_predict_input(X);
  Matrix<double> out(static_cast<Eigen::Index>(X.rows()), model_->layer_units.back());
  std::vector<std::size_t> rows;
  Matrix<double> chunk;
  for (std::size_t s = 0; s < X.rows(); s += score_chunk) {
    const std::size_t count = std::min(score_chunk, X.rows() - s);
    rows.resize(count);
    std::iota(rows.begin(), rows.end(), s);
    model_->outputs_of(X, rows, chunk);
    out.middleRows(static_cast<Eigen::Index>(s), static_cast<Eigen::Index>(count)) = chunk;
  }
  return out;
}

std::vector<Matrix<double>> MultilayerPerceptron::coefs() const {
  std::vector<Matrix<double>> out;
  if (!model_) return out;
  for (std::size_t k = 0; k < model_->weights.size(); ++k) out.push_back(model_->get_param(k));
  return out;
}

std::vector<Matrix<double>> MultilayerPerceptron::intercepts() const {
  std::vector<Matrix<double>> out;
  if (!model_) return out;
  for (std::size_t k = 0; k < model_->biases.size(); ++k) {
    out.push_back(model_->get_param(model_->weights.size() + k));
  }
  return out;
}

std::string MultilayerPerceptron::summary() const {
  std::ostringstream s;
  s << name_ << "\n\nParameters (learned by fit):\n";
  if (!model_) {
    s << "  (none yet: the network is built by the first fit)\n";
  } else {
    long total = 0;
    const auto& u = model_->layer_units;
    s << "  input: " << u.front() << " features\n";
    for (std::size_t i = 0; i < model_->weights.size(); ++i) {
      const Shape w = model_->weights[i].shape(), b = model_->biases[i].shape();
      const long count = long(w.size() + b.size());
      total += count;
      s << "  " << model_->weights[i].name() << "  " << to_string(w) << "  " << w.size() << "\n"
        << "  " << model_->biases[i].name() << "  " << to_string(b) << "  " << b.size() << "\n";
    }
    s << "  total: " << total << " parameters\n";
  }
  s << "\nHyperparameters (chosen by you):\n";
  for (const auto& name : MLPParams::names()) s << "  " << name << " = " << params_.get(name) << "\n";
  return s.str();
}

int output_units(std::size_t n_classes) { return n_classes == 2 ? 1 : static_cast<int>(n_classes); }

MLPClassifier::MLPClassifier(MLPParams params) : MultilayerPerceptron(std::move(params), "MLPClassifier") {}

MLPClassifier& MLPClassifier::fit(const Features& X, std::span<const int> y) {
  fit_labels(X, y, false);
  return *this;
}

MLPClassifier& MLPClassifier::partial_fit(const Features& X, std::span<const int> y,
                                          std::span<const int> classes) {
  if (choices().solver == MLPSolver::lbfgs) {
    throw Error("MLPClassifier.partial_fit is only available for stochastic optimizers. lbfgs is not "
                "stochastic.");
  }
  if (multilabel_ && fitted()) {
    throw Error("MLPClassifier.partial_fit: the model was fitted on multi-label targets; give them as the "
                "n x L matrix of 0 and 1, not one label a row");
  }
  if (!fitted()) {
    if (classes.empty()) {
      throw Error("MLPClassifier.partial_fit: the first call needs `classes`, every label that "
                  "can appear");
    }
    classes_ = distinct_sorted(classes);
    multilabel_ = false;
  }
  fit_labels(X, y, true);
  return *this;
}

void MLPClassifier::fit_labels(const Features& X, std::span<const int> y_labels, bool incremental) {
  check_params();
  check_fit_input(X, y_labels.size(), "MLPClassifier.fit", "labels");
  const bool first_pass = !fitted() || (!params().warm_start && !incremental);
  if (first_pass && !incremental) {
    classes_ = distinct_sorted(y_labels);
    multilabel_ = false;
    if (classes_.size() < 2) {
      throw Error("MLPClassifier.fit: y has " + std::to_string(classes_.size()) +
                  " class; at least 2 are needed");
    }
  }
  if (multilabel_) {
    throw Error("MLPClassifier.fit: warm start with one label a row on a model fitted on multi-label targets");
  }
  // As scikit-learn, a warm start trains on the classes it was built for, all of them.
  if (const std::vector<int> given = distinct_sorted(y_labels); !first_pass && !incremental && given != classes_) {
    throw Error("MLPClassifier.fit: warm_start needs y to have the classes of the previous fit (" +
                std::to_string(classes_.size()) + " classes); y has " + std::to_string(given.size()) +
                ", not the same");
  }
  Matrix<double> Y = one_hot(classes_, y_labels);
  // Two classes: one column, 1 for the second class (scikit-learn's LabelBinarizer).
  if (classes_.size() == 2) Y = Matrix<double>(Y.col(1));
  fit_encoded(X, Y, incremental);
}

void MLPClassifier::check_indicator(const Features& X, const Matrix<int>& Y, const char* who) const {
  check_fit_input(X, static_cast<std::size_t>(Y.rows()), who, "rows");
  if (Y.cols() < 2) {
    throw Error(std::string(who) + ": multi-label targets need at least 2 columns, one per label; y has " +
                std::to_string(Y.cols()) + " (give one label a row as a vector)");
  }
  for (Eigen::Index r = 0; r < Y.rows(); ++r) {
    for (Eigen::Index c = 0; c < Y.cols(); ++c) {
      if (Y(r, c) != 0 && Y(r, c) != 1) {
        throw Error(std::string(who) + ": multi-label targets hold 0 or 1; y holds " + std::to_string(Y(r, c)) +
                    " at row " + std::to_string(r) + ", column " + std::to_string(c));
      }
    }
  }
}

MLPClassifier& MLPClassifier::partial_fit(const Features& X, const Matrix<int>& Y, std::span<const int> classes) {
  const char* who = "MLPClassifier.partial_fit";
  if (choices().solver == MLPSolver::lbfgs) {
    throw Error("MLPClassifier.partial_fit is only available for stochastic optimizers. lbfgs is not "
                "stochastic.");
  }
  check_params();
  check_indicator(X, Y, who);
  const auto labels = static_cast<std::size_t>(Y.cols());
  if (fitted() && !multilabel_) {
    throw Error(std::string(who) + ": the model was fitted on one label a row; multi-label targets need a new "
                "model");
  }
  if (!fitted()) {
    if (classes.empty()) {
      throw Error(std::string(who) + ": the first call needs `classes`; for multi-label targets they are the "
                  "label columns 0 to " + std::to_string(labels - 1));
    }
    std::vector<int> columns(labels);
    std::iota(columns.begin(), columns.end(), 0);
    if (distinct_sorted(classes) != columns) {
      throw Error(std::string(who) + ": for multi-label targets `classes` are the label columns 0 to " +
                  std::to_string(labels - 1) + "; y has " + std::to_string(labels) + " columns");
    }
    classes_ = std::move(columns);
    multilabel_ = true;
  } else if (classes_.size() != labels) {
    throw Error(std::string(who) + ": y has " + std::to_string(labels) + " label columns; the model was fitted on " +
                std::to_string(classes_.size()));
  }
  fit_encoded(X, Y.cast<double>(), true);
  return *this;
}

MLPClassifier& MLPClassifier::fit(const Features& X, const Matrix<int>& Y) {
  check_params();
  check_indicator(X, Y, "MLPClassifier.fit");
  if (fitted() && params().warm_start && (!multilabel_ || classes_.size() != static_cast<std::size_t>(Y.cols()))) {
    throw Error("MLPClassifier.fit: warm start with targets of another kind or number of labels than the "
                "model was fitted on");
  }
  classes_.resize(static_cast<std::size_t>(Y.cols()));
  std::iota(classes_.begin(), classes_.end(), 0);
  multilabel_ = true;
  fit_encoded(X, Y.cast<double>(), false);
  return *this;
}

// One logistic unit per column when there is one column (two classes) or
// several labels, else softmax; only two classes are stratified, as
// scikit-learn 1.2 stratifies early stopping's split when the binarized
// targets have one column.
void MLPClassifier::fit_encoded(const Features& X, const Matrix<double>& Y, bool incremental) {
  const bool logistic = multilabel_ || Y.cols() == 1;
  fit_targets(X, Y, incremental, logistic ? MLPOutActivation::logistic : MLPOutActivation::softmax, Y.cols() == 1);
}

double MLPClassifier::validation_score(const Matrix<double>& output, const Matrix<double>& Y) const {
  std::size_t correct = 0;
  if (out_kind() == MLPOutActivation::softmax) {
    const std::vector<int> predicted = class_of_rows(output), actual = class_of_rows(Y);
    for (std::size_t i = 0; i < actual.size(); ++i) correct += predicted[i] == actual[i];
  } else {
    // A row is right when every label is: scikit-learn's accuracy_score.
    for (Eigen::Index r = 0; r < Y.rows(); ++r) {
      correct += ((output.row(r).array() > 0.5) == (Y.row(r).array() > 0.5)).all();
    }
  }
  return double(correct) / double(Y.rows());
}

void MLPClassifier::set_weights(std::vector<int> classes, const std::vector<Matrix<double>>& coefs,
                                const std::vector<Matrix<double>>& intercepts, int n_iter) {
  const std::string where = "MLPClassifier.set_weights: ";
  if (classes.size() < 2) {
    throw Error(where + std::to_string(classes.size()) + " classes; at least 2 are needed");
  }
  if (!std::is_sorted(classes.begin(), classes.end()) ||
      std::adjacent_find(classes.begin(), classes.end()) != classes.end()) {
    throw Error(where + "the classes must be sorted and distinct, as fit leaves them");
  }
  const int outputs = output_units(classes.size());
  restore(coefs, intercepts, outputs, outputs == 1 ? MLPOutActivation::logistic : MLPOutActivation::softmax, n_iter,
          where);
  classes_ = std::move(classes);
  multilabel_ = false;
}

void MLPClassifier::set_multilabel_weights(const std::vector<Matrix<double>>& coefs,
                                           const std::vector<Matrix<double>>& intercepts, int n_iter) {
  const std::string where = "MLPClassifier.set_multilabel_weights: ";
  if (coefs.empty() || coefs.back().cols() < 2) {
    throw Error(where + "a multi-label model has an output unit for each of at least 2 labels");
  }
  const int labels = static_cast<int>(coefs.back().cols());
  restore(coefs, intercepts, labels, MLPOutActivation::logistic, n_iter, where);
  classes_.resize(static_cast<std::size_t>(labels));
  std::iota(classes_.begin(), classes_.end(), 0);
  multilabel_ = true;
}

Matrix<double> MLPClassifier::predict_proba(const Features& X) const {
  Matrix<double> p = forward(X);
  if (multilabel_ || p.cols() > 1) return p;
  Matrix<double> both(p.rows(), 2);
  both.col(0) = (1.0 - p.col(0).array()).matrix();
  both.col(1) = p.col(0);
  return both;
}

Matrix<double> MLPClassifier::predict_log_proba(const Features& X) const {
  // libm's log, as numpy's, not Eigen's vector approximation.
  return predict_proba(X).unaryExpr([](double p) { return std::log(p); });
}

std::vector<int> MLPClassifier::predict(const Features& X) const {
  if (multilabel_) {
    throw Error("MLPClassifier.predict: the model was fitted on multi-label targets; use predict_indicator");
  }
  Matrix<double> probs = forward(X);
  std::vector<int> labels(static_cast<std::size_t>(probs.rows()));
  for (Eigen::Index r = 0; r < probs.rows(); ++r) {
    Eigen::Index best = 0;
    if (probs.cols() == 1) {
      best = probs(r, 0) > 0.5;
    } else {
      probs.row(r).maxCoeff(&best);
    }
    labels[static_cast<std::size_t>(r)] = classes_[static_cast<std::size_t>(best)];
  }
  return labels;
}

Matrix<int> MLPClassifier::predict_indicator(const Features& X) const {
  if (fitted() && !multilabel_) {
    throw Error("MLPClassifier.predict_indicator: the model was fitted on one label a row; use predict");
  }
  return (forward(X).array() > 0.5).cast<int>().matrix();
}

double MLPClassifier::score(const Features& X, std::span<const int> y) const {
  if (y.size() != X.rows()) {
    throw Error("MLPClassifier.score: X has " + std::to_string(X.rows()) + " rows but y has " +
                std::to_string(y.size()) + " labels");
  }
  std::vector<int> predicted = predict(X);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < y.size(); ++i) correct += predicted[i] == y[i];
  return double(correct) / double(y.size());
}

double MLPClassifier::score(const Features& X, const Matrix<int>& Y) const {
  const Matrix<int> predicted = predict_indicator(X);
  if (Y.rows() != predicted.rows() || Y.cols() != predicted.cols()) {
    throw ShapeError("MLPClassifier.score: y is " + std::to_string(Y.rows()) + "x" + std::to_string(Y.cols()) +
                     " but X has " + std::to_string(predicted.rows()) + " rows and the model " +
                     std::to_string(predicted.cols()) + " labels");
  }
  std::size_t correct = 0;
  for (Eigen::Index r = 0; r < Y.rows(); ++r) correct += (predicted.row(r) == Y.row(r));
  return double(correct) / double(Y.rows());
}

namespace {

Matrix<double> column(std::span<const double> y) {
  Matrix<double> Y(static_cast<Eigen::Index>(y.size()), 1);
  for (std::size_t i = 0; i < y.size(); ++i) Y(static_cast<Eigen::Index>(i), 0) = y[i];
  return Y;
}

}  // namespace

MLPRegressor::MLPRegressor(MLPParams params) : MultilayerPerceptron(std::move(params), "MLPRegressor") {}

MLPRegressor& MLPRegressor::fit(const Features& X, const Matrix<double>& Y) {
  fit_values(X, Y, false, "MLPRegressor.fit");
  return *this;
}

MLPRegressor& MLPRegressor::fit(const Features& X, std::span<const double> y) { return fit(X, column(y)); }

MLPRegressor& MLPRegressor::partial_fit(const Features& X, const Matrix<double>& Y) {
  if (choices().solver == MLPSolver::lbfgs) {
    throw Error("MLPRegressor.partial_fit is only available for stochastic optimizers. lbfgs is not "
                "stochastic.");
  }
  fit_values(X, Y, true, "MLPRegressor.partial_fit");
  return *this;
}

MLPRegressor& MLPRegressor::partial_fit(const Features& X, std::span<const double> y) {
  return partial_fit(X, column(y));
}

// scikit-learn's checks of a regressor's targets (check_X_y with
// multi_output and y_numeric), naming the row and column at fault.
void MLPRegressor::fit_values(const Features& X, const Matrix<double>& Y, bool incremental, const char* what) {
  check_params();
  check_fit_input(X, static_cast<std::size_t>(Y.rows()), what, "rows");
  if (Y.cols() < 1) throw Error(std::string(what) + ": y has no columns; at least 1 output is needed");
  for (Eigen::Index c = 0; c < Y.cols(); ++c) {
    for (Eigen::Index r = 0; r < Y.rows(); ++r) {
      if (!std::isfinite(Y(r, c))) {
        throw Error(std::string(what) + ": y holds a value that is not finite (" + std::to_string(Y(r, c)) +
                    ") at row " + std::to_string(r) + ", column " + std::to_string(c));
      }
    }
  }
  fit_targets(X, Y, incremental, MLPOutActivation::identity, false);
}

Matrix<double> MLPRegressor::predict(const Features& X) const { return forward(X); }

double MLPRegressor::score(const Features& X, const Matrix<double>& Y) const {
  if (static_cast<std::size_t>(Y.rows()) != X.rows()) {
    throw Error("MLPRegressor.score: X has " + std::to_string(X.rows()) + " rows but y has " +
                std::to_string(Y.rows()) + " rows");
  }
  const Matrix<double> predicted = predict(X);
  if (predicted.cols() != Y.cols()) {
    throw ShapeError("MLPRegressor.score: y has " + std::to_string(Y.cols()) + " columns but the model has " +
                     std::to_string(predicted.cols()) + " outputs");
  }
  return r2_score(Y, predicted);
}

double MLPRegressor::score(const Features& X, std::span<const double> y) const { return score(X, column(y)); }

double MLPRegressor::validation_score(const Matrix<double>& output, const Matrix<double>& Y) const {
  return r2_score(Y, output);
}

void MLPRegressor::set_weights(const std::vector<Matrix<double>>& coefs,
                               const std::vector<Matrix<double>>& intercepts, int n_iter) {
  const std::string where = "MLPRegressor.set_weights: ";
  if (coefs.empty() || coefs.back().cols() < 1) throw Error(where + "no coefs, or an output layer of no units");
  restore(coefs, intercepts, static_cast<int>(coefs.back().cols()), MLPOutActivation::identity, n_iter, where);
}

}  // namespace dagrad
