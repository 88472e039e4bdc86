#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include "blobs.hpp"
#include "contains.hpp"
#include "thrown.hpp"

#include <algorithm>
#include <random>
#include <streambuf>
#include <sstream>
#include <string>
#include <vector>

using namespace dagrad;
using dagrad::testing::Blobs;
using dagrad::testing::blobs;
using dagrad::testing::quiet;

TEST_CASE("every parameter out of range is an error naming it and its allowed values") {
  struct Bad {
    const char* name;
    const char* value;
    const char* says;
  };
  const Bad cases[] = {
      {"hidden_layer_sizes", "10,0", "> 0"},
      {"activation", "softplus", "identity, logistic, tanh, relu"},
      {"solver", "newton", "sgd, adam, lbfgs"},
      {"alpha", "-1", ">= 0"},
      {"batch_size", "0", ">= 1"},
      {"learning_rate", "fast", "constant, invscaling, adaptive"},
      {"learning_rate_init", "0", "> 0"},
      {"power_t", "-0.5", ">= 0"},
      {"max_iter", "0", ">= 1"},
      {"tol", "-1", ">= 0"},
      {"momentum", "1.5", "[0, 1]"},
      {"validation_fraction", "1", "(0, 1)"},
      {"beta_1", "1", "[0, 1)"},
      {"beta_2", "-0.1", "[0, 1)"},
      {"epsilon", "0", "> 0"},
      {"n_iter_no_change", "0", ">= 1"},
      {"max_fun", "0", ">= 1"},
      {"dtype", "float16", "float32, float64"},
      {"threads", "-2", ">= 0"},
      {"shards", "0", ">= 1"},
  };
  for (const Bad& c : cases) {
    CAPTURE(c.name);
    MLPParams p;
    p.set(c.name, c.value);
    const std::string what = thrown<Error>([&] { p.validate(); });
    check_contains(what, {std::string("'") + c.name + "'", c.says});
    CHECK_THROWS_AS(MLPClassifier{p}, Error);
  }
}

TEST_CASE("parameters read and write by their scikit-learn names") {
  MLPParams p;
  for (const auto& name : MLPParams::names()) {
    CAPTURE(name);
    MLPParams q;
    q.set(name, p.get(name));  // every default survives a round trip as text
    CHECK(q.get(name) == p.get(name));
  }
  p.set("hidden_layer_sizes", "(10, 10, 10)");
  CHECK(p.hidden_layer_sizes == std::vector<int>{10, 10, 10});
  p.set("hidden_layer_sizes", "(50,)");  // Python's one-element tuple
  CHECK(p.hidden_layer_sizes == std::vector<int>{50});
  p.set("hidden_layer_sizes", "");
  CHECK(p.hidden_layer_sizes.empty());
  for (const char* typo : {"50,,10", ",50", "50,,", "10,,"}) {
    CAPTURE(typo);
    CHECK_THROWS_WITH_AS(p.set("hidden_layer_sizes", typo), doctest::Contains("missing between commas"), Error);
  }
  p.set("batch_size", "auto");
  CHECK_FALSE(p.batch_size.has_value());
  p.set("random_state", "None");
  CHECK_FALSE(p.random_state.has_value());
  CHECK_THROWS_WITH_AS(p.set("hidden_layer_size", "10"), doctest::Contains("'hidden_layer_size'"), Error);
  CHECK_THROWS_WITH_AS(p.set("alpha", "lots"), doctest::Contains("'alpha'"), Error);
  CHECK_THROWS_WITH_AS(p.set("shuffle", "maybe"), doctest::Contains("true or false"), Error);
  // Help texts say whose each parameter is.
  CHECK(MLPParams::from_scikit_learn("alpha"));
  CHECK(MLPParams::from_scikit_learn("n_iter_no_change"));
  for (const char* own : {"dtype", "threads", "check_numerics", "shards"}) {
    CHECK_FALSE(MLPParams::from_scikit_learn(own));
  }
}

TEST_CASE("a small problem is learned to high accuracy and predict_proba rows sum to 1") {
  Blobs train = blobs(300, 1), test = blobs(150, 2);
  MLPClassifier mlp = quiet({.hidden_layer_sizes = {16}, .max_iter = 100, .random_state = 0});
  mlp.fit(Features(train.X), train.y);
  CHECK(mlp.classes() == std::vector<int>{3, 5, 7});
  CHECK(mlp.score(Features(test.X), test.y) > 0.97);
  Matrix<double> proba = mlp.predict_proba(Features(test.X));
  REQUIRE(proba.rows() == 150);
  REQUIRE(proba.cols() == 3);
  for (Eigen::Index r = 0; r < proba.rows(); ++r) CHECK(proba.row(r).sum() == doctest::Approx(1.0).epsilon(1e-6));
  std::vector<int> predicted = mlp.predict(Features(test.X));
  for (int label : predicted) CHECK((label == 3 || label == 5 || label == 7));
  CHECK(mlp.loss_curve().size() == static_cast<std::size_t>(mlp.n_iter()));
  CHECK(mlp.loss_curve().back() < mlp.loss_curve().front());
  // scikit-learn's predict_log_proba is np.log(predict_proba), and its t_
  // counts the samples the updates have seen: 300 an epoch here.
  const Matrix<double> log_proba = mlp.predict_log_proba(Features(test.X));
  REQUIRE(log_proba.rows() == 150);
  for (Eigen::Index i = 0; i < log_proba.size(); ++i) CHECK(log_proba.data()[i] == std::log(proba.data()[i]));
  CHECK(mlp.t() == 300u * static_cast<std::uint64_t>(mlp.n_iter()));
  CHECK(mlp.n_layers() == 3);
}

TEST_CASE("every activation and solver trains") {
  Blobs train = blobs(240, 3);
  for (std::string activation : {"identity", "logistic", "tanh", "relu"}) {
    for (std::string solver : {"sgd", "adam"}) {
      CAPTURE(activation);
      CAPTURE(solver);
      MLPParams p{.hidden_layer_sizes = {8}, .max_iter = 60, .random_state = 4};
      p.activation = activation;
      p.solver = solver;
      p.learning_rate_init = solver == "sgd" ? 0.05 : 0.01;
      MLPClassifier mlp = quiet(p);
      mlp.fit(Features(train.X), train.y);
      CHECK(mlp.score(Features(train.X), train.y) > 0.9);
    }
  }
}

TEST_CASE("the verbose lines and the warning when max_iter is reached read as scikit-learn's") {
  Blobs train = blobs(90, 5);
  std::ostringstream out, warnings;
  MLPClassifier mlp({.hidden_layer_sizes = {4}, .max_iter = 3, .random_state = 1, .verbose = 10});
  mlp.set_output(&out, &warnings);
  mlp.fit(Features(train.X), train.y);
  std::istringstream lines(out.str());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    CHECK(line.rfind("Iteration " + std::to_string(count) + ", loss = ", 0) == 0);
    CHECK(line.size() == line.find("= ") + 2 + 10);  // 8 decimals, e.g. 1.23456789
  }
  CHECK(count == 3);
  CHECK(contains(warnings.str(), "Maximum iterations (3) reached and the optimization hasn't converged yet."));
}

TEST_CASE("early stopping stops, keeps the best weights and says why") {
  Blobs train = blobs(600, 6, 0.2);
  std::ostringstream out;
  MLPClassifier mlp({.hidden_layer_sizes = {8}, .learning_rate_init = 0.01, .max_iter = 500,
                     .random_state = 2, .verbose = 1, .early_stopping = true, .n_iter_no_change = 3});
  mlp.set_output(&out, &out);
  mlp.fit(Features(train.X), train.y);
  CHECK(mlp.n_iter() < 500);
  CHECK(mlp.validation_scores().size() == static_cast<std::size_t>(mlp.n_iter()));
  REQUIRE(mlp.best_validation_score().has_value());
  CHECK(*mlp.best_validation_score() > 0.95);
  CHECK_FALSE(mlp.best_loss().has_value());
  check_contains(out.str(), {"Validation score: ",
                             "Validation score did not improve more than tol=0.000100 for 3 consecutive epochs. Stopping."});
}

TEST_CASE("training stops when the loss stops improving, as scikit-learn's tol rule says") {
  Blobs train = blobs(300, 8, 0.1);
  std::ostringstream out;
  MLPClassifier mlp({.hidden_layer_sizes = {8}, .max_iter = 1000, .random_state = 3, .tol = 0.01,
                     .verbose = 1, .n_iter_no_change = 2});
  mlp.set_output(&out, &out);
  mlp.fit(Features(train.X), train.y);
  CHECK(mlp.n_iter() < 1000);
  CHECK(contains(out.str(), "Training loss did not improve more than tol=0.010000 for 2 consecutive epochs. Stopping."));
  REQUIRE(mlp.best_loss().has_value());
}

TEST_CASE("warm_start continues from the weights it has") {
  Blobs train = blobs(150, 9);
  MLPClassifier mlp = quiet({.hidden_layer_sizes = {6}, .max_iter = 5, .random_state = 1});
  mlp.fit(Features(train.X), train.y);
  const double after_first = mlp.loss_curve().back();
  const auto coefs_before = mlp.coefs();
  mlp.params().warm_start = true;
  mlp.fit(Features(train.X), train.y);
  CHECK(mlp.n_iter() == 10);
  REQUIRE(mlp.loss_curve().size() == 10);
  CHECK(mlp.loss_curve()[5] < mlp.loss_curve()[0]);
  CHECK(mlp.loss_curve()[5] < after_first * 1.05);
  CHECK_FALSE(mlp.coefs()[0] == coefs_before[0]);
  // As scikit-learn, a warm start needs the same classes.
  std::vector<int> fewer(train.y);
  for (int& label : fewer) label = label == 7 ? 5 : label;
  CHECK_THROWS_WITH_AS(mlp.fit(Features(train.X), fewer), doctest::Contains("warm_start needs y to have the classes"),
                       Error);

  // Without warm_start, fit starts again from the same initial weights.
  MLPClassifier fresh = quiet({.hidden_layer_sizes = {6}, .max_iter = 5, .random_state = 1});
  fresh.fit(Features(train.X), train.y);
  mlp.params().warm_start = false;
  mlp.fit(Features(train.X), train.y);
  CHECK(mlp.loss_curve() == fresh.loss_curve());
}

TEST_CASE("partial_fit needs the classes first, then runs one epoch per call") {
  Blobs train = blobs(150, 10);
  MLPClassifier mlp = quiet({.hidden_layer_sizes = {6}, .random_state = 1});
  CHECK_THROWS_WITH_AS(mlp.partial_fit(Features(train.X), train.y), doctest::Contains("classes"), Error);
  const std::vector<int> classes{3, 5, 7};
  mlp.partial_fit(Features(train.X), train.y, classes);
  mlp.partial_fit(Features(train.X), train.y);
  CHECK(mlp.n_iter() == 2);
  CHECK(mlp.loss_curve().size() == 2);
  std::vector<int> unknown(train.y);
  unknown[4] = 9;
  CHECK_THROWS_WITH_AS(mlp.partial_fit(Features(train.X), unknown), doctest::Contains("label 9"), Error);
}

TEST_CASE("bad training data is refused with a clear error") {
  Blobs train = blobs(30, 11);
  MLPClassifier mlp = quiet({.hidden_layer_sizes = {4}, .max_iter = 2});
  std::vector<int> short_y(train.y.begin(), train.y.begin() + 10);
  CHECK_THROWS_WITH_AS(mlp.fit(Features(train.X), short_y), doctest::Contains("30 rows but y has 10"), Error);
  Matrix<double> nan_x = train.X;
  nan_x(7, 1) = std::nan("");
  CHECK_THROWS_WITH_AS(mlp.fit(Features(nan_x), train.y), doctest::Contains("row 7, column 1"), Error);
  std::vector<int> one_class(30, 1);
  CHECK_THROWS_WITH_AS(mlp.fit(Features(train.X), one_class), doctest::Contains("y has 1 class; at least 2"), Error);
  Matrix<double> inf_x = train.X;
  inf_x(29, 0) = INFINITY;
  CHECK_THROWS_WITH_AS(mlp.fit(Features(inf_x), train.y), doctest::Contains("row 29, column 0"), Error);
  CHECK_THROWS_WITH_AS(mlp.fit(Features(Matrix<double>(30, 0)), train.y), doctest::Contains("at least 1 feature"),
                       Error);
  CHECK_THROWS_AS(mlp.predict(Features(train.X)), Error);
}

TEST_CASE("the loss curve is bit-identical at 1 and 2 threads") {
  Blobs train = blobs(400, 12);
  std::vector<double> curves[2];
  for (int threads : {1, 2}) {
    MLPClassifier mlp = quiet({.hidden_layer_sizes = {16, 8}, .max_iter = 8, .random_state = 5});
    mlp.params().threads = threads;
    mlp.fit(Features(train.X), train.y);
    curves[threads - 1] = mlp.loss_curve();
  }
  CHECK(curves[0] == curves[1]);
}

TEST_CASE("summary separates learned parameters from hyperparameters") {
  Matrix<double> X = Matrix<double>::Random(20, 784);
  std::vector<int> y(20);
  for (int i = 0; i < 20; ++i) y[i] = i % 10;
  MLPClassifier mlp = quiet({.hidden_layer_sizes = {50}, .max_iter = 1, .random_state = 1});
  mlp.fit(Features(X), y);
  const std::string s = mlp.summary();
  check_contains(s, {"layer1/weights  784x50  39200", "output/bias  1x10  10", "total: 39760 parameters",
                     "hidden_layer_sizes = 50", "learning_rate_init = 0.001"});
  CHECK(s.find("Parameters") < s.find("Hyperparameters"));
}

TEST_CASE("a warm start may switch early stopping on") {
  Blobs train = blobs(300, 13);
  MLPClassifier mlp = quiet({.hidden_layer_sizes = {6}, .learning_rate_init = 0.05, .max_iter = 20,
                             .random_state = 1});
  mlp.fit(Features(train.X), train.y);
  mlp.params().warm_start = true;
  mlp.params().early_stopping = true;
  mlp.params().max_iter = 3;
  mlp.fit(Features(train.X), train.y);
  CHECK(mlp.validation_scores().size() == 3);
  REQUIRE(mlp.best_validation_score().has_value());
  CHECK(*mlp.best_validation_score() > 0.9);
}

TEST_CASE("profiling times every node of the training graph once a step") {
  Blobs train = blobs(120, 13);
  MLPClassifier mlp = quiet({.hidden_layer_sizes = {6}, .batch_size = 40, .max_iter = 2, .random_state = 1});
  CHECK(mlp.profile().empty());  // no model before a fit
  mlp.set_profiling(true);
  mlp.fit(Features(train.X), train.y);
  const std::vector<NodeTime> p = mlp.profile();
  REQUIRE_FALSE(p.empty());
  bool saw_first_layer = false;
  for (const NodeTime& t : p) {
    CHECK(t.runs == 6);  // 2 epochs of 3 batches, each node once a step
    CHECK(t.seconds >= 0);
    saw_first_layer = saw_first_layer || t.node.name() == "layer1/matmul";
  }
  CHECK(saw_first_layer);
  for (std::size_t i = 1; i < p.size(); ++i) CHECK(p[i - 1].seconds >= p[i].seconds);
}

TEST_CASE("a network too large for the machine's memory is refused before allocating, naming its layer") {
  MLPParams p{.hidden_layer_sizes = {50, 100000000}};
  CHECK_NOTHROW(MLPParams{.hidden_layer_sizes = {50}}.check_memory(784, 10));
  CHECK_THROWS_WITH_AS(p.check_memory(784, 10), doctest::Contains("hidden layer 2, 50 x 100000000 weights"), Error);
  CHECK_THROWS_WITH_AS(p.check_memory(784, 10), doctest::Contains("in float32"), Error);
  // fit checks before it builds the network.
  MLPClassifier mlp(p);
  Matrix<double> X = Matrix<double>::Zero(4, 784);
  const std::vector<int> y{0, 1, 0, 1};
  CHECK_THROWS_WITH_AS(mlp.fit(Features(X), y), doctest::Contains("more than this machine's"), Error);
}

TEST_CASE("output and parameter_values name the trained network's output node and its parameters' values") {
  MLPClassifier mlp = quiet({.hidden_layer_sizes = {8, 4}, .max_iter = 20, .random_state = 3});
  CHECK_THROWS_WITH_AS(mlp.output(), doctest::Contains("call fit first"), Error);
  CHECK_THROWS_AS(mlp.parameter_values(), Error);
  Blobs train = blobs(90, 4);
  mlp.fit(Features(train.X), train.y);
  const Graph& g = mlp.graph();
  CHECK(mlp.output().name() == "output/probabilities");
  CHECK(g.info(mlp.output().id()).op->key() == "softmax");
  // Weights then biases, layer by layer, each with the node it belongs to
  // (tests/onnx runs them in onnxruntime against predict_proba).
  const std::vector<std::pair<Node, Matrix<double>>> values = mlp.parameter_values();
  const std::vector<std::string> names = {"layer1/weights", "layer2/weights", "output/weights",
                                          "layer1/bias",    "layer2/bias",    "output/bias"};
  REQUIRE(values.size() == names.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    CAPTURE(k);
    const auto& [node, value] = values[k];
    CHECK(node.name() == names[k]);
    CHECK(node.kind() == NodeKind::parameter);
    CHECK((node.shape().rows == value.rows() && node.shape().cols == value.cols()));
    CHECK(value == (k < 3 ? mlp.coefs()[k] : mlp.intercepts()[k - 3]));
  }
}

namespace {

// A stream that keeps each write it is handed as one piece, as a file
// descriptor would receive them: what another rank's or thread's line could
// land between.
class Pieces : public std::streambuf {
 public:
  std::vector<std::string> pieces;

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    pieces.emplace_back(s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) pieces.emplace_back(1, traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
};

}  // namespace

TEST_CASE("each verbose line and each warning reaches the stream as one write, whole") {
  Blobs train = blobs(90, 5);
  Pieces out, warnings;
  std::ostream out_stream(&out), warnings_stream(&warnings);
  MLPClassifier mlp({.hidden_layer_sizes = {4}, .max_iter = 3, .random_state = 1, .verbose = 10});
  mlp.set_output(&out_stream, &warnings_stream);
  mlp.fit(Features(train.X), train.y);
  REQUIRE(out.pieces.size() == 3);
  for (std::size_t i = 0; i < out.pieces.size(); ++i) {
    CHECK(out.pieces[i].starts_with("Iteration " + std::to_string(i + 1) + ", loss = "));
    CHECK(out.pieces[i].ends_with("\n"));
    CHECK(std::count(out.pieces[i].begin(), out.pieces[i].end(), '\n') == 1);
  }
  REQUIRE(warnings.pieces.size() == 1);
  CHECK(warnings.pieces[0] ==
        "ConvergenceWarning: Stochastic Optimizer: Maximum iterations (3) reached and the optimization hasn't "
        "converged yet.\n");
}
