// ops/shift.cpp: y = x + c; values by hand, gradcheck and batch rows.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "check_near.hpp"

#include <cmath>
#include <limits>
#include <string>

using namespace dagrad;
using M = Matrix<double>;

namespace {

// Weights in [-1, 1) for the loss sum(y * w), so every output element counts.
M weights(Eigen::Index rows, Eigen::Index cols) {
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = -1.0 + std::fmod(0.2 + 0.53 * k, 2.0);
  return m;
}

}  // namespace

TEST_CASE("shift adds the offset to each element") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = shift(x, 0.25);
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.op()->key() == "shift");
  Executor<double> ex(g);
  const M X{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}};
  check_near(ex.run({{x, X}}, {y})[0], M{{-1.25, -0.25, 0.5}, {1.0, 1.45, 2.25}});
}

TEST_CASE("shift passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node loss = sum(mul(shift(p, 0.25), g.constant(weights(2, 3))));
  const M P{{-1.3, -0.4, 0.35}, {0.8, 1.1, 1.9}};
  GradcheckResult r = gradcheck(g, loss, {{p, P}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("shift of batch rows runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = shift(x, 0.25);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{-1.5, -0.5, 0.25}}}}, {y})[0], M{{-1.25, -0.25, 0.5}});
  check_near(ex.run({{x, M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}}}}, {y})[0], M{{-1.25, -0.25, 0.5}, {1.0, 1.45, 2.25}});
}

TEST_CASE("shift labels itself with its signed offset") {
  Graph g;
  Node x = g.input("x", {1, 1});
  CHECK(shift(x, 0.5).op()->label() == "shift +0.5");
  CHECK(shift(x, -2).op()->label() == "shift -2");
}

TEST_CASE("shift passes its gradient through unchanged") {
  Graph g;
  Node p = g.parameter("p", {1, 3});
  Node loss = sum(mul(shift(p, 7.0), g.constant(M{{0.5, -1.0, 2.0}})));
  std::vector<Node> d = gradients(loss, {p});
  Executor<double> ex(g);
  ex.set(p, M{{1.0, 2.0, 3.0}});
  check_near(ex.run({}, {d[0]})[0], M{{0.5, -1.0, 2.0}});
}
