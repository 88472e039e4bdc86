// ops/add.cpp: values by hand for every broadcast pattern, over fixed and
// batch rows; the gradient of a column on the left; the infix form. What
// add, sub, mul and div share: elementwise_binary.hpp. Gradient checks and
// shape errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "elementwise_binary.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("add adds elementwise, broadcasting a row, a column or a 1x1 on either side") {
  elementwise_binary::check_values(add, {.same = M{{11, 22, 33}, {44, 55, 66}},
                                         .a_row = M{{11, 22, 33}, {14, 25, 36}},
                                         .row_a = M{{11, 22, 33}, {14, 25, 36}},
                                         .a_column = M{{3, 4, 5}, {8, 9, 10}},
                                         .scalar_a = M{{6, 7, 8}, {9, 10, 11}},
                                         .column_row = M{{12, 22, 32}, {14, 24, 34}}});
}

TEST_CASE("add of a column and a matrix passes gradcheck") { elementwise_binary::check_column_left_gradients(add); }

TEST_CASE("add writes itself infix") { elementwise_binary::check_infix(add, "p + q"); }
