// ops/softmax_cross_entropy_grad.cpp: softmax_cross_entropy's fused gradient; values by hand, gradcheck and batch rows.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "check_near.hpp"

#include <cmath>
#include <limits>
#include <string>

using namespace dagrad;
using M = Matrix<double>;

namespace {

// Values in [0.6, 1.9), varied so no two elements are alike.
M values(Eigen::Index rows, Eigen::Index cols, double start) {
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = 0.6 + std::fmod(start + 0.37 * k, 1.3);
  return m;
}


}  // namespace

TEST_CASE("softmax_cross_entropy_grad computes dy (softmax - labels) / rows") {
  Graph g;
  Node z = g.input("logits", {2, 2});
  Node t = g.input("labels", {2, 2});
  Node dy = g.input("dy", {1, 1});
  Node y = softmax_cross_entropy_grad(z, t, dy);
  CHECK(y.shape() == Shape{2, 2});
  Executor<double> ex(g);
  const double a = 1 / (1 + std::exp(1.0));  // softmax(0, 1) = (a, 1 - a)
  const M out = ex.run({{z, M{{0, 1}, {7, 7}}}, {t, M{{0, 1}, {1, 0}}}, {dy, M{{3}}}}, {y})[0];
  check_near(out, M{{3 * a / 2, 3 * (1 - a - 1) / 2}, {3 * (0.5 - 1) / 2, 3 * 0.5 / 2}});
}

TEST_CASE("softmax_cross_entropy_grad stays finite for huge logits") {
  Graph g;
  Node z = g.input("logits", {1, 2});
  Node t = g.input("labels", {1, 2});
  Node dy = g.input("dy", {1, 1});
  Node y = softmax_cross_entropy_grad(z, t, dy);
  Executor<double> ex(g);
  const M out = ex.run({{z, M{{1000, 0}}}, {t, M{{0, 1}}}, {dy, M{{1}}}}, {y})[0];
  REQUIRE(out.allFinite());
  check_near(out, M{{1, -1}});
}

TEST_CASE("softmax_cross_entropy_grad matches finite differences of the loss it differentiates") {
  Graph g;
  Node z = g.parameter("logits", {3, 3});
  Node t = g.input("labels", {3, 3});
  // The loss's gradient rule is softmax_cross_entropy_grad, fed dy = -1.5.
  Node loss = scale(softmax_cross_entropy(z, t), -1.5);
  const M T{{0, 0, 1}, {0.5, 0.5, 0}, {1, 0, 0}};
  GradcheckResult r = gradcheck(g, loss, {{z, values(3, 3, 0.7)}}, {{t, T}});
  CHECK_MESSAGE(r.ok, r.report());
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
  std::string what;
  try {
    softmax_cross_entropy_grad(z, t, bad_dy);
  } catch (const ShapeError& e) {
    what = e.what();
  }
  CHECK(what.find("bad_dy") != std::string::npos);
  CHECK(what.find("2x1") != std::string::npos);
  CHECK_THROWS_AS(softmax_cross_entropy_grad(z, bad_t, dy), ShapeError);
}

TEST_CASE("softmax_cross_entropy_grad of batch rows divides by the rows fed") {
  Graph g;
  Node z = g.input("logits", {batch, 2});
  Node t = g.input("labels", {batch, 2});
  Node dy = g.input("dy", {1, 1});
  Node y = softmax_cross_entropy_grad(z, t, dy);
  CHECK(y.shape() == Shape{batch, 2});
  Executor<double> ex(g);
  check_near(ex.run({{z, M{{5, 5}}}, {t, M{{1, 0}}}, {dy, M{{1}}}}, {y})[0], M{{-0.5, 0.5}});
  check_near(ex.run({{z, M{{5, 5}, {5, 5}}}, {t, M{{1, 0}, {0, 1}}}, {dy, M{{1}}}}, {y})[0],
             M{{-0.25, 0.25}, {0.25, -0.25}});
}
