// ops/tanh_grad.cpp: dy*(1-y^2) from tanh's output; values by hand, gradcheck, batch rows.
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

TEST_CASE("tanh_grad computes dy * (1 - y^2)") {
  Graph g;
  Node y = g.input("y", {1, 3});
  Node dy = g.input("dy", {1, 3});
  Node z = tanh_grad(y, dy);
  CHECK(z.shape() == Shape{1, 3});
  Executor<double> ex(g);
  check_near(ex.run({{y, M{{0.2, 0.5, -0.9}}}, {dy, M{{1, 2, -3}}}}, {z})[0],
             M{{0.96, 1.5, -0.57}});
}

TEST_CASE("tanh's gradient is 1 - y^2 from its output") {
  Graph g;
  Node p = g.parameter("p", {1, 2});
  std::vector<Node> d = gradients(sum(dagrad::tanh(p)), {p});
  Executor<double> ex(g);
  ex.set(p, M{{0, 0.7}});
  const double t = std::tanh(0.7);
  check_near(ex.run({}, {d[0]})[0], M{{1, 1 - t * t}});
}

TEST_CASE("tanh_grad passes gradcheck in both its inputs") {
  Graph g;
  Node y = g.parameter("y", {2, 3});
  Node dy = g.parameter("dy", {2, 3});
  Node loss = sum(mul(tanh_grad(y, dy), g.constant(weights(2, 3))));
  const M Y{{-0.9, -0.35, 0.05}, {0.42, 0.8, 0.95}};
  GradcheckResult r = gradcheck(g, loss, {{y, Y}, {dy, values(2, 3, 0.4)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("tanh's second derivative passes gradcheck through tanh_grad") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node first = sum(mul(dagrad::tanh(p), g.constant(weights(2, 3))));
  Node dp = gradients(first, {p})[0];
  Node loss = sum(mul(square(dp), g.constant(values(2, 3, 0.2))));
  const M P{{-1.3, -0.4, 0.35}, {0.8, 1.1, 1.9}};
  GradcheckResult r = gradcheck(g, loss, {{p, P}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("tanh_grad of 2x3 and 3x2 throws a ShapeError naming both nodes and shapes") {
  Graph g;
  Node y = g.input("out", {2, 3});
  Node dy = g.input("upstream", {3, 2});
  std::string what;
  try {
    tanh_grad(y, dy);
  } catch (const ShapeError& e) {
    what = e.what();
  }
  CHECK(what.find("tanh_grad") != std::string::npos);
  CHECK(what.find("out") != std::string::npos);
  CHECK(what.find("upstream") != std::string::npos);
  CHECK(what.find("2x3") != std::string::npos);
  CHECK(what.find("3x2") != std::string::npos);
}

TEST_CASE("tanh_grad of batch rows runs with any row count") {
  Graph g;
  Node y = g.input("y", {batch, 3});
  Node dy = g.input("dy", {batch, 3});
  Node z = tanh_grad(y, dy);
  CHECK(z.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  check_near(ex.run({{y, M{{0.2, 0.5, -0.9}}}, {dy, M{{1, 2, -3}}}}, {z})[0], M{{0.96, 1.5, -0.57}});
  check_near(ex.run({{y, M{{0.2, 0.5, -0.9}, {0, 1, -0.5}}}, {dy, M{{1, 2, -3}, {4, 10, 8}}}}, {z})[0],
             M{{0.96, 1.5, -0.57}, {4, 0, 6}});
}
