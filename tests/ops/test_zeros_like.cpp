// ops/zeros_like.cpp: zeros in like's shape, over batch rows, and a zero
// gradient. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("zeros_like gives zeros in like's shape whatever like holds") {
  op_checks::check_rowwise(zeros_like, "zeros_like", M{{1, -2, 3}, {4, 5, 6}, {7, 8, -9}}, M::Zero(3, 3));
}

TEST_CASE("zeros_like's gradient is zero") {
  check_near(op_checks::gradient(zeros_like, op_checks::values(2, 3, 0.3)), M::Zero(2, 3));
}
