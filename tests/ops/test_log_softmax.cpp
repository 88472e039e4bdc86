// ops/log_softmax.cpp: x - logsumexp(x) row by row; values by hand, stability.
// Gradients: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("log_softmax subtracts each row's log-sum-exp from the row") {
  op_checks::Applied<> y(log_softmax, {{"x", {batch, 3}}});
  CHECK(y.out.shape() == Shape{batch, 3});
  const double l0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const double l1 = std::log(3.0);  // a row of equal values: log(1/3) each
  check_near(y.run({M{{1, 2, 3}, {5, 5, 5}}}), M{{1 - l0, 2 - l0, 3 - l0}, {5 - 5 - l1, -l1, -l1}});
}

TEST_CASE("log_softmax equals log(softmax(x)) where both are finite") {
  Graph g;
  Node x = g.input("x", {2, 4});
  Executor<double> ex(g);
  const M X{{0.3, -1.2, 2.5, 0.0}, {-0.7, 0.1, 0.9, -2.2}};
  auto out = ex.run({{x, X}}, {log_softmax(x), log(softmax(x))});
  check_near(out[0], out[1]);
}

TEST_CASE("log_softmax stays finite where log(softmax(x)) would meet log(0)") {
  const M out = op_checks::Applied<>(log_softmax, {{"x", {1, 3}}}).run({M{{1000, 0, -1000}}});
  CHECK(out.allFinite());
  check_near(out, M{{0, -1000, -2000}});
}
