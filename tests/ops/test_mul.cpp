// ops/mul.cpp: values by hand for every broadcast pattern, over fixed and
// batch rows; the gradient of a column on the left; the infix form. What
// add, sub, mul and div share: elementwise_binary.hpp. Gradient checks and
// shape errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "elementwise_binary.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("mul multiplies elementwise, broadcasting a row, a column or a 1x1 on either side") {
  elementwise_binary::check_values(mul, {.same = M{{10, 40, 90}, {160, 250, 360}},
                                         .a_row = M{{10, 40, 90}, {40, 100, 180}},
                                         .row_a = M{{10, 40, 90}, {40, 100, 180}},
                                         .a_column = M{{2, 4, 6}, {16, 20, 24}},
                                         .scalar_a = M{{5, 10, 15}, {20, 25, 30}},
                                         .column_row = M{{20, 40, 60}, {40, 80, 120}}});
}

TEST_CASE("mul of a column and a matrix passes gradcheck") { elementwise_binary::check_column_left_gradients(mul); }

TEST_CASE("mul writes itself infix") { elementwise_binary::check_infix(mul, "p * q"); }
