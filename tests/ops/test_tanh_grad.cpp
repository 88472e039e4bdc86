// ops/tanh_grad.cpp: dy*(1-y^2) from tanh's output; values by hand over
// batch rows, shape errors. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("tanh_grad computes dy * (1 - y^2)") {
  op_checks::check_rowwise(tanh_grad, "tanh_grad", M{{0.2, 0.5, -0.9}, {0, 1, -0.5}}, M{{1, 2, -3}, {4, 10, 8}},
                           M{{0.96, 1.5, -0.57}, {4, 0, 6}});
}

TEST_CASE("tanh_grad of 2x3 and 3x2 throws a ShapeError naming both nodes and shapes") {
  op_checks::check_mismatch(tanh_grad, "tanh_grad", "out", "upstream");
}
