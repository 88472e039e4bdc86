// Hyperparameter search: trains MLPClassifier on every combination of a grid,
// scores each on validation rows carved from the training rows (never the test
// set, which GridSearch never sees), several configurations at once on oneTBB.
//   GridSearch gs({.max_iter = 10, .random_state = 1}, {{"learning_rate_init", {"0.001", "0.01"}}});
//   GridResult r = gs.fit(mnist.train.images, y_train);  r.best_estimator->score(X_test, y_test);
#pragma once

#include <dagrad/core/tensor.hpp>
#include <dagrad/io/idx.hpp>
#include <dagrad/ml/mlp.hpp>
#include <dagrad/nn/shard_group.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dagrad {

// One parameter of the grid: its scikit-learn name and the values to try, as
// MLPParams::set reads them ("0.01", "10,10,10").
struct GridParam {
  std::string name;
  std::vector<std::string> values;
};
// Searched as a cartesian product, the first parameter varying slowest (the
// lesson's nested loops, outermost first).
using Grid = std::vector<GridParam>;

// Validation rows held out of the training rows: `rows` of them, or when rows
// is 0, ceil(fraction * n). Without shuffle they are the last rows (the
// reference's rows 50000..59999 of MNIST's training set); with shuffle they are
// the first ones of numpy's RandomState(seed).permutation(n), as scikit-learn's
// train_test_split(test_size, random_state=seed) picks them. The training part
// keeps its rows in their original order.
struct Holdout {
  std::size_t rows = 0;
  double fraction = 0;
  bool shuffle = false;
  std::uint32_t seed = 0;
};

// k-fold cross-validation as scikit-learn's KFold (the first n % folds folds one
// row larger; shuffle as KFold(shuffle=True, random_state=seed)). A
// configuration's validation score is the mean of its fold scores, as
// GridSearchCV's mean_test_score.
struct KFold {
  int folds = 5;
  bool shuffle = false;
  std::uint32_t seed = 0;
};

using Validation = std::variant<Holdout, KFold>;

// The rows one model trains on and the rows it is scored on, as indices into
// the training rows, each ascending.
struct Split {
  std::vector<std::size_t> train, validation;
};
// The splits `scheme` makes of n rows (one for Holdout, `folds` for KFold).
// Throws Error when the scheme does not fit n (no rows left to train on, ...).
std::vector<Split> make_splits(std::size_t n, const Validation& scheme);

struct GridSearchOptions {
  Validation validation = Holdout{.fraction = 0.2};
  // Train the best configuration again on all the training rows.
  bool refit = false;
  // Configurations trained at once (0: every core). Each classifier's own
  // executor runs on one thread, so configurations, not ops, run in parallel.
  int threads = 0;
  // Processes sharing the search (not owned), e.g. dist::MpiGroup: each
  // trains every size()-th (configuration, fold), from its rank(), and the
  // outcomes are gathered, so every member returns the rows and the best
  // pick one process would. on_result is then called after the gather, in
  // grid order; the best estimator (refit, or sent by the rank that trained
  // it, restored from its weights) is rank 0's alone.
  nn::ShardGroup* group = nullptr;
};

// One configuration's outcome. For KFold, loss is the mean over folds of the
// final training loss, n_iter the largest and fit_seconds the sum.
struct GridRow {
  std::size_t index = 0;  // in grid order
  std::vector<std::pair<std::string, std::string>> params;  // the grid's parameters, name and value
  MLPParams full_params;                                   // base parameters with those applied
  double validation_score = 0;                             // accuracy; mean of fold_scores
  std::vector<double> fold_scores;                         // one per split
  double loss = 0;
  int n_iter = 0;
  double fit_seconds = 0;

  // "learning_rate_init=0.01 hidden_layer_sizes=(50,)"
  std::string describe() const;
};

struct GridResult {
  std::vector<GridRow> rows;  // in grid order, whatever order they finished in
  std::size_t best_index = 0;  // highest validation score; ties go to the first in grid order
  // The best configuration's model: refit on all training rows when asked,
  // else (Holdout only) the one trained on the training part. Empty for KFold
  // without refit.
  std::optional<MLPClassifier> best_estimator;
  std::vector<Split> splits;  // the rows each configuration was trained and scored on
  double seconds = 0;         // the whole search, refit included

  const GridRow& best() const { return rows[best_index]; }
};

class GridSearch {
 public:
  // Checks every grid entry now: an unknown name (Error suggesting the nearest
  // one), an empty value list, a value MLPParams cannot take in any
  // combination, or `threads` in the grid (GridSearch sets it).
  GridSearch(MLPParams base, Grid grid, GridSearchOptions options = {});

  // The combinations in grid order, base parameters with the grid's applied.
  const std::vector<MLPParams>& configurations() const { return configurations_; }
  const Grid& grid() const { return grid_; }

  // Called once per configuration as it finishes, one call at a time (the
  // calls are serialized), in finishing order.
  void on_result(std::function<void(const GridRow&)> callback) { on_result_ = std::move(callback); }

  // Training data only: test rows have no way in. y holds one label per row.
  GridResult fit(const Images& X, std::span<const int> y) const;
  GridResult fit(const Matrix<float>& X, std::span<const int> y) const;
  GridResult fit(const Matrix<double>& X, std::span<const int> y) const;

 private:
  template <class Source>
  GridResult run(const Source& X, std::span<const int> y) const;

  MLPParams base_;
  Grid grid_;
  GridSearchOptions options_;
  std::vector<MLPParams> configurations_;
  std::vector<std::vector<std::pair<std::string, std::string>>> assignments_;
  std::function<void(const GridRow&)> on_result_;
};

// The rows at `indices` of X, copied (uint8 images stay uint8).
Images take_rows(const Images& X, std::span<const std::size_t> indices);
template <class T>
Matrix<T> take_rows(const Matrix<T>& X, std::span<const std::size_t> indices);

}  // namespace dagrad
