// ops/broadcast.cpp: x repeated to like's shape; values by hand, gradcheck, batch rows.
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

TEST_CASE("broadcast repeats a 1x1, a row or a column to the shape of like") {
  Graph g;
  Node like = g.input("like", {2, 3});
  Node s = g.input("s", {1, 1});
  Node r = g.input("r", {1, 3});
  Node c = g.input("c", {2, 1});
  Node same = g.input("same", {2, 3});
  Node bs = broadcast(s, like), br = broadcast(r, like), bc = broadcast(c, like);
  Node bsame = broadcast(same, like);
  for (Node n : {bs, br, bc, bsame}) CHECK(n.shape() == Shape{2, 3});
  Executor<double> ex(g);
  const M L = M::Constant(2, 3, 99.0);  // only its shape may matter
  auto out = ex.run({{like, L}, {s, M{{7}}}, {r, M{{1, 2, 3}}}, {c, M{{4}, {5}}},
                     {same, M{{1, 2, 3}, {4, 5, 6}}}},
                    {bs, br, bc, bsame});
  check_near(out[0], M{{7, 7, 7}, {7, 7, 7}});
  check_near(out[1], M{{1, 2, 3}, {1, 2, 3}});
  check_near(out[2], M{{4, 4, 4}, {5, 5, 5}});
  check_near(out[3], M{{1, 2, 3}, {4, 5, 6}});
}

TEST_CASE("broadcast passes gradcheck for each pattern, like's gradient being zero") {
  const Shape shapes[] = {{1, 1}, {1, 3}, {2, 1}, {2, 3}};
  for (Shape sx : shapes) {
    CAPTURE(to_string(sx));
    Graph g;
    Node x = g.parameter("x", sx);
    Node like = g.parameter("like", {2, 3});
    Node loss = sum(mul(square(broadcast(x, like)), g.constant(weights(2, 3))));
    GradcheckResult r = gradcheck(g, loss, {{x, values(sx.rows, sx.cols, 0.2)}, {like, values(2, 3, 0.9)}}, {});
    CHECK_MESSAGE(r.ok, r.report());
  }
}

TEST_CASE("broadcast sums the gradient back over the repeated axes") {
  Graph g;
  Node r = g.parameter("r", {1, 2});
  Node c = g.parameter("c", {3, 1});
  Node like = g.input("like", {3, 2});
  const M W{{1, 2}, {3, 4}, {5, 6}};
  Node loss = add(sum(mul(broadcast(r, like), g.constant(W))), sum(mul(broadcast(c, like), g.constant(W))));
  std::vector<Node> d = gradients(loss, {r, c});
  Executor<double> ex(g);
  ex.set(r, M{{0, 0}});
  ex.set(c, M{{0}, {0}, {0}});
  auto out = ex.run({{like, M::Zero(3, 2)}}, {d[0], d[1]});
  check_near(out[0], M{{9, 12}});
  check_near(out[1], M{{3}, {7}, {11}});
}

TEST_CASE("broadcast of a row over batch rows runs with any row count") {
  Graph g;
  Node r = g.parameter("r", {1, 3});
  Node like = g.input("like", {batch, 3});
  Node y = broadcast(r, like);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  ex.set(r, M{{1, 2, 3}});
  check_near(ex.run({{like, M::Zero(1, 3)}}, {y})[0], M{{1, 2, 3}});
  check_near(ex.run({{like, M::Zero(4, 3)}}, {y})[0], M{{1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {1, 2, 3}});
}

TEST_CASE("broadcast of a 1x1 over batch rows passes gradcheck") {
  Graph g;
  Node s = g.parameter("s", {1, 1});
  Node like = g.input("like", {batch, 2});
  Node loss = sum(mul(square(broadcast(s, like)), g.constant(weights(3, 2))));
  GradcheckResult r = gradcheck(g, loss, {{s, M{{0.7}}}}, {{like, M::Zero(3, 2)}});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("broadcast of a 1x3 row to 2x4 throws a ShapeError naming both nodes and shapes") {
  Graph g;
  Node r = g.input("row", {1, 3});
  Node like = g.input("target", {2, 4});
  std::string what;
  try {
    broadcast(r, like);
  } catch (const ShapeError& e) {
    what = e.what();
  }
  CHECK(what.find("broadcast") != std::string::npos);
  CHECK(what.find("row") != std::string::npos);
  CHECK(what.find("target") != std::string::npos);
  CHECK(what.find("1x3") != std::string::npos);
  CHECK(what.find("2x4") != std::string::npos);
}
