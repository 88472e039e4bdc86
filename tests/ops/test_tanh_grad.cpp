// ops/tanh_grad.cpp: dy*(1-y^2) from tanh's output; values by hand over
// batch rows. Gradient checks and shape errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("tanh_grad computes dy * (1 - y^2)") {
  op_checks::check_rowwise(tanh_grad, "tanh_grad", M{{0.2, 0.5, -0.9}, {0, 1, -0.5}}, M{{1, 2, -3}, {4, 10, 8}},
                           M{{0.96, 1.5, -0.57}, {4, 0, 6}});
}
