// ops/sum_rows.cpp: y = column sums (1xN); values by hand, gradcheck and batch rows.
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

TEST_CASE("sum_rows sums over the rows into a 1xN row") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = sum_rows(x);
  CHECK(y.shape() == Shape{1, 3});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{1, 2, 3}, {4, 5, 6}}}}, {y})[0], M{{5, 7, 9}});
}

TEST_CASE("sum_rows passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {3, 2});
  Node loss = sum(mul(square(sum_rows(p)), g.constant(weights(1, 2))));
  GradcheckResult r = gradcheck(g, loss, {{p, values(3, 2, 0.4)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("sum_rows of batch rows runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = sum_rows(x);
  CHECK(y.shape() == Shape{1, 3});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{1, 2, 3}}}}, {y})[0], M{{1, 2, 3}});
  check_near(ex.run({{x, M{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}}, {y})[0], M{{12, 15, 18}});
}

TEST_CASE("sum_rows of batch rows passes gradcheck") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node loss = sum(mul(square(sum_rows(x)), g.constant(weights(1, 3))));
  GradcheckResult r = gradcheck(g, loss, {{x, values(4, 3, 0.1)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}
