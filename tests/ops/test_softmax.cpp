// ops/softmax.cpp: row-wise softmax; values by hand over batch rows, shift
// invariance, float, the gradient of a single row. Other gradient checks:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("softmax normalizes each row's exponentials") {
  op_checks::Applied<> y(softmax, {{"x", {2, 3}}});
  CHECK(y.out.shape() == Shape{2, 3});
  const double s0 = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const double s1 = 2 * std::exp(0.5) + std::exp(-1.0);
  const M out = y.run({M{{1, 2, 3}, {0.5, 0.5, -1}}});
  check_near(out, M{{std::exp(1.0) / s0, std::exp(2.0) / s0, std::exp(3.0) / s0},
                    {std::exp(0.5) / s1, std::exp(0.5) / s1, std::exp(-1.0) / s1}});
  check_near(out.rowwise().sum(), M{{1}, {1}});
}

TEST_CASE("softmax is unchanged by adding a constant to a row, even a huge one") {
  const M out = op_checks::Applied<>(softmax, {{"x", {2, 3}}}).run({M{{0, 1, 2}, {1000, 1001, 1002}}});
  REQUIRE(out.allFinite());
  const double s = 1 + std::exp(1.0) + std::exp(2.0);
  check_near(out, M{{1 / s, std::exp(1.0) / s, std::exp(2.0) / s},
                    {1 / s, std::exp(1.0) / s, std::exp(2.0) / s}});
}

// The registry's examples have 3 rows; a single row is a case of its own.
TEST_CASE("softmax of a single row passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {1, 4});
  Node loss = sum(mul(softmax(p), g.constant(M{{0.5, -1.0, 0.3, 0.9}})));
  GradcheckResult r = gradcheck(g, loss, {{p, op_checks::values(1, 4, 0.5)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("softmax of batch rows runs with any row count") {
  op_checks::Applied<> y(softmax, {{"x", {batch, 2}}});
  CHECK(y.out.shape() == Shape{batch, 2});
  const double a = 1 / (1 + std::exp(1.0));  // softmax(0, 1) = (a, 1 - a)
  check_near(y.run({M{{0, 1}}}), M{{a, 1 - a}});
  check_near(y.run({M{{0, 1}, {3, 2}, {5, 5}}}), M{{a, 1 - a}, {1 - a, a}, {0.5, 0.5}});
}

TEST_CASE("softmax runs in float and stays finite for huge logits") {
  const Matrix<float> out = op_checks::Applied<float>(softmax, {{"x", {1, 2}}}).run({Matrix<float>{{500.0f, 500.0f}}});
  CHECK(out(0, 0) == doctest::Approx(0.5));
  CHECK(out(0, 1) == doctest::Approx(0.5));
}
