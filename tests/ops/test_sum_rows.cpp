// ops/sum_rows.cpp: y = column sums (1xN); values by hand over batch rows,
// and its gradient, each column's dL/dy down the rows. Gradient checks:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("sum_rows sums over the rows into a 1xN row") {
  op_checks::check_reduction(sum_rows, "sum_rows", {1, 3}, M{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}, M{{1, 2, 3}},
                             M{{12, 15, 18}});
}

TEST_CASE("sum_rows's gradient repeats dL/dy down the rows") {
  check_near(op_checks::gradient(sum_rows, op_checks::values(2, 3, 0.0), M{{1, -2, 0.5}}),
             M{{1, -2, 0.5}, {1, -2, 0.5}});
}
