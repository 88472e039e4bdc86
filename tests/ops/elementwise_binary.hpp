// What add, sub, mul and div share, checked the same way for each: the
// inputs the tests use, gradcheck for every broadcast pattern and over batch
// rows, and the ShapeError of shapes that do not broadcast. Each op's own
// test (test_add.cpp, ...) keeps the values it computes, worked by hand.
//   TEST_CASE("add passes gradcheck for every broadcast pattern") { elementwise_binary::check_gradients(add); }
#pragma once

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <cmath>
#include <string>

namespace elementwise_binary {

using M = dagrad::Matrix<double>;
using BinaryOp = dagrad::Node (*)(dagrad::Node, dagrad::Node);

// Values in [0.6, 1.9), away from 0 so that division is smooth, varied so no
// two elements are alike.
inline M values(Eigen::Index rows, Eigen::Index cols, double start) {
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = 0.6 + std::fmod(start + 0.37 * k, 1.3);
  return m;
}

// Weights in [-1, 1) for the loss sum(y * w), so every output element counts.
inline M weights(Eigen::Index rows, Eigen::Index cols) {
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = -1.0 + std::fmod(0.2 + 0.53 * k, 2.0);
  return m;
}

inline const M A{{1, 2, 3}, {4, 5, 6}};
inline const M R{{10, 20, 30}};  // a 1x3 row
inline const M Cc{{2}, {4}};     // a 2x1 column
inline const M S{{5}};           // a 1x1

// op(a, b) for each pair of shapes that broadcast to 2x3, either side the
// smaller: the gradients of both inputs against central differences.
inline void check_gradients(BinaryOp op) {
  using namespace dagrad;
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
    Node y = op(a, b);
    REQUIRE(y.shape() == Shape{2, 3});
    Node loss = sum(mul(y, g.constant(weights(2, 3))));
    const M av = values(sa.rows, sa.cols, 0.1), bv = values(sb.rows, sb.cols, 0.75);
    GradcheckResult r = gradcheck(g, loss, {{a, av}, {b, bv}}, {});
    CHECK_MESSAGE(r.ok, r.report());
  }
}

// op(x, r) with x batch rows and r a 1x3 row parameter: gradcheck over 4 rows.
inline void check_batch_gradients(BinaryOp op) {
  using namespace dagrad;
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node r = g.parameter("r", {1, 3});
  Node loss = sum(mul(op(x, r), g.constant(weights(4, 3))));
  const M X = values(4, 3, 0.3), rv = values(1, 3, 0.9);
  GradcheckResult res = gradcheck(g, loss, {{r, rv}, {x, X}}, {});
  CHECK_MESSAGE(res.ok, res.report());
}

// op of a 2x3 and a 3x2, which do not broadcast: a ShapeError naming the op,
// both nodes and both shapes, when the node is built.
inline void check_shape_error(BinaryOp op, const std::string& name) {
  using namespace dagrad;
  Graph g;
  Node a = g.input("first", {2, 3});
  Node b = g.input("second", {3, 2});
  std::string what;
  try {
    op(a, b);
  } catch (const ShapeError& e) {
    what = e.what();
  }
  CHECK(what.find(name) != std::string::npos);
  CHECK(what.find("first") != std::string::npos);
  CHECK(what.find("second") != std::string::npos);
  CHECK(what.find("2x3") != std::string::npos);
  CHECK(what.find("3x2") != std::string::npos);
}

}  // namespace elementwise_binary
