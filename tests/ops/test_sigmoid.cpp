// ops/sigmoid.cpp: y = 1 / (1 + e^-x); values by hand, gradcheck and batch rows.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "check_near.hpp"

#include <cmath>
#include <limits>
#include <string>

using namespace dagrad;
using M = Matrix<double>;

namespace {

// Weights in [-1, 1) for the loss sum(y * w), so every output element counts.
M weights(Eigen::Index rows, Eigen::Index cols) {
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = -1.0 + std::fmod(0.2 + 0.53 * k, 2.0);
  return m;
}

}  // namespace

TEST_CASE("sigmoid maps each element to 1 / (1 + e^-x)") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = sigmoid(x);
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.op()->key() == "sigmoid");
  Executor<double> ex(g);
  const M X{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}};
  check_near(ex.run({{x, X}}, {y})[0], M{{1.0 / (1.0 + std::exp(-(-1.5))), 1.0 / (1.0 + std::exp(-(-0.5))), 1.0 / (1.0 + std::exp(-(0.25)))}, {1.0 / (1.0 + std::exp(-(0.75))), 1.0 / (1.0 + std::exp(-(1.2))), 1.0 / (1.0 + std::exp(-(2.0)))}});
}

TEST_CASE("sigmoid passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node loss = sum(mul(sigmoid(p), g.constant(weights(2, 3))));
  const M P{{-1.3, -0.4, 0.35}, {0.8, 1.1, 1.9}};
  GradcheckResult r = gradcheck(g, loss, {{p, P}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("sigmoid of batch rows runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = sigmoid(x);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{-1.5, -0.5, 0.25}}}}, {y})[0], M{{1.0 / (1.0 + std::exp(-(-1.5))), 1.0 / (1.0 + std::exp(-(-0.5))), 1.0 / (1.0 + std::exp(-(0.25)))}});
  check_near(ex.run({{x, M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}}}}, {y})[0], M{{1.0 / (1.0 + std::exp(-(-1.5))), 1.0 / (1.0 + std::exp(-(-0.5))), 1.0 / (1.0 + std::exp(-(0.25)))}, {1.0 / (1.0 + std::exp(-(0.75))), 1.0 / (1.0 + std::exp(-(1.2))), 1.0 / (1.0 + std::exp(-(2.0)))}});
}

TEST_CASE("sigmoid saturates to 0 and 1 without overflow at large magnitudes") {
  Graph g;
  Node x = g.input("x", {1, 4});
  Node y = sigmoid(x);
  Executor<double> ex(g);
  const M out = ex.run({{x, M{{-1000.0, -40.0, 40.0, 1000.0}}}}, {y})[0];
  CHECK(out(0, 0) == doctest::Approx(0.0));
  CHECK(out(0, 1) == doctest::Approx(0.0));
  CHECK(out(0, 2) == doctest::Approx(1.0));
  CHECK(out(0, 3) == doctest::Approx(1.0));
  CHECK(out.allFinite());
}

TEST_CASE("sigmoid runs in float as well as double") {
  Graph g;
  Node x = g.input("x", {1, 2});
  Node y = sigmoid(x);
  Executor<float> ex(g);
  Matrix<float> X{{0.0f, 2.0f}};
  const Matrix<float> out = ex.run({{x, X}}, {y})[0];
  CHECK(out(0, 0) == doctest::Approx(0.5));
  CHECK(out(0, 1) == doctest::Approx(1.0 / (1.0 + std::exp(-2.0))).epsilon(1e-6));
}
