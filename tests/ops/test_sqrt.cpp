// ops/sqrt.cpp: y = x^(1/2); values by hand, its label, and its gradient
// 1/(2y). Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("sqrt takes the square root of each element") {
  op_checks::Applied<> y(sqrt, {{"x", {batch, 3}}});
  CHECK(y.out.shape() == Shape{batch, 3});
  CHECK(y.out.op()->label() == "sqrt");
  check_near(y.run({M{{0, 1, 4}, {9, 0.25, 2.25}}}), M{{0, 1, 2}, {3, 0.5, 1.5}});
}

TEST_CASE("sqrt's gradient is one over twice its output") {
  check_near(op_checks::gradient(sqrt, M{{1, 4, 0.25}}), M{{0.5, 0.25, 1}});
}
