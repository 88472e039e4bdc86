// ops/mean.cpp: y = mean of all elements; values by hand over batch rows,
// the divisor and gradient following the rows fed. Gradient checks:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("mean averages every element into a 1x1") {
  op_checks::check_reduction(mean, "mean", {1, 1}, M{{1, 2, 3}, {4, 5, 6}}, M{{2}}, M{{3.5}});
}

TEST_CASE("mean of batch rows divides by the row count fed at run time") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node w = g.parameter("w", {1, 3});
  Node y = mean(mul(x, w));
  CHECK(y.shape() == Shape{1, 1});
  std::vector<Node> d = gradients(y, {w});
  Executor<double> ex(g);
  ex.set(w, M{{1, 1, 1}});
  // dy/dw_j = (column sum j of x) / (rows * 3).
  auto two = ex.run({{x, M{{1, 2, 3}, {4, 5, 6}}}}, {y, d[0]});
  check_near(two[0], M{{3.5}});
  check_near(two[1], M{{5.0 / 6, 7.0 / 6, 9.0 / 6}});
  auto four = ex.run({{x, M{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}}}}, {y, d[0]});
  check_near(four[0], M{{6.5}});
  check_near(four[1], M{{22.0 / 12, 26.0 / 12, 30.0 / 12}});
}
