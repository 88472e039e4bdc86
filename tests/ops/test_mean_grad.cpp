// ops/mean_grad.cpp: dy / size(like) repeated to like's shape; values by
// hand over fixed and batch rows. Gradient checks and shape errors:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("mean_grad spreads dy evenly over like's elements") {
  op_checks::Applied<> y(mean_grad, {{"dy", {1, 1}}, {"like", {2, 3}}});
  CHECK(y.out.shape() == Shape{2, 3});
  check_near(y.run({M{{6}}, M::Constant(2, 3, 99.0)}), M{{1, 1, 1}, {1, 1, 1}});
}

TEST_CASE("mean_grad divides by the row count fed at run time") {
  op_checks::Applied<> y(mean_grad, {{"dy", {1, 1}}, {"like", {batch, 3}}});
  CHECK(y.out.shape() == Shape{batch, 3});
  check_near(y.run({M{{6}}, M::Zero(1, 3)}), M{{2, 2, 2}});
  check_near(y.run({M{{6}}, M::Zero(4, 3)}), M::Constant(4, 3, 0.5));
}
