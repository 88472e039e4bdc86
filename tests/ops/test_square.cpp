// ops/square.cpp: y = x^2; values by hand over batch rows, and its gradient
// 2x. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("square squares each element") {
  op_checks::check_rowwise(square, "square", M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}},
                           M{{2.25, 0.25, 0.0625}, {0.5625, 1.44, 4.0}});
}

TEST_CASE("square's gradient is twice the input") {
  check_near(op_checks::gradient(square, M{{-1.5, 0.0, 4.0}}), M{{-3.0, 0.0, 8.0}});
}
