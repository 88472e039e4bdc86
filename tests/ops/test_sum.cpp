// ops/sum.cpp: y = sum of all elements; values by hand over batch rows, and
// its gradient, ones. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("sum adds every element into a 1x1") {
  op_checks::check_reduction(sum, "sum", {1, 1}, M{{1, 2, 3}, {4, 5, 6.5}, {7, 8, 9}}, M{{6}}, M{{45.5}});
}

TEST_CASE("sum's gradient is dL/dy in every element of the input's shape") {
  check_near(op_checks::gradient(sum, op_checks::values(2, 3, 0.0), M{{-1.5}}), M::Constant(2, 3, -1.5));
}
