// ops/sigmoid_grad.cpp: dy*y*(1-y) from sigmoid's output; values by hand
// over batch rows. Gradient checks and shape errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("sigmoid_grad computes dy * y * (1 - y)") {
  op_checks::check_rowwise(sigmoid_grad, "sigmoid_grad", M{{0.2, 0.5, 0.9}, {0.5, 0.1, 0.0}},
                           M{{1, 2, -3}, {4, 10, 7}}, M{{0.16, 0.5, -0.27}, {1, 0.9, 0}});
}
