// scikit-learn's MLPRegressor on the diabetes data set that Debian's
// python3-sklearn ships (442 patients, 10 measurements, one year's disease
// progression): every hyperparameter a flag named as in scikit-learn
// (--hidden-layer-sizes 20 --solver lbfgs ...). The last --test-rows rows
// are held out; the features are standardized with the training rows' mean
// and standard deviation (scikit-learn's StandardScaler), as their raw
// scales differ a hundredfold; the target is left as it is. Under mpirun
// (a build with MPI) each rank trains on its shard of every batch, as
// --shards N does in one process, and rank 0 alone prints and saves.
#include "mlp_flags.hpp"
#include "ranks.hpp"

#include <dagrad/dagrad.hpp>

#include <chrono>
#include <cmath>
#include <iostream>

using namespace dagrad;

namespace {

const char* const sklearn_data = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

ArgParser regressor_parser() {
  ArgParser p("mlp_regressor",
              "Trains scikit-learn's MLPRegressor, rebuilt on a dagrad graph, on the diabetes data set\n"
              "and prints R^2 on the training and test rows. Hyperparameters are flags named as in\n"
              "scikit-learn, with dashes.");
  add_mlp_param_flags(p);
  p.add("data", "DIR", std::string("folder with diabetes_data_raw.csv.gz and diabetes_target.csv.gz (default ") +
                           sklearn_data + ", from python3-sklearn)");
  p.add("test-rows", "N", "hold out the last N rows to test on (default 100)");
  p.add_switch("raw", "train on the features as they are, not standardized");
  p.add("save", "FILE", "save the trained model to FILE (a dagrad model file, docs/model_format.md)");
  p.add("load", "FILE", "load a model from FILE and score it; with --warm-start, train it further");
  p.add_switch("timing", "print the fit time in seconds");
  return p;
}

// Each column of X shifted and scaled by the training rows' mean and
// population standard deviation (a constant column is only shifted).
void standardize(Matrix<double>& X, Eigen::Index train_rows) {
  for (Eigen::Index c = 0; c < X.cols(); ++c) {
    const auto train = X.col(c).head(train_rows);
    const double mean = train.mean();
    const double sd = std::sqrt((train.array() - mean).square().mean());
    X.col(c).array() -= mean;
    if (sd > 0) X.col(c) /= sd;
  }
}

// group: the ranks of mpirun, or null for one process.
int run(int argc, char** argv, nn::ShardGroup* group) {
  const std::optional<ParsedArgs> parsed = regressor_parser().parse_or_help(argc, argv);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  MLPParams params;
  apply_mlp_param_flags(args, params);

  const std::string dir = args.get("data", sklearn_data);
  Matrix<double> X = read_table(dir + "/diabetes_data_raw.csv.gz");
  const Matrix<double> y = read_table(dir + "/diabetes_target.csv.gz");
  if (y.rows() != X.rows() || y.cols() != 1) {
    throw DataError(dir + ": diabetes_target.csv.gz holds " + std::to_string(y.rows()) + "x" +
                    std::to_string(y.cols()) + " values, not one for each of the " + std::to_string(X.rows()) +
                    " rows of diabetes_data_raw.csv.gz");
  }
  const long test_rows = args.get_int("test-rows", 100, 1, long(X.rows()) - 2);
  const Eigen::Index train_rows = X.rows() - test_rows;
  if (!args.has("raw")) standardize(X, train_rows);
  const Matrix<double> X_train = X.topRows(train_rows), X_test = X.bottomRows(test_rows);
  const Matrix<double> y_train = y.topRows(train_rows), y_test = y.bottomRows(test_rows);
  std::cout << "(" << X_train.rows() << ", " << X_train.cols() << ")\n";

  MLPRegressor mlp(params);
  // A loaded model is only scored, unless --warm-start asks to train it
  // further; the flags given apply over its hyperparameters.
  const bool train = !args.has("load") || params.warm_start;
  if (args.has("load")) {
    mlp = load_mlp_regressor(args.get("load"));
    apply_mlp_param_flags(args, mlp.params());
  }
  mlp.set_group(group);
  const bool writes = !group || group->rank() == 0;
  std::ostream nowhere(nullptr);  // discards: the warnings (on standard error) once, from rank 0
  if (!writes) mlp.set_output(&std::cout, &nowhere);
  const auto start = std::chrono::steady_clock::now();
  if (train) mlp.fit(Features(X_train), y_train);
  const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!writes) return 0;  // the same model as rank 0's, bit for bit: rank 0 reports it
  std::cout << "Training R^2: " << repr(mlp.score(Features(X_train), y_train)) << "\n";
  std::cout << "Testing R^2: " << repr(mlp.score(Features(X_test), y_test)) << "\n";
  std::cout << "loss_ = " << repr(mlp.loss()) << ", n_iter_ = " << mlp.n_iter() << "\n";
  if (args.has("timing")) std::cout << "fit_seconds: " << fit_seconds << "\n";
  if (args.has("save")) {
    save(mlp, args.get("save"));
    std::cout << "Saved the model to " << args.get("save") << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_ranks("mlp_regressor", [&](nn::ShardGroup* group) { return run(argc, argv, group); });
}
