// ops/softmax_cross_entropy_grad.cpp: softmax_cross_entropy's fused gradient;
// values by hand, batch rows, bad shapes. As that gradient it is checked
// against finite differences in test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("softmax_cross_entropy_grad computes dy (softmax - labels) / rows") {
  op_checks::Applied<> y(softmax_cross_entropy_grad, {{"logits", {2, 2}}, {"labels", {2, 2}}, {"dy", {1, 1}}});
  CHECK(y.out.shape() == Shape{2, 2});
  const double a = 1 / (1 + std::exp(1.0));  // softmax(0, 1) = (a, 1 - a)
  check_near(y.run({M{{0, 1}, {7, 7}}, M{{0, 1}, {1, 0}}, M{{3}}}),
             M{{3 * a / 2, 3 * (1 - a - 1) / 2}, {3 * (0.5 - 1) / 2, 3 * 0.5 / 2}});
}

TEST_CASE("softmax_cross_entropy_grad stays finite for huge logits") {
  op_checks::Applied<> y(softmax_cross_entropy_grad, {{"logits", {1, 2}}, {"labels", {1, 2}}, {"dy", {1, 1}}});
  const M out = y.run({M{{1000, 0}}, M{{0, 1}}, M{{1}}});
  REQUIRE(out.allFinite());
  check_near(out, M{{1, -1}});
}

TEST_CASE("softmax_cross_entropy_grad declares that it has no gradient") {
  Graph g;
  Node z = g.parameter("logits", {2, 2});
  Node t = g.parameter("labels", {2, 2});
  Node dy = g.parameter("dy", {1, 1});
  Node loss = sum(softmax_cross_entropy_grad(z, t, dy));
  CHECK_THROWS_AS(gradients(loss, {z}), GraphError);
  CHECK_THROWS_AS(gradients(loss, {dy}), GraphError);
}

TEST_CASE("softmax_cross_entropy_grad rejects a dy that is not 1x1 and mismatched labels") {
  Graph g;
  Node z = g.input("logits", {2, 3});
  Node t = g.input("labels", {2, 3});
  Node bad_dy = g.input("bad_dy", {2, 1});
  Node bad_t = g.input("bad_labels", {3, 3});
  Node dy = g.input("dy", {1, 1});
  op_checks::check_shape_error([&] { softmax_cross_entropy_grad(z, t, bad_dy); }, {"bad_dy", "2x1"});
  CHECK_THROWS_AS(softmax_cross_entropy_grad(z, bad_t, dy), ShapeError);
}

TEST_CASE("softmax_cross_entropy_grad of batch rows divides by the rows fed") {
  op_checks::Applied<> y(softmax_cross_entropy_grad,
                         {{"logits", {batch, 2}}, {"labels", {batch, 2}}, {"dy", {1, 1}}});
  CHECK(y.out.shape() == Shape{batch, 2});
  check_near(y.run({M{{5, 5}}, M{{1, 0}}, M{{1}}}), M{{-0.5, 0.5}});
  check_near(y.run({M{{5, 5}, {5, 5}}, M{{1, 0}, {0, 1}}, M{{1}}}), M{{-0.25, 0.25}, {0.25, -0.25}});
}
