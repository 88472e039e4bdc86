// ops/scale.cpp: y = c x; values by hand, gradcheck and batch rows.
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

TEST_CASE("scale multiplies each element by the factor") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = scale(x, -2.5);
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.op()->key() == "scale");
  Executor<double> ex(g);
  const M X{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}};
  check_near(ex.run({{x, X}}, {y})[0], M{{3.75, 1.25, -0.625}, {-1.875, -3.0, -5.0}});
}

TEST_CASE("scale passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node loss = sum(mul(scale(p, -2.5), g.constant(weights(2, 3))));
  const M P{{-1.3, -0.4, 0.35}, {0.8, 1.1, 1.9}};
  GradcheckResult r = gradcheck(g, loss, {{p, P}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("scale of batch rows runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = scale(x, -2.5);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{-1.5, -0.5, 0.25}}}}, {y})[0], M{{3.75, 1.25, -0.625}});
  check_near(ex.run({{x, M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}}}}, {y})[0], M{{3.75, 1.25, -0.625}, {-1.875, -3.0, -5.0}});
}

TEST_CASE("scale labels itself with its factor") {
  Graph g;
  Node x = g.input("x", {1, 1});
  CHECK(scale(x, 0.5).op()->label() == "scale ×0.5");
  CHECK(scale(x, -2).op()->label() == "scale ×-2");
}

TEST_CASE("scale is what the number-times-node operators build") {
  Graph g;
  Node x = g.input("x", {1, 2});
  Node y = 3.0 * x;
  Node z = -x;
  CHECK(y.op()->key() == "scale");
  Executor<double> ex(g);
  auto out = ex.run({{x, M{{1.5, -2.0}}}}, {y, z});
  check_near(out[0], M{{4.5, -6.0}});
  check_near(out[1], M{{-1.5, 2.0}});
}
