// ops/identity.cpp: y = x; values by hand, gradcheck and batch rows.
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

TEST_CASE("identity returns its input unchanged") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = identity(x);
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.op()->key() == "identity");
  Executor<double> ex(g);
  const M X{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}};
  check_near(ex.run({{x, X}}, {y})[0], M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}});
}

TEST_CASE("identity passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node loss = sum(mul(identity(p), g.constant(weights(2, 3))));
  const M P{{-1.3, -0.4, 0.35}, {0.8, 1.1, 1.9}};
  GradcheckResult r = gradcheck(g, loss, {{p, P}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("identity of batch rows runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = identity(x);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{-1.5, -0.5, 0.25}}}}, {y})[0], M{{-1.5, -0.5, 0.25}});
  check_near(ex.run({{x, M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}}}}, {y})[0], M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}});
}

TEST_CASE("identity passes its gradient through unchanged") {
  Graph g;
  Node p = g.parameter("p", {1, 3});
  Node loss = sum(mul(identity(p), g.constant(M{{0.5, -1.0, 2.0}})));
  std::vector<Node> d = gradients(loss, {p});
  Executor<double> ex(g);
  ex.set(p, M{{1.0, 2.0, 3.0}});
  check_near(ex.run({}, {d[0]})[0], M{{0.5, -1.0, 2.0}});
}
