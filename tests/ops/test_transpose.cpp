// ops/transpose.cpp: y = xᵀ; values by hand, gradcheck and batch rows.
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

TEST_CASE("transpose swaps rows and columns") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = transpose(x);
  CHECK(y.shape() == Shape{3, 2});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{1, 2, 3}, {4, 5, 6}}}}, {y})[0], M{{1, 4}, {2, 5}, {3, 6}});
}

TEST_CASE("transpose passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node loss = sum(mul(transpose(p), g.constant(weights(3, 2))));
  const M P = values(2, 3, 0.2);
  GradcheckResult r = gradcheck(g, loss, {{p, P}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("transpose of batch rows has batch columns and runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = transpose(x);
  CHECK(y.shape() == Shape{3, batch});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{1, 2, 3}}}}, {y})[0], M{{1}, {2}, {3}});
  check_near(ex.run({{x, M{{1, 2, 3}, {4, 5, 6}}}}, {y})[0], M{{1, 4}, {2, 5}, {3, 6}});
}

TEST_CASE("transpose writes itself with a ᵀ mark") {
  Graph g;
  Node x = g.input("x", {2, 3});
  const std::string args[] = {"w"};
  CHECK(transpose(x).op()->expression(args) == "wᵀ");
}
