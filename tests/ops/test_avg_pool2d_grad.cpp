// ops/avg_pool2d_grad.cpp: values by hand, second-order gradcheck, bad shapes.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <string>

using namespace dagrad;
using images::M;

TEST_CASE("avg_pool2d_grad spreads a quarter of each gradient over its 2x2 window") {
  op_checks::Applied<> dx([](Node dy) { return avg_pool2d_grad(dy, {.in = {1, 4, 4}, .size = 2}); }, {{"dy", {1, 4}}});
  CHECK(dx.out.shape() == Shape{1, 16});
  images::check_close(dx.run({M{{4, 8, 12, 16}}}), M{{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}});
}

TEST_CASE("avg_pool2d_grad adds the shares of overlapping windows") {
  op_checks::Applied<> dx([](Node dy) { return avg_pool2d_grad(dy, {.in = {1, 3, 3}, .size = 2, .stride = 1}); },
                          {{"dy", {1, 4}}});
  // The centre pixel is in all four windows: (4 + 8 + 12 + 16) / 4.
  images::check_close(dx.run({M{{4, 8, 12, 16}}}), M{{1, 3, 2, 4, 10, 6, 3, 7, 4}});
}

TEST_CASE("avg_pool2d_grad passes gradcheck (avg_pool2d's second derivative path)") {
  const Pool2dOptions o{.in = {2, 5, 5}, .size = 3, .stride = 2};
  Graph g;
  Node dy = g.input("dy", {batch, 8});
  Node loss = sum(mul(avg_pool2d_grad(dy, o), g.constant(images::wavy(2, 50, 0.4))));
  GradcheckResult r = gradcheck(g, loss, {{dy, images::wavy(2, 8, 1.0)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("avg_pool2d_grad rejects an output gradient that is not the pooled shape") {
  Graph g;
  Node dy = g.input("dy", {batch, 6});
  op_checks::check_shape_error([&] { avg_pool2d_grad(dy, {.in = {2, 4, 4}, .size = 2}); },
                               {"rows hold 6 values, not channels × height × width = 2×2×2 = 8"});
}
