// ops/mean_grad.cpp: dy / size(like) repeated to like's shape; values by
// hand over fixed and batch rows. Gradient checks and shape errors:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("mean_grad spreads dy evenly over like's elements") {
  Graph g;
  Node dy = g.input("dy", {1, 1});
  Node like = g.input("like", {2, 3});
  Node y = mean_grad(dy, like);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  check_near(ex.run({{dy, M{{6}}}, {like, M::Constant(2, 3, 99.0)}}, {y})[0], M{{1, 1, 1}, {1, 1, 1}});
}

TEST_CASE("mean_grad divides by the row count fed at run time") {
  Graph g;
  Node dy = g.parameter("dy", {1, 1});
  Node like = g.input("like", {batch, 3});
  Node y = mean_grad(dy, like);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  ex.set(dy, M{{6}});
  check_near(ex.run({{like, M::Zero(1, 3)}}, {y})[0], M{{2, 2, 2}});
  check_near(ex.run({{like, M::Zero(4, 3)}}, {y})[0], M::Constant(4, 3, 0.5));
}
