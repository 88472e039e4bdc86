// ops/zeros_like.cpp: zeros in like's shape; values, gradcheck, batch rows.
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

TEST_CASE("zeros_like gives zeros in like's shape whatever like holds") {
  Graph g;
  Node like = g.input("like", {2, 3});
  Node y = zeros_like(like);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  check_near(ex.run({{like, M{{1, -2, 3}, {4, 5, 6}}}}, {y})[0], M::Zero(2, 3));
}

TEST_CASE("zeros_like passes gradcheck: its gradient is zero") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node loss = sum(mul(add(p, zeros_like(square(p))), g.constant(weights(2, 3))));
  GradcheckResult r = gradcheck(g, loss, {{p, values(2, 3, 0.3)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
  std::vector<Node> d = gradients(sum(zeros_like(p)), {p});
  Executor<double> ex(g);
  ex.set(p, values(2, 3, 0.3));
  check_near(ex.run({}, {d[0]})[0], M::Zero(2, 3));
}

TEST_CASE("zeros_like of batch rows runs with any row count") {
  Graph g;
  Node like = g.input("like", {batch, 2});
  Node y = zeros_like(like);
  CHECK(y.shape() == Shape{batch, 2});
  Executor<double> ex(g);
  check_near(ex.run({{like, M::Ones(1, 2)}}, {y})[0], M::Zero(1, 2));
  check_near(ex.run({{like, M::Ones(5, 2)}}, {y})[0], M::Zero(5, 2));
}
