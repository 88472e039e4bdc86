// ops/mul.cpp: values by hand with and without broadcasting, gradcheck for
// every broadcast pattern, shape errors and batch rows.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "check_near.hpp"

#include <cmath>
#include <string>

using namespace dagrad;
using M = Matrix<double>;

namespace {

// Values in [0.6, 1.9), away from 0 so that division is smooth, varied so no
// two elements are alike.
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

const M A{{1, 2, 3}, {4, 5, 6}};
const M R{{10, 20, 30}};   // a 1x3 row
const M Cc{{2}, {4}};      // a 2x1 column
const M S{{5}};            // a 1x1

}  // namespace

TEST_CASE("mul multiplies two matrices of one shape elementwise") {
  Graph g;
  Node a = g.input("a", {2, 3});
  Node b = g.input("b", {2, 3});
  Node y = mul(a, b);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  const M B = 10 * A;
  check_near(ex.run({{a, A}, {b, B}}, {y})[0], M{{10, 40, 90}, {160, 250, 360}});
}

TEST_CASE("mul broadcasts a 1xN row over the rows, on either side") {
  Graph g;
  Node a = g.input("a", {2, 3});
  Node r = g.input("r", {1, 3});
  Node ar = mul(a, r);
  Node ra = mul(r, a);
  CHECK(ar.shape() == Shape{2, 3});
  CHECK(ra.shape() == Shape{2, 3});
  Executor<double> ex(g);
  auto out = ex.run({{a, A}, {r, R}}, {ar, ra});
  check_near(out[0], M{{10, 40, 90}, {40, 100, 180}});
  check_near(out[1], M{{10, 40, 90}, {40, 100, 180}});
}

TEST_CASE("mul broadcasts an Mx1 column over the columns") {
  Graph g;
  Node a = g.input("a", {2, 3});
  Node c = g.input("c", {2, 1});
  Node y = mul(a, c);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  check_near(ex.run({{a, A}, {c, Cc}}, {y})[0], M{{2, 4, 6}, {16, 20, 24}});
}

TEST_CASE("mul broadcasts a 1x1 over the whole matrix") {
  Graph g;
  Node a = g.input("a", {2, 3});
  Node s = g.input("s", {1, 1});
  Node y = mul(s, a);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  check_near(ex.run({{a, A}, {s, S}}, {y})[0], M{{5, 10, 15}, {20, 25, 30}});
}

TEST_CASE("mul of an Mx1 column and a 1xN row broadcasts both to MxN") {
  Graph g;
  Node c = g.input("c", {2, 1});
  Node r = g.input("r", {1, 3});
  Node y = mul(c, r);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  check_near(ex.run({{c, Cc}, {r, R}}, {y})[0], M{{20, 40, 60}, {40, 80, 120}});
}

TEST_CASE("mul passes gradcheck for every broadcast pattern") {
  const Shape shapes[][2] = {
      {{2, 3}, {2, 3}}, {{2, 3}, {1, 3}}, {{1, 3}, {2, 3}}, {{2, 3}, {2, 1}},
      {{2, 1}, {2, 3}}, {{2, 3}, {1, 1}}, {{1, 1}, {2, 3}}, {{2, 1}, {1, 3}},
  };
  for (const auto& pair : shapes) {
    const Shape sa = pair[0], sb = pair[1];
    CAPTURE(to_string(sa));
    CAPTURE(to_string(sb));
    Graph g;
    Node a = g.parameter("a", sa);
    Node b = g.parameter("b", sb);
    Node y = mul(a, b);
    REQUIRE(y.shape() == Shape{2, 3});
    Node loss = sum(mul(y, g.constant(weights(2, 3))));
    const M av = values(sa.rows, sa.cols, 0.1), bv = values(sb.rows, sb.cols, 0.75);
    GradcheckResult r = gradcheck(g, loss, {{a, av}, {b, bv}}, {});
    CHECK_MESSAGE(r.ok, r.report());
  }
}

TEST_CASE("mul of 2x3 and 3x2 throws a ShapeError naming both nodes and shapes") {
  Graph g;
  Node a = g.input("first", {2, 3});
  Node b = g.input("second", {3, 2});
  std::string what;
  try {
    mul(a, b);
  } catch (const ShapeError& e) {
    what = e.what();
  }
  CHECK(what.find("mul") != std::string::npos);
  CHECK(what.find("first") != std::string::npos);
  CHECK(what.find("second") != std::string::npos);
  CHECK(what.find("2x3") != std::string::npos);
  CHECK(what.find("3x2") != std::string::npos);
}

TEST_CASE("mul of batch rows and a 1xN row runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node r = g.parameter("r", {1, 3});
  Node y = mul(x, r);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  ex.set(r, R);
  check_near(ex.run({{x, M{{1, 2, 3}}}}, {y})[0], M{{10, 40, 90}});
  check_near(ex.run({{x, M{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}}, {y})[0], M{{10, 40, 90}, {40, 100, 180}, {70, 160, 270}});
}

TEST_CASE("mul of batch rows passes gradcheck for the broadcast row") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node r = g.parameter("r", {1, 3});
  Node loss = sum(mul(mul(x, r), g.constant(weights(4, 3))));
  const M X = values(4, 3, 0.3), rv = values(1, 3, 0.9);
  GradcheckResult res = gradcheck(g, loss, {{r, rv}, {x, X}}, {});
  CHECK_MESSAGE(res.ok, res.report());
}

TEST_CASE("mul writes itself infix") {
  Graph g;
  Node a = g.input("a", {1, 1});
  const std::string args[] = {"p", "q"};
  CHECK(mul(a, a).op()->expression(args) == "p * q");
}
