// ops/max_pool2d_grad.cpp: routing by hand, second-order gradcheck, the overlapping-window refusal, bad shapes.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <string>
#include <vector>

using namespace dagrad;
using images::M;

TEST_CASE("max_pool2d_grad puts each window's gradient on its maximum and zeros elsewhere") {
  op_checks::Applied<> dx([](Node x, Node dy) { return max_pool2d_grad(x, dy, {.in = {1, 4, 4}, .size = 2}); },
                          {{"x", {1, 16}}, {"dy", {1, 4}}});
  CHECK(dx.out.shape() == Shape{1, 16});
  const M X{{1, 5, -2, 0, 3, 2, -1, -3, 0, 0, 9, 8, -4, 1, 7, 9.5}};
  images::check_close(dx.run({X, M{{10, 20, 30, 40}}}), M{{0, 10, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 30, 0, 40}});
}

TEST_CASE("max_pool2d_grad adds the gradients of overlapping windows that share a maximum") {
  // 3x3 image, 2x2 windows at stride 1: the centre, 9, is every window's maximum.
  op_checks::Applied<> dx(
      [](Node x, Node dy) { return max_pool2d_grad(x, dy, {.in = {1, 3, 3}, .size = 2, .stride = 1}); },
      {{"x", {1, 9}}, {"dy", {1, 4}}});
  images::check_close(dx.run({M{{1, 2, 3, 4, 9, 5, 6, 7, 8}}, M{{1, 2, 3, 4}}}), M{{0, 0, 0, 0, 10, 0, 0, 0, 0}});
}

TEST_CASE("max_pool2d_grad passes gradcheck in its output gradient; its gradient in x is zero") {
  const Pool2dOptions o{.in = {2, 4, 6}, .size = 2};
  Graph g;
  Node x = g.input("x", {batch, 48});
  Node dy = g.input("dy", {batch, 12});
  Node loss = sum(mul(max_pool2d_grad(x, dy, o), g.constant(images::wavy(2, 48, 0.8))));
  GradcheckResult r = gradcheck(g, loss, {{x, images::distinct(2, 48, 0.3)}, {dy, images::wavy(2, 12, 1.4)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("max_pool2d_grad has no gradient in dy for overlapping windows, and says so") {
  Graph g;
  Node x = g.input("x", {batch, 9});
  Node dy = g.input("dy", {batch, 4});
  Node loss = sum(max_pool2d_grad(x, dy, {.in = {1, 3, 3}, .size = 2, .stride = 1}));
  CHECK_THROWS_AS(gradients(loss, {dy}), GraphError);
  CHECK(gradients(loss, {x}).size() == 1);
}

TEST_CASE("max_pool2d_grad rejects an output gradient that is not the pooled shape") {
  Graph g;
  Node x = g.input("x", {batch, 16});
  Node dy = g.input("dy", {batch, 5});
  op_checks::check_shape_error([&] { max_pool2d_grad(x, dy, {.in = {1, 4, 4}, .size = 2}); },
                               {"rows hold 5 values, not channels × height × width = 1×2×2 = 4"});
}
