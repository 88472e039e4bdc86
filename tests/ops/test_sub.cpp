// ops/sub.cpp: values by hand for every broadcast pattern, over fixed and
// batch rows; the gradient of a column on the left; the infix form. What
// add, sub, mul and div share: elementwise_binary.hpp. Gradient checks and
// shape errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "elementwise_binary.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("sub subtracts elementwise, broadcasting a row, a column or a 1x1 on either side") {
  elementwise_binary::check_values(sub, {.same = M{{-9, -18, -27}, {-36, -45, -54}},
                                         .a_row = M{{-9, -18, -27}, {-6, -15, -24}},
                                         .row_a = M{{9, 18, 27}, {6, 15, 24}},
                                         .a_column = M{{-1, 0, 1}, {0, 1, 2}},
                                         .scalar_a = M{{4, 3, 2}, {1, 0, -1}},
                                         .column_row = M{{-8, -18, -28}, {-6, -16, -26}}});
}

TEST_CASE("sub of a column and a matrix passes gradcheck") { elementwise_binary::check_column_left_gradients(sub); }

TEST_CASE("sub writes itself infix") { elementwise_binary::check_infix(sub, "p - q"); }
