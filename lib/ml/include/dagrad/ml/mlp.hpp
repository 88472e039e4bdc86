// scikit-learn's MLPClassifier and MLPRegressor, built on a dagrad graph: the
// same parameters, defaults, initialization, solvers, stopping rules and
// verbose lines.
//   MLPClassifier mlp({.hidden_layer_sizes = {50}, .max_iter = 10, .random_state = 1, .verbose = 10});
//   mlp.fit(Features(mnist.train.images), labels);  double acc = mlp.score(X_test, y_test);
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>
#include <dagrad/core/tensor.hpp>
#include <dagrad/io/features.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dagrad {

class NumpyRandom;
namespace nn {
class ShardGroup;
}

// The hyperparameters whose values are words, as enums. MLPParams keeps
// scikit-learn's spellings (and model files and flags with it); a fit reads
// them once, through MLPParams::choices(), and branches on these.
enum class MLPSolver { sgd, adam, lbfgs };
enum class MLPActivation { identity, logistic, tanh, relu };  // the hidden layers'
enum class MLPOutActivation { identity, logistic, softmax };   // chosen by the targets
enum class MLPLearningRate { constant, invscaling, adaptive };
enum class MLPDtype { float32, float64 };

struct MLPChoices {
  MLPActivation activation;
  MLPSolver solver;
  MLPLearningRate learning_rate;
  MLPDtype dtype;
};

// scikit-learn's word for each value: "lbfgs", "softmax", ...
std::string to_string(MLPSolver solver);
std::string to_string(MLPActivation activation);
std::string to_string(MLPOutActivation activation);
std::string to_string(MLPLearningRate schedule);
std::string to_string(MLPDtype dtype);

// The hyperparameters: chosen by the programmer, not learned. Names and
// defaults are scikit-learn 1.2's.
struct MLPParams {
  std::vector<int> hidden_layer_sizes{100};
  std::string activation = "relu";          // identity, logistic, tanh, relu
  std::string solver = "adam";              // sgd, adam, lbfgs
  double alpha = 0.0001;                    // L2 penalty
  std::optional<int> batch_size;            // empty: "auto" = min(200, n_samples)
  std::string learning_rate = "constant";   // constant, invscaling, adaptive (sgd only)
  double learning_rate_init = 0.001;
  double power_t = 0.5;
  int max_iter = 200;
  bool shuffle = true;
  std::optional<std::uint32_t> random_state;  // empty: a fresh seed each fit
  double tol = 1e-4;
  int verbose = 0;
  bool warm_start = false;
  double momentum = 0.9;
  bool nesterovs_momentum = true;
  bool early_stopping = false;
  double validation_fraction = 0.1;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-8;
  int n_iter_no_change = 10;
  int max_fun = 15000;  // lbfgs only: the most loss and gradient evaluations
  // dagrad's own: the scalar type training runs in, and the executor's threads.
  std::string dtype = "float32";  // float32, float64 (float64 follows scikit-learn to ~1e-12)
  int threads = 0;                // 0: every core
  bool check_numerics = false;    // stop at the first NaN or infinity, naming the node
  // Each mini-batch cut into this many shards, computed one after another
  // and their gradients summed in order: what `shards` data-parallel
  // processes compute (nn::TrainOptions::shards), so that one process gives
  // a run's bits. With a shard group (set_group), 1 or the group's size.
  // sgd and adam only.
  int shards = 1;

  // Every parameter by its scikit-learn name, as text ("10,10", "auto", "true").
  static const std::vector<std::string>& names();
  // Whether `name` is one of scikit-learn's parameters (false for dagrad's
  // own: dtype, threads, check_numerics, shards), for help texts.
  static bool from_scikit_learn(const std::string& name);
  void set(const std::string& name, const std::string& value);  // throws naming it
  std::string get(const std::string& name) const;
  // Throws Error naming the first parameter out of range and its allowed values.
  void validate() const;
  // The word-valued parameters as enums; throws as validate() does for a
  // word that is not one of the allowed.
  MLPChoices choices() const;
  // Throws Error, before anything is allocated, when the parameters of the
  // network for data of this shape (with their gradients and optimizer
  // state) need more than this machine's memory, naming the largest layer.
  void check_memory(int n_features, int n_outputs) const;
};

// Called after each mini-batch, for progress bars.
struct Progress {
  int iteration;  // 1-based epoch
  std::size_t samples_done, samples_total;
};

// What MLPClassifier and MLPRegressor share, as scikit-learn's
// BaseMultilayerPerceptron: the network, its initialization, the solvers,
// the batch loop, the stopping rules, early stopping and the verbose lines.
// The two differ in their output layer and loss (out_activation()) and in
// how a validation set is scored.
class MultilayerPerceptron {
 public:
  virtual ~MultilayerPerceptron();
  MultilayerPerceptron(MultilayerPerceptron&&) noexcept;
  MultilayerPerceptron& operator=(MultilayerPerceptron&&) noexcept;

  MLPParams& params() { return params_; }
  const MLPParams& params() const { return params_; }

  // Results of training, as scikit-learn names them (without the trailing _).
  // lbfgs, as in scikit-learn, keeps no loss curve or best loss: only loss
  // (at the solver's last evaluation) and n_iter.
  const std::vector<double>& loss_curve() const { return loss_curve_; }
  double loss() const { return loss_; }
  std::optional<double> best_loss() const { return best_loss_; }
  const std::vector<double>& validation_scores() const { return validation_scores_; }
  std::optional<double> best_validation_score() const { return best_validation_score_; }
  // dagrad's own: with early stopping, the loss (data term plus the L2 term
  // scaled by the validation rows) over the held-out rows after each epoch,
  // beside loss_curve(); empty without early stopping.
  const std::vector<double>& validation_loss_curve() const { return validation_loss_curve_; }
  int n_iter() const { return n_iter_; }
  // Training samples seen by the solver's updates (sgd, adam), as
  // scikit-learn's t_; 0 for lbfgs.
  std::uint64_t t() const { return t_; }
  // The layers, input and output included: hidden_layer_sizes + 2.
  int n_layers() const { return int(params_.hidden_layer_sizes.size()) + 2; }
  // The output layer's units (0 before a fit), and its activation:
  // "softmax", "logistic" or "identity" ("" before a fit).
  int n_outputs() const;
  std::string out_activation() const;
  std::vector<Matrix<double>> coefs() const;
  std::vector<Matrix<double>> intercepts() const;
  bool fitted() const { return model_ != nullptr; }

  // The network as a dagrad graph (built by the first fit), for DOT export.
  const Graph& graph() const;
  // Its output node (the probabilities; the values for a regressor), and
  // each parameter node with its trained values: what export_onnx takes.
  Node output() const;
  std::vector<std::pair<Node, Matrix<double>>> parameter_values() const;
  // Layers, each parameter tensor with its shape and count, the total, and
  // the hyperparameters: the lesson's parameters versus hyperparameters.
  std::string summary() const;

  // Where verbose lines and the non-convergence warning go. lbfgs's verbose
  // lines are L-BFGS-B's own, printed by the library to standard output, as
  // in scikit-learn.
  void set_output(std::ostream* out, std::ostream* warnings);
  void set_progress(std::function<void(const Progress&)> callback);

  // The processes training this model together (not owned; null: this one
  // alone): each computes its shard of every mini-batch and all take the
  // same steps, as params().shards = group->size() does in one process.
  // Everything else (initialization, shuffles, early stopping's scores,
  // predict) runs whole on every rank, with the same bits. Without a
  // random_state the ranks use rank 0's seed. Not a parameter: a model file
  // does not keep it.
  void set_group(nn::ShardGroup* group) { group_ = group; }
  nn::ShardGroup* group() const { return group_; }

  // Times every node of the network's graph (ExecutorOptions::profile) in
  // the fits and scoring after this call, for profile(): where a training
  // step's time goes, node by node. Off by default (it reads the clock twice
  // a node).
  void set_profiling(bool on);
  // Each node's kernel time since profiling was switched on, most first;
  // empty before a fit.
  std::vector<NodeTime> profile() const;
  // Where the last training step of the fit kept its values
  // (Executor::memory_plan(), for plan_summary and DotOptions::memory);
  // empty before a fit.
  MemoryReport fit_memory_plan() const;

  struct Model;  // the graph, executor and optimizer state

 protected:
  // `name` starts error messages: "MLPClassifier", "MLPRegressor".
  MultilayerPerceptron(MLPParams params, std::string name);
  // params().validate(), its error starting with this estimator's name.
  void check_params() const;
  // params().choices(), its error starting with this estimator's name.
  MLPChoices choices() const;
  // out_activation() as the enum; identity before a fit.
  MLPOutActivation out_kind() const;

  // A fit on targets as the output layer sees them: Y is n x outputs
  // (one-hot classes, 0/1 labels, or values). A first pass builds the
  // network with this output activation; `stratify`: early stopping holds
  // out each class's share (Y's rows are one-hot or a single 0/1 column).
  void fit_targets(const Features& X, const Matrix<double>& Y, bool incremental, MLPOutActivation out_activation,
                   bool stratify);
  // The output layer's values for every row of X: n x n_outputs().
  Matrix<double> forward(const Features& X) const;
  // Checks X's width against the fitted network, naming `what`.
  void check_predict_input(const Features& X) const;
  // Builds the network as a first fit does and sets its weights; checks
  // the shapes, naming where.
  void restore(const std::vector<Matrix<double>>& coefs, const std::vector<Matrix<double>>& intercepts,
               int n_outputs, MLPOutActivation out_activation, int n_iter, const std::string& where);
  // Early stopping's score of the output layer's values for held-out rows
  // against their targets (both encoded as in fit_targets): higher is better.
  virtual double validation_score(const Matrix<double>& output, const Matrix<double>& Y) const = 0;
  const std::string& name() const { return name_; }

 private:
  void fit_stochastic(const Features& X, const Matrix<double>& Y, bool incremental, bool stratify,
                      NumpyRandom& rng);
  void fit_lbfgs(const Features& X, const Matrix<double>& Y);
  double train_epoch(const Features& X, std::span<const std::size_t> order, const Matrix<double>& Y,
                     std::size_t batch_size);
  void validate_epoch(const Features& X, const Matrix<double>& Y, std::span<const std::size_t> rows,
                      std::vector<Matrix<double>>& best_params);
  void update_no_improvement_count(double epoch_loss, std::optional<double> validation_score,
                                   std::vector<Matrix<double>>& best_params);
  bool no_improvement_stops(bool early_stopping);
  void reset_training_state(int n_iter);
  void check_sharding() const;
  std::uint32_t fit_seed() const;

  MLPParams params_;
  std::string name_;
  std::unique_ptr<Model> model_;
  std::vector<double> loss_curve_;
  double loss_ = NAN;
  std::optional<double> best_loss_;
  std::vector<double> validation_scores_;
  std::vector<double> validation_loss_curve_;
  std::optional<double> best_validation_score_;
  int n_iter_ = 0;
  std::uint64_t t_ = 0;
  int no_improvement_count_ = 0;
  std::ostream* out_;
  std::ostream* warnings_;
  std::function<void(const Progress&)> progress_;
  bool profiling_ = false;
  nn::ShardGroup* group_ = nullptr;
};

// scikit-learn's MLPClassifier. As there: more than two classes get one
// softmax unit each and cross-entropy; two classes one logistic unit (the
// probability of classes()[1]) and binary cross-entropy; multi-label
// targets, an n x L 0/1 matrix, one logistic unit per label.
class MLPClassifier : public MultilayerPerceptron {
 public:
  explicit MLPClassifier(MLPParams params = {});

  // y holds one class label per row of X.
  MLPClassifier& fit(const Features& X, std::span<const int> y);
  // Multi-label: Y(i, l) is 1 when row i has label l, else 0; classes()
  // is 0, ..., L - 1.
  MLPClassifier& fit(const Features& X, const Matrix<int>& Y);
  // One epoch over X, keeping weights and optimizer state; `classes` is
  // required on the first call.
  MLPClassifier& partial_fit(const Features& X, std::span<const int> y,
                             std::span<const int> classes = {});
  // Multi-label: `classes` on the first call is 0, ..., L - 1, Y's columns
  // (scikit-learn asks for them, and checks y's labels against them).
  MLPClassifier& partial_fit(const Features& X, const Matrix<int>& Y, std::span<const int> classes = {});

  // The most probable class of each row (for two classes, classes()[1]
  // when its probability is above 0.5). Not for a multi-label model.
  std::vector<int> predict(const Features& X) const;
  // A multi-label model's labels: 1 where a label's probability is above 0.5.
  Matrix<int> predict_indicator(const Features& X) const;
  // n x classes, columns in classes() order; rows sum to 1 but for a
  // multi-label model (one independent probability per label). Two classes
  // give [1 - p, p], p the logistic unit's, as scikit-learn does.
  Matrix<double> predict_proba(const Features& X) const;
  // log(predict_proba(X)), element by element, as scikit-learn computes it
  // (a probability that rounded to 0 gives -infinity).
  Matrix<double> predict_log_proba(const Features& X) const;
  double score(const Features& X, std::span<const int> y) const;  // accuracy
  // Multi-label: the share of rows whose every label is right (subset accuracy).
  double score(const Features& X, const Matrix<int>& Y) const;

  const std::vector<int>& classes() const { return classes_; }
  bool multilabel() const { return multilabel_; }
  // Restores a trained network without fitting (a model file's contents):
  // builds it as the first fit does for these params and sets its weights.
  // coefs[i] is units[i] x units[i+1], intercepts[i] is 1 x units[i+1]; the
  // output layer has one unit per class, but one unit for two classes.
  void set_weights(std::vector<int> classes, const std::vector<Matrix<double>>& coefs,
                   const std::vector<Matrix<double>>& intercepts, int n_iter = 0);
  // The same for a multi-label model: one logistic unit per label, the
  // labels (classes()) 0, ..., coefs.back().cols() - 1.
  void set_multilabel_weights(const std::vector<Matrix<double>>& coefs,
                              const std::vector<Matrix<double>>& intercepts, int n_iter = 0);

 protected:
  double validation_score(const Matrix<double>& output, const Matrix<double>& Y) const override;

 private:
  void fit_labels(const Features& X, std::span<const int> y, bool incremental);
  void fit_encoded(const Features& X, const Matrix<double>& Y, bool incremental);
  // Multi-label targets: at least 2 columns, each value 0 or 1; `who` starts errors.
  void check_indicator(const Features& X, const Matrix<int>& Y, const char* who) const;

  std::vector<int> classes_;
  bool multilabel_ = false;
};

// The output units for n_classes classes, as scikit-learn: one logistic
// unit for two, one softmax unit each for more.
int output_units(std::size_t n_classes);

// scikit-learn's MLPRegressor: an identity output layer and the squared
// error, ((y - prediction)^2).mean() / 2 plus alpha / (2 n) times the sum of
// the squared weights; score is R^2. Targets may have several columns.
//   MLPRegressor mlp({.hidden_layer_sizes = {20}, .solver = "lbfgs", .random_state = 0});
//   mlp.fit(Features(X), Y);  double r2 = mlp.score(Features(X_test), Y_test);
class MLPRegressor : public MultilayerPerceptron {
 public:
  explicit MLPRegressor(MLPParams params = {});

  // Y holds one row of targets per row of X: n x n_outputs.
  MLPRegressor& fit(const Features& X, const Matrix<double>& Y);
  MLPRegressor& fit(const Features& X, std::span<const double> y);  // one output
  // One epoch over X, keeping weights and optimizer state (sgd, adam).
  MLPRegressor& partial_fit(const Features& X, const Matrix<double>& Y);
  MLPRegressor& partial_fit(const Features& X, std::span<const double> y);

  // n x n_outputs, also for one output, where scikit-learn returns a flat
  // vector of n: that vector is predict(X).col(0).
  Matrix<double> predict(const Features& X) const;
  // R^2 of predict(X) against Y, the outputs' uniform average (r2_score).
  double score(const Features& X, const Matrix<double>& Y) const;
  double score(const Features& X, std::span<const double> y) const;

  // As MLPClassifier::set_weights: the network of these params with these
  // weights; the outputs are coefs.back()'s columns.
  void set_weights(const std::vector<Matrix<double>>& coefs, const std::vector<Matrix<double>>& intercepts,
                   int n_iter = 0);

 protected:
  double validation_score(const Matrix<double>& output, const Matrix<double>& Y) const override;

 private:
  void fit_values(const Features& X, const Matrix<double>& Y, bool incremental, const char* what);
};

// scikit-learn's r2_score with multioutput="uniform_average": per column,
// 1 - sum (y - p)^2 / sum (y - mean y)^2, averaged over the columns. A
// constant column scores 1 when predicted exactly, else 0; fewer than two
// rows give NaN (scikit-learn warns and returns nan).
double r2_score(const Matrix<double>& y_true, const Matrix<double>& y_pred);

// MNIST's uint8 labels as the ints MLPClassifier takes.
std::vector<int> to_labels(std::span<const std::uint8_t> labels);

}  // namespace dagrad
