// ops/abs.cpp: y = |x|; values by hand, the gradient's sign rule, float.
// Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("abs takes each element's magnitude") {
  op_checks::Applied<> y(abs, {{"x", {2, 3}}});
  CHECK(y.out.shape() == Shape{2, 3});
  CHECK(y.out.op()->key() == "abs");
  check_near(y.run({M{{-1.5, -0.0, 0.25}, {0.75, -1.2, 0.0}}}), M{{1.5, 0.0, 0.25}, {0.75, 1.2, 0.0}});
}

TEST_CASE("abs's gradient is dL/dy times the sign of x, 0 at 0 (an L1 penalty's)") {
  Graph g;
  Node p = g.parameter("p", {1, 4});
  Node loss = scale(sum(abs(p)), 3.0);
  Node dp = gradients(loss, {p})[0];
  Executor<double> ex(g);
  ex.set(p, M{{-2.0, 0.0, 0.5, -0.25}});
  check_near(ex.run({}, {dp})[0], M{{-3.0, 0.0, 3.0, -3.0}});
}

TEST_CASE("abs of batch rows runs with any row count, in float too") {
  op_checks::Applied<float> y(abs, {{"x", {batch, 2}}});
  CHECK(y.out.shape() == Shape{batch, 2});
  const Matrix<float> X{{-1.0f, 2.0f}, {3.0f, -4.0f}, {-0.5f, 0.0f}};
  CHECK(y.run({X}) == Matrix<float>{{1.0f, 2.0f}, {3.0f, 4.0f}, {0.5f, 0.0f}});
}
