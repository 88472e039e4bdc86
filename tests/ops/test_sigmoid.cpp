// ops/sigmoid.cpp: y = 1 / (1 + e^-x); values over batch rows against the
// formula, its gradient y (1 - y), saturation without overflow, float.
// Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("sigmoid maps each element to 1 / (1 + e^-x)") {
  const M X{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}};
  op_checks::check_rowwise(sigmoid, "sigmoid", X, (1.0 + (-X.array()).exp()).inverse().matrix());
}

TEST_CASE("sigmoid's gradient is y (1 - y)") {
  const double y = 1.0 / (1.0 + std::exp(-1.2));
  check_near(op_checks::gradient(sigmoid, M{{0.0, 1.2}}), M{{0.25, y * (1 - y)}});
}

TEST_CASE("sigmoid saturates to 0 and 1 without overflow at large magnitudes") {
  const M out = op_checks::apply(sigmoid, M{{-1000.0, -40.0, 40.0, 1000.0}});
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
