// ops/mean.cpp: y = mean of all elements; values by hand, gradcheck and batch rows.
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

TEST_CASE("mean averages every element into a 1x1") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = mean(x);
  CHECK(y.shape() == Shape{1, 1});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{1, 2, 3}, {4, 5, 6}}}}, {y})[0], M{{3.5}});
}

TEST_CASE("mean passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node loss = square(mean(mul(p, g.constant(weights(2, 3)))));
  GradcheckResult r = gradcheck(g, loss, {{p, values(2, 3, 0.4)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("mean of batch rows divides by the row count fed at run time") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node w = g.parameter("w", {1, 3});
  Node y = mean(mul(x, w));
  CHECK(y.shape() == Shape{1, 1});
  std::vector<Node> d = gradients(y, {w});
  Executor<double> ex(g);
  ex.set(w, M{{1, 1, 1}});
  // dy/dw_j = (column sum j of x) / (rows * 3).
  auto two = ex.run({{x, M{{1, 2, 3}, {4, 5, 6}}}}, {y, d[0]});
  check_near(two[0], M{{3.5}});
  check_near(two[1], M{{5.0 / 6, 7.0 / 6, 9.0 / 6}});
  auto four = ex.run({{x, M{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}}}}, {y, d[0]});
  check_near(four[0], M{{6.5}});
  check_near(four[1], M{{22.0 / 12, 26.0 / 12, 30.0 / 12}});
}

TEST_CASE("mean of batch rows passes gradcheck") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node loss = square(mean(mul(x, g.constant(weights(1, 3)))));
  GradcheckResult r = gradcheck(g, loss, {{x, values(5, 3, 0.1)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}
