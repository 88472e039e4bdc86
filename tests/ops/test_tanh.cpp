// ops/tanh.cpp: y = tanh x; values by hand, gradcheck and batch rows.
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

TEST_CASE("tanh takes the hyperbolic tangent of each element") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = dagrad::tanh(x);
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.op()->key() == "tanh");
  Executor<double> ex(g);
  const M X{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}};
  check_near(ex.run({{x, X}}, {y})[0], M{{std::tanh(-1.5), std::tanh(-0.5), std::tanh(0.25)}, {std::tanh(0.75), std::tanh(1.2), std::tanh(2.0)}});
}

TEST_CASE("tanh passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node loss = sum(mul(dagrad::tanh(p), g.constant(weights(2, 3))));
  const M P{{-1.3, -0.4, 0.35}, {0.8, 1.1, 1.9}};
  GradcheckResult r = gradcheck(g, loss, {{p, P}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("tanh of batch rows runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = dagrad::tanh(x);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{-1.5, -0.5, 0.25}}}}, {y})[0], M{{std::tanh(-1.5), std::tanh(-0.5), std::tanh(0.25)}});
  check_near(ex.run({{x, M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}}}}, {y})[0], M{{std::tanh(-1.5), std::tanh(-0.5), std::tanh(0.25)}, {std::tanh(0.75), std::tanh(1.2), std::tanh(2.0)}});
}

TEST_CASE("tanh is odd and saturates at large magnitudes") {
  Graph g;
  Node x = g.input("x", {1, 4});
  Node y = dagrad::tanh(x);
  Executor<double> ex(g);
  const M out = ex.run({{x, M{{-0.8, 0.8, -500.0, 500.0}}}}, {y})[0];
  CHECK(out(0, 0) == doctest::Approx(-out(0, 1)));
  CHECK(out(0, 2) == doctest::Approx(-1.0));
  CHECK(out(0, 3) == doctest::Approx(1.0));
}
