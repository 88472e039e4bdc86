// ops/leaky_relu.cpp: x where x > 0, else slope * x; values by hand, label,
// a bad slope. Gradients: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "check_near.hpp"

#include <cmath>
#include <limits>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("leaky_relu keeps positive elements and scales the others by its slope") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = leaky_relu(x, 0.1);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{-2, 0, 3}, {1.5, -0.5, -10}}}}, {y})[0], M{{-0.2, 0, 3}, {1.5, -0.05, -1}});
}

TEST_CASE("leaky_relu's slope defaults to 0.01 and shows in its label") {
  Graph g;
  Node x = g.input("x", {1, 2});
  Node y = leaky_relu(x);
  CHECK(y.op()->key() == "leaky_relu");
  CHECK(y.op()->label() == "leaky_relu slope 0.01");
  CHECK(leaky_relu(x, 0.2).op()->label() == "leaky_relu slope 0.2");
  Executor<float> ex(g);
  const Matrix<float> out = ex.run({{x, Matrix<float>{{-3.0f, 4.0f}}}}, {y})[0];
  CHECK(out(0, 0) == doctest::Approx(-0.03));
  CHECK(out(0, 1) == doctest::Approx(4.0));
}

TEST_CASE("leaky_relu's gradient is 1 for positive elements and the slope for negative ones") {
  Graph g;
  Node p = g.parameter("p", {1, 3});
  Node d = gradients(sum(leaky_relu(p, 0.25)), {p})[0];
  Executor<double> ex(g);
  ex.set(p, M{{-1, 2, -3}});
  check_near(ex.run({}, {d})[0], M{{0.25, 1, 0.25}});
}

TEST_CASE("leaky_relu with a slope that is not a number throws a GraphError naming the node") {
  Graph g;
  Node x = g.input("pre", {1, 2});
  CHECK_THROWS_WITH_AS(leaky_relu(x, std::numeric_limits<double>::quiet_NaN()),
                       doctest::Contains("leaky_relu of 'pre'"), GraphError);
}
