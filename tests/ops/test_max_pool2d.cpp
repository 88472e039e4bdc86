// ops/max_pool2d.cpp: values by hand and against a direct loop, the tie rule,
// gradcheck where the registry's example cannot reach, bad shapes.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <string>
#include <vector>

using namespace dagrad;
using images::M;

TEST_CASE("max_pool2d takes the largest of each 2x2 window of a 4x4 image") {
  op_checks::Applied<> y([](Node x) { return max_pool2d(x, {.in = {1, 4, 4}, .size = 2}); }, {{"x", {1, 16}}});
  CHECK(y.out.shape() == Shape{1, 4});
  const M X{{1, 5, -2, 0, 3, 2, -1, -3, 0, 0, 9, 8, -4, 1, 7, 9.5}};
  images::check_close(y.run({X}), M{{5, 0, 1, 9.5}});
}

TEST_CASE("max_pool2d matches a direct loop for side-by-side and overlapping windows") {
  images::check_pool_values(max_pool2d,
                            {{.in = {6, 28, 28}, .size = 2},
                             {.in = {16, 10, 10}, .size = 2},
                             {.in = {2, 7, 5}, .size = 3, .stride = 2},
                             {.in = {3, 6, 9}, .size = 3}},
                            true);
}

TEST_CASE("max_pool2d sends the gradient of a tied window to its first maximum only") {
  Graph g;
  Node x = g.input("x", {1, 4});
  Node y = max_pool2d(x, {.in = {1, 2, 2}, .size = 2});
  const std::vector<Node> d = gradients(sum(y), {x});
  Executor<double> ex(g);
  images::check_close(ex.run({{x, M{{1, 3, 3, 3}}}}, {d[0]})[0], M{{0, 1, 0, 0}});
}

TEST_CASE("max_pool2d passes gradcheck away from ties, on an oblong image and with overlapping windows") {
  images::check_pool_gradients(max_pool2d, {{.in = {2, 4, 6}, .size = 2}, {.in = {1, 5, 5}, .size = 3, .stride = 2}}, true);
}

TEST_CASE("max_pool2d rejects a pool that does not tile the image, naming the numbers") {
  Graph g;
  Node x = g.input("x", {batch, 6 * 7 * 7});
  op_checks::check_shape_error([&] { max_pool2d(x, {.in = {6, 7, 7}, .size = 2}); },
                               {"max_pool2d", "a 2×2 pool with stride 2 does not tile a 7×7 image"});
  CHECK_THROWS_AS(max_pool2d(x, {.in = {6, 7, 7}, .size = 8}), ShapeError);
  CHECK_THROWS_AS(max_pool2d(x, {.in = {6, 7, 7}, .size = 2, .stride = 3}), ShapeError);
  CHECK(max_pool2d(x, {.in = {6, 7, 7}, .size = 3, .stride = 2}).shape() == Shape{batch, 6 * 3 * 3});
  op_checks::check_shape_error([&] { max_pool2d(x, {.in = {6, 8, 8}, .size = 2}); },
                               {"rows hold 294 values, not channels × height × width = 6×8×8 = 384"});
}

TEST_CASE("max_pool2d's label shows its geometry, and pool2d_output the shape of its rows") {
  Graph g;
  Node x = g.input("x", {batch, 6 * 28 * 28});
  CHECK(max_pool2d(x, {.in = {6, 28, 28}, .size = 2}).op()->label() ==
        "max_pool2d 6×28×28 → 6×14×14, 2×2 window, stride 2");
  const ImageShape out = pool2d_output({.in = {16, 10, 10}, .size = 2});
  CHECK(out.channels == 16);
  CHECK(out.height == 5);
  CHECK(out.width == 5);
  CHECK_THROWS_AS(pool2d_output({.in = {16, 10, 10}, .size = 3}), ShapeError);
}
