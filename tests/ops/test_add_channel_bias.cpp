// ops/add_channel_bias.cpp: values by hand, bad shapes. Gradient checks and
// thread counts: test_registry.cpp.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <string>

using namespace dagrad;
using images::M;

TEST_CASE("add_channel_bias adds each channel's bias to that channel's pixels in every row") {
  op_checks::Applied<> y(add_channel_bias, {{"x", {batch, 6}}, {"b", {1, 3}}});
  CHECK(y.out.shape() == Shape{batch, 6});
  images::check_close(y.run({M{{1, 2, 3, 4, 5, 6}, {0, 0, 0, 0, 0, 1}}, M{{10, 20, 30}}}),
                      M{{11, 12, 23, 24, 35, 36}, {10, 10, 20, 20, 30, 31}});
}

TEST_CASE("add_channel_bias rejects a bias that is not one row or does not divide the row") {
  Graph g;
  Node x = g.input("x", {batch, 10});
  Node b3 = g.parameter("b3", {1, 3});
  Node b2 = g.parameter("b2", {2, 2});
  op_checks::check_shape_error([&] { add_channel_bias(x, b3); },
                               {"rows of 10 values do not split into 3 channels of equal size"});
  op_checks::check_shape_error([&] { add_channel_bias(x, b2); }, {"the bias must be one row"});
}
