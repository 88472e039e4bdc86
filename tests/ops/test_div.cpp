// ops/div.cpp: values by hand for every broadcast pattern, over fixed and
// batch rows; the gradient of a column on the left; the infix form. What
// add, sub, mul and div share: elementwise_binary.hpp. Gradient checks and
// shape errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "elementwise_binary.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("div divides elementwise, broadcasting a row, a column or a 1x1 on either side") {
  elementwise_binary::check_values(div, {.same = M::Constant(2, 3, 0.1),
                                         .a_row = M{{0.1, 0.1, 0.1}, {0.4, 0.25, 0.2}},
                                         .row_a = M{{10, 10, 10}, {2.5, 4, 5}},
                                         .a_column = M{{0.5, 1, 1.5}, {1, 1.25, 1.5}},
                                         .scalar_a = M{{5, 2.5, 5.0 / 3}, {1.25, 1, 5.0 / 6}},
                                         .column_row = M{{0.2, 0.1, 2.0 / 30}, {0.4, 0.2, 4.0 / 30}}});
}

TEST_CASE("div of a column and a matrix passes gradcheck") { elementwise_binary::check_column_left_gradients(div); }

TEST_CASE("div writes itself infix") { elementwise_binary::check_infix(div, "p / q"); }
