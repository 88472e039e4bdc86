// ops/sigmoid_grad.cpp: dy*y*(1-y) from sigmoid's output; values by hand
// over batch rows, shape errors. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("sigmoid_grad computes dy * y * (1 - y)") {
  op_checks::check_rowwise(sigmoid_grad, "sigmoid_grad", M{{0.2, 0.5, 0.9}, {0.5, 0.1, 0.0}},
                           M{{1, 2, -3}, {4, 10, 7}}, M{{0.16, 0.5, -0.27}, {1, 0.9, 0}});
}

TEST_CASE("sigmoid_grad of 2x3 and 3x2 throws a ShapeError naming both nodes and shapes") {
  op_checks::check_mismatch(sigmoid_grad, "sigmoid_grad", "out", "upstream");
}
