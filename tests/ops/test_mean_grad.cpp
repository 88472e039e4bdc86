// ops/mean_grad.cpp: dy / size(like) repeated to like's shape; values by hand, gradcheck, batch rows.
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

TEST_CASE("mean_grad spreads dy evenly over like's elements") {
  Graph g;
  Node dy = g.input("dy", {1, 1});
  Node like = g.input("like", {2, 3});
  Node y = mean_grad(dy, like);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  check_near(ex.run({{dy, M{{6}}}, {like, M::Constant(2, 3, 99.0)}}, {y})[0],
             M{{1, 1, 1}, {1, 1, 1}});
}

TEST_CASE("mean_grad passes gradcheck, like's gradient being zero") {
  Graph g;
  Node dy = g.parameter("dy", {1, 1});
  Node like = g.parameter("like", {3, 2});
  Node loss = sum(mul(square(mean_grad(dy, like)), g.constant(weights(3, 2))));
  GradcheckResult r = gradcheck(g, loss, {{dy, M{{1.7}}}, {like, values(3, 2, 0.1)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("mean_grad divides by the row count fed at run time") {
  Graph g;
  Node dy = g.parameter("dy", {1, 1});
  Node like = g.input("like", {batch, 3});
  Node y = mean_grad(dy, like);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  ex.set(dy, M{{6}});
  check_near(ex.run({{like, M::Zero(1, 3)}}, {y})[0], M{{2, 2, 2}});
  check_near(ex.run({{like, M::Zero(4, 3)}}, {y})[0], M::Constant(4, 3, 0.5));
}

TEST_CASE("mean_grad with a dy that is not 1x1 throws a ShapeError naming both nodes") {
  Graph g;
  Node dy = g.input("upstream", {2, 1});
  Node like = g.input("target", {2, 3});
  std::string what;
  try {
    mean_grad(dy, like);
  } catch (const ShapeError& e) {
    what = e.what();
  }
  CHECK(what.find("mean_grad") != std::string::npos);
  CHECK(what.find("upstream") != std::string::npos);
  CHECK(what.find("target") != std::string::npos);
  CHECK(what.find("2x1") != std::string::npos);
}
