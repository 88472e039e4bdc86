// lib/ml/mlp_file.cpp: the estimators' files (a classifier of one label a row,
// a multi-label one, a regressor), and MLPClassifier files written before two
// classes had one logistic unit; test_model_file.cpp tests the format itself.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <dagrad/io/detail/model_file.hpp>  // the encoder, to write a file of the older kind

#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>

#include "temp_dir.hpp"

using namespace dagrad;

namespace {

// 40 rows of 3 features: two smooth regression targets, and three labels.
struct Data {
  Matrix<double> X, Y;
  Matrix<int> labels;
};
Data data() {
  Data d{Matrix<double>(40, 3), Matrix<double>(40, 2), Matrix<int>(40, 3)};
  for (int i = 0; i < 40; ++i) {
    d.X.row(i) << std::sin(0.3 * i), std::cos(0.7 * i), double(i % 5) / 5.0;
    d.Y.row(i) << d.X(i, 0) + 2 * d.X(i, 1), d.X(i, 2) * d.X(i, 0) - 0.5;
    d.labels.row(i) << (d.X(i, 0) > 0), (d.X(i, 1) > 0.2), (i % 2);
  }
  return d;
}

}  // namespace

TEST_CASE("an MLPRegressor's file gives back its predictions, parameters and iterations, bit for bit") {
  const Data d = data();
  std::ostringstream sink;
  MLPRegressor mlp({.hidden_layer_sizes = {6, 4}, .activation = "tanh", .max_iter = 30, .random_state = 2});
  mlp.set_output(&sink, &sink);
  const dagrad::testing::TempDir dir("mlp_file");
  const std::string model = dir.file("regressor.dagradm");
  CHECK_THROWS_WITH_AS(save(mlp, model), doctest::Contains("not fitted"), Error);
  mlp.fit(Features(d.X), d.Y);
  save(mlp, model);
  const MLPRegressor again = load_mlp_regressor(model);
  CHECK(again.predict(Features(d.X)) == mlp.predict(Features(d.X)));
  CHECK(again.n_iter() == 30);
  CHECK(again.n_outputs() == 2);
  CHECK(again.out_activation() == "identity");
  CHECK(again.params().get("activation") == "tanh");
  CHECK(again.params().get("hidden_layer_sizes") == "6,4");

  // Each estimator reads only its own kind of file, and says what it found.
  CHECK_THROWS_WITH_AS(load_mlp(model),
                       doctest::Contains("holds an MLPRegressor (kind 4), not an MLPClassifier"), DataError);
  MLPClassifier classifier({.hidden_layer_sizes = {3}, .max_iter = 2, .random_state = 1});
  classifier.set_output(&sink, &sink);
  classifier.fit(Features(d.X), std::vector<int>(d.labels.col(0).data(), d.labels.col(0).data() + 40));
  save(classifier, model);
  CHECK_THROWS_WITH_AS(load_mlp_regressor(model),
                       doctest::Contains("holds an MLPClassifier (kind 1), not an MLPRegressor"), DataError);
}

TEST_CASE("a regressor's file whose output layer disagrees with itself is refused, naming the tensor") {
  model_file_detail::Contents c;
  c.kind = model_file_detail::kind_mlp_regressor;
  MLPParams p{.hidden_layer_sizes = {2}};
  for (const auto& name : MLPParams::names()) c.params.emplace_back(name, p.get(name));
  c.n_features = 3;
  c.tensors = {{"layer1/weights", Matrix<double>::Zero(3, 2)}, {"layer1/bias", Matrix<double>::Zero(1, 2)},
               {"output/weights", Matrix<double>::Zero(2, 2)}, {"output/bias", Matrix<double>::Zero(1, 2)}};
  CHECK(parse_mlp_regressor(model_file_detail::encode(c), "ok.dagradm").n_outputs() == 2);
  c.tensors[3].value = Matrix<double>::Zero(1, 3);
  CHECK_THROWS_WITH_AS(parse_mlp_regressor(model_file_detail::encode(c), "bad.dagradm"),
                       doctest::Contains("bad.dagradm: tensor 'output/weights' has shape 2x2"), DataError);
  c.tensors[3].value = Matrix<double>::Zero(1, 0);
  c.tensors[2].value = Matrix<double>::Zero(2, 0);
  CHECK_THROWS_WITH_AS(parse_mlp_regressor(model_file_detail::encode(c), "none.dagradm"),
                       doctest::Contains("at least one output"), DataError);
  c.classes = {0, 1};
  CHECK_THROWS_WITH_AS(parse_mlp_regressor(model_file_detail::encode(c), "classes.dagradm"),
                       doctest::Contains("a regressor has none"), DataError);
}

TEST_CASE("a multi-label MLPClassifier's file gives back its labels and probabilities") {
  const Data d = data();
  std::ostringstream sink;
  MLPClassifier mlp({.hidden_layer_sizes = {5}, .max_iter = 20, .random_state = 4});
  mlp.set_output(&sink, &sink);
  mlp.fit(Features(d.X), d.labels);
  const dagrad::testing::TempDir dir("mlp_file");
  const std::string model = dir.file("multilabel.dagradm");
  save(mlp, model);
  const MLPClassifier again = load_mlp(model);
  CHECK(again.multilabel());
  CHECK(again.classes() == std::vector<int>{0, 1, 2});
  CHECK(again.predict_proba(Features(d.X)) == mlp.predict_proba(Features(d.X)));
  CHECK(again.predict_indicator(Features(d.X)) == mlp.predict_indicator(Features(d.X)));

  // Its labels are 0, 1, ...: a file that says otherwise is refused.
  model_file_detail::Contents c;
  c.kind = model_file_detail::kind_mlp_multilabel;
  for (const auto& name : MLPParams::names()) c.params.emplace_back(name, mlp.params().get(name));
  c.classes = {0, 2, 3};
  c.n_features = 3;
  c.tensors = {{"layer1/weights", mlp.coefs()[0]}, {"layer1/bias", mlp.intercepts()[0]},
               {"output/weights", mlp.coefs()[1]}, {"output/bias", mlp.intercepts()[1]}};
  CHECK_THROWS_WITH_AS(parse_mlp(model_file_detail::encode(c), "labels.dagradm"),
                       doctest::Contains("classes are 0, 1, ..., in order"), DataError);
  c.classes = {0, 1, 2};
  CHECK(parse_mlp(model_file_detail::encode(c), "labels.dagradm").predict_proba(Features(d.X)) ==
        mlp.predict_proba(Features(d.X)));
}

TEST_CASE("a two-class file from before the logistic unit loads as the unit with the same probabilities") {
  // Such files hold two softmax units; softmax(z0, z1)[1] = sigmoid(z1 - z0).
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  auto random = [&](int r, int c) {
    Matrix<double> m(r, c);
    for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = normal(rng);
    return m;
  };
  model_file_detail::Contents c;
  c.kind = model_file_detail::kind_mlp;
  MLPParams p{.hidden_layer_sizes = {5}, .dtype = "float64"};
  for (const auto& name : MLPParams::names()) c.params.emplace_back(name, p.get(name));
  c.classes = {3, 7};
  c.n_features = 2;
  c.n_iter = 4;
  c.tensors = {{"layer1/weights", random(2, 5)}, {"layer1/bias", random(1, 5)},
               {"output/weights", random(5, 2)}, {"output/bias", random(1, 2)}};
  const std::vector<std::uint8_t> bytes = model_file_detail::encode(c);
  const MLPClassifier m = parse_mlp(bytes, "old.dagradm");
  CHECK(m.out_activation() == "logistic");
  CHECK(m.n_iter() == 4);
  REQUIRE(m.coefs()[1].cols() == 1);
  Matrix<double> X(4, 2);
  X << 0.5, -1, 2, 0.25, -3, 1, 0, 0;
  const Matrix<double> hidden =
      (X * c.tensors[0].value + c.tensors[1].value.replicate(4, 1)).cwiseMax(0.0);  // relu, the default
  const Matrix<double> z = hidden * c.tensors[2].value + c.tensors[3].value.replicate(4, 1);
  const Matrix<double> proba = m.predict_proba(Features(X));
  for (Eigen::Index r = 0; r < 4; ++r) {
    const double softmax_1 = std::exp(z(r, 1)) / (std::exp(z(r, 0)) + std::exp(z(r, 1)));
    CHECK(proba(r, 1) == doctest::Approx(softmax_1).epsilon(1e-12));
    CHECK(proba(r, 0) == doctest::Approx(1 - softmax_1).epsilon(1e-12));
  }
  // A file of today's kind, one unit, loads as written.
  c.tensors[2].value = m.coefs()[1];
  c.tensors[3].value = m.intercepts()[1];
  CHECK(parse_mlp(model_file_detail::encode(c), "new.dagradm").coefs()[1] == m.coefs()[1]);
  // Two classes with three output units fit neither.
  c.tensors[2].value = random(5, 3);
  c.tensors[3].value = random(1, 3);
  CHECK_THROWS_WITH_AS(parse_mlp(model_file_detail::encode(c), "bad.dagradm"),
                       doctest::Contains("'output/weights' has shape 5x3"), DataError);
}
