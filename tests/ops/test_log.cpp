// ops/log.cpp: y = ln x; values by hand, gradcheck and batch rows.
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

TEST_CASE("log takes the natural log of each element") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = log(x);
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.op()->key() == "log");
  Executor<double> ex(g);
  const M X{{0.5, 1.0, 2.0}, {3.0, 4.0, 5.0}};
  check_near(ex.run({{x, X}}, {y})[0], M{{std::log(0.5), std::log(1.0), std::log(2.0)}, {std::log(3.0), std::log(4.0), std::log(5.0)}});
}

TEST_CASE("log of batch rows runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = log(x);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{0.5, 1.0, 2.0}}}}, {y})[0], M{{std::log(0.5), std::log(1.0), std::log(2.0)}});
  check_near(ex.run({{x, M{{0.5, 1.0, 2.0}, {3.0, 4.0, 5.0}}}}, {y})[0], M{{std::log(0.5), std::log(1.0), std::log(2.0)}, {std::log(3.0), std::log(4.0), std::log(5.0)}});
}

TEST_CASE("log passes gradcheck at points away from 0") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node loss = sum(mul(log(p), g.constant(weights(2, 3))));
  const M P{{0.3, 0.9, 1.7}, {2.5, 0.45, 4.0}};
  GradcheckResult r = gradcheck(g, loss, {{p, P}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}
