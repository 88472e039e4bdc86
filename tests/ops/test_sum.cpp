// ops/sum.cpp: y = sum of all elements; values by hand, gradcheck and batch rows.
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

// Weights in [-1, 1) for the loss sum(y * w), so every output element counts.
M weights(Eigen::Index rows, Eigen::Index cols) {
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = -1.0 + std::fmod(0.2 + 0.53 * k, 2.0);
  return m;
}

}  // namespace

TEST_CASE("sum adds every element into a 1x1") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = sum(x);
  CHECK(y.shape() == Shape{1, 1});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{1, 2, 3}, {4, 5, 6.5}}}}, {y})[0], M{{21.5}});
}

TEST_CASE("sum's gradient is a matrix of ones in the input's shape") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  std::vector<Node> d = gradients(sum(p), {p});
  Executor<double> ex(g);
  ex.set(p, values(2, 3, 0.0));
  check_near(ex.run({}, {d[0]})[0], M{{1, 1, 1}, {1, 1, 1}});
}

TEST_CASE("sum passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  // Squared so that the gradient depends on the values.
  Node loss = square(sum(mul(p, g.constant(weights(2, 3)))));
  GradcheckResult r = gradcheck(g, loss, {{p, values(2, 3, 0.4)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("sum of batch rows runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = sum(x);
  CHECK(y.shape() == Shape{1, 1});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{1, 2, 3}}}}, {y})[0], M{{6}});
  check_near(ex.run({{x, M{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}}, {y})[0], M{{45}});
}

TEST_CASE("sum of batch rows passes gradcheck") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node loss = square(sum(mul(x, g.constant(weights(1, 3)))));
  GradcheckResult r = gradcheck(g, loss, {{x, values(4, 3, 0.1)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}
