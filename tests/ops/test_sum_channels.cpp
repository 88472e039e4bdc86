// ops/sum_channels.cpp: values by hand, bad shapes. Gradient checks:
// test_registry.cpp.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <string>

using namespace dagrad;
using images::M;

TEST_CASE("sum_channels adds each channel's pixels over all rows") {
  Graph g;
  Node x = g.input("x", {batch, 6});
  Node s = sum_channels(x, 3);
  CHECK(s.shape() == Shape{1, 3});
  CHECK(s.op()->label() == "sum_channels ×3");
  Executor<double> ex(g);
  images::check_close(ex.run({{x, M{{1, 2, 3, 4, 5, 6}, {10, 20, 30, 40, 50, 60}}}}, {s})[0], M{{33, 77, 121}});
}

TEST_CASE("sum_channels rejects rows that do not split into the channels, or no channels") {
  Graph g;
  Node x = g.input("x", {batch, 10});
  op_checks::check_shape_error([&] { sum_channels(x, 4); },
                               {"rows of 10 values do not split into 4 channels of equal size"});
  CHECK_THROWS_AS(sum_channels(x, 0), ShapeError);
}
