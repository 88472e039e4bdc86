// ops/sum_cols.cpp: y = row sums (Mx1); values by hand over batch rows, and
// its gradient, each row's dL/dy across the columns. Gradient checks:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("sum_cols sums over the columns into an Mx1 column") {
  op_checks::check_rowwise(sum_cols, "sum_cols", M{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}, M{{6}, {15}, {24}});
}

TEST_CASE("sum_cols's gradient repeats dL/dy across the columns") {
  check_near(op_checks::gradient(sum_cols, op_checks::values(2, 3, 0.0), M{{3}, {-0.5}}),
             M{{3, 3, 3}, {-0.5, -0.5, -0.5}});
}
