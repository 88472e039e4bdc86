// ops/relu_grad.cpp: dy where x > 0; values by hand, gradcheck, batch rows.
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

TEST_CASE("relu_grad passes dy where x is positive and 0 elsewhere, 0 included") {
  Graph g;
  Node x = g.input("x", {1, 5});
  Node dy = g.input("dy", {1, 5});
  Node z = relu_grad(x, dy);
  CHECK(z.shape() == Shape{1, 5});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{-1, 2, 0.5, -0.3, 0}}}, {dy, M{{5, 6, 7, 8, 9}}}}, {z})[0],
             M{{0, 6, 7, 0, 0}});
}

TEST_CASE("relu_grad passes gradcheck in both inputs away from 0") {
  Graph g;
  Node x = g.parameter("x", {2, 3});
  Node dy = g.parameter("dy", {2, 3});
  Node loss = sum(mul(relu_grad(x, dy), g.constant(weights(2, 3))));
  const M X{{-1.3, -0.4, 0.35}, {0.8, -1.1, 1.9}};
  GradcheckResult r = gradcheck(g, loss, {{x, X}, {dy, values(2, 3, 0.4)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("relu_grad's gradient in x is an explicit zero, in dy the same mask") {
  Graph g;
  Node x = g.parameter("x", {1, 3});
  Node dy = g.parameter("dy", {1, 3});
  Node loss = sum(mul(relu_grad(x, dy), g.constant(M{{2, 3, 4}})));
  std::vector<Node> d = gradients(loss, {x, dy});
  Executor<double> ex(g);
  ex.set(x, M{{-1, 1, 2}});
  ex.set(dy, M{{5, 6, 7}});
  auto out = ex.run({}, {d[0], d[1]});
  check_near(out[0], M{{0, 0, 0}});
  check_near(out[1], M{{0, 3, 4}});
}

TEST_CASE("relu's second derivative passes gradcheck through relu_grad") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node q = g.parameter("q", {2, 3});
  // d/dp of sum(relu(p) * q) is relu_grad(p, q): a function of q to check.
  Node dp = gradients(sum(mul(relu(p), q)), {p})[0];
  Node loss = sum(mul(square(dp), g.constant(weights(2, 3))));
  const M P{{-1.3, -0.4, 0.35}, {0.8, 1.1, -1.9}};
  GradcheckResult r = gradcheck(g, loss, {{p, P}, {q, values(2, 3, 0.3)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("relu_grad of 2x3 and 3x2 throws a ShapeError naming both nodes and shapes") {
  Graph g;
  Node x = g.input("pre", {2, 3});
  Node dy = g.input("upstream", {3, 2});
  std::string what;
  try {
    relu_grad(x, dy);
  } catch (const ShapeError& e) {
    what = e.what();
  }
  CHECK(what.find("relu_grad") != std::string::npos);
  CHECK(what.find("pre") != std::string::npos);
  CHECK(what.find("upstream") != std::string::npos);
  CHECK(what.find("2x3") != std::string::npos);
  CHECK(what.find("3x2") != std::string::npos);
}

TEST_CASE("relu_grad of batch rows runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 2});
  Node dy = g.input("dy", {batch, 2});
  Node z = relu_grad(x, dy);
  CHECK(z.shape() == Shape{batch, 2});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{-1, 1}}}, {dy, M{{3, 4}}}}, {z})[0], M{{0, 4}});
  check_near(ex.run({{x, M{{-1, 1}, {2, -2}, {0.5, 0.5}}}, {dy, M{{3, 4}, {5, 6}, {7, 8}}}}, {z})[0],
             M{{0, 4}, {5, 0}, {7, 8}});
}
