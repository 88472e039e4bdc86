// ops/avg_pool2d.cpp: values by hand and against a direct loop,
// gradcheck where the registry's example cannot reach, bad shapes.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <string>
#include <vector>

using namespace dagrad;
using images::M;

TEST_CASE("avg_pool2d takes the mean of each 2x2 window of a 4x4 image") {
  op_checks::Applied<> y([](Node x) { return avg_pool2d(x, {.in = {1, 4, 4}, .size = 2}); }, {{"x", {1, 16}}});
  const M X{{1, 5, -2, 0, 3, 2, -1, -3, 0, 0, 9, 8, -4, 1, 7, 9.5}};
  images::check_close(y.run({X}), M{{11.0 / 4, -6.0 / 4, -3.0 / 4, 33.5 / 4}});
}

TEST_CASE("avg_pool2d matches a direct loop for side-by-side and overlapping windows") {
  images::check_pool_values(avg_pool2d,
                            {{.in = {6, 28, 28}, .size = 2}, {.in = {2, 7, 5}, .size = 3, .stride = 2}, {.in = {3, 6, 9}, .size = 3}},
                            false);
}

TEST_CASE("avg_pool2d passes gradcheck on an oblong image and with overlapping windows") {
  images::check_pool_gradients(avg_pool2d, {{.in = {2, 4, 6}, .size = 2}, {.in = {1, 5, 5}, .size = 3, .stride = 1}}, false);
}

TEST_CASE("avg_pool2d rejects a pool that does not tile the image, and labels its geometry") {
  Graph g;
  Node x = g.input("x", {batch, 25});
  op_checks::check_shape_error([&] { avg_pool2d(x, {.in = {1, 5, 5}, .size = 2}); },
                               {"a 2×2 pool with stride 2 does not tile a 5×5 image"});
  CHECK(avg_pool2d(x, {.in = {1, 5, 5}, .size = 3, .stride = 1}).op()->label() ==
        "avg_pool2d 1×5×5 → 1×3×3, 3×3 window, stride 1");
}
