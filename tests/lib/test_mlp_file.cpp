// lib/mlp_file.cpp's reading of MLPClassifier files written before two
// classes had one logistic unit; test_model_file.cpp tests the format itself.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include "../../lib/model_file_detail.hpp"  // the encoder, to write a file of the older kind

#include <cmath>
#include <random>

using namespace dagrad;

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
