// ops/relu.cpp: y = max(x, 0); values by hand over batch rows, and which
// elements its gradient lets through. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("relu zeroes the negative elements and keeps the rest") {
  op_checks::check_rowwise(relu, "relu", M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}},
                           M{{0.0, 0.0, 0.25}, {0.75, 1.2, 2.0}});
}

TEST_CASE("relu's gradient lets through exactly the positive elements") {
  check_near(op_checks::gradient(relu, M{{-2.0, 3.0, -0.1, 0.1}}), M{{0.0, 1.0, 0.0, 1.0}});
}
