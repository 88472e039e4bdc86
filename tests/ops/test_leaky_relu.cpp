// ops/leaky_relu.cpp: x where x > 0, else slope * x; values by hand, label,
// a bad slope. Gradients: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>
#include <limits>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("leaky_relu keeps positive elements and scales the others by its slope") {
  op_checks::Applied<> y([](Node x) { return leaky_relu(x, 0.1); }, {{"x", {batch, 3}}});
  CHECK(y.out.shape() == Shape{batch, 3});
  check_near(y.run({M{{-2, 0, 3}, {1.5, -0.5, -10}}}), M{{-0.2, 0, 3}, {1.5, -0.05, -1}});
}

TEST_CASE("leaky_relu's slope defaults to 0.01 and shows in its label") {
  op_checks::Applied<float> y([](Node x) { return leaky_relu(x); }, {{"x", {1, 2}}});
  CHECK(y.out.op()->key() == "leaky_relu");
  CHECK(y.out.op()->label() == "leaky_relu slope 0.01");
  CHECK(leaky_relu(y.in[0], 0.2).op()->label() == "leaky_relu slope 0.2");
  const Matrix<float> out = y.run({Matrix<float>{{-3.0f, 4.0f}}});
  CHECK(out(0, 0) == doctest::Approx(-0.03));
  CHECK(out(0, 1) == doctest::Approx(4.0));
}

TEST_CASE("leaky_relu's gradient is 1 for positive elements and the slope for negative ones") {
  check_near(op_checks::gradient([](Node p) { return leaky_relu(p, 0.25); }, M{{-1, 2, -3}}), M{{0.25, 1, 0.25}});
}

TEST_CASE("leaky_relu with a slope that is not a number throws a GraphError naming the node") {
  Graph g;
  Node x = g.input("pre", {1, 2});
  CHECK_THROWS_WITH_AS(leaky_relu(x, std::numeric_limits<double>::quiet_NaN()),
                       doctest::Contains("leaky_relu of 'pre'"), GraphError);
}
