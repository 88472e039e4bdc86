// ops/sum_squares.cpp: y = sum of squares; values by hand over batch rows,
// the same value and gradient as sum(square(x)), its gradient 2x by hand.
// Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("sum_squares adds every element's square into a 1x1") {
  op_checks::check_reduction(sum_squares, "sum_squares", {1, 1}, M{{1, -2, 3}, {0.5, 0, -1}}, M{{14}}, M{{15.25}});
}

TEST_CASE("sum_squares gives sum(square(x))'s value and gradient, bit for bit, in float") {
  // The L2 penalty of MLPClassifier moved from sum(square(w)) to this op;
  // its value and gradient must not change.
  Graph g;
  Node w = g.parameter("w", {37, 29});
  Node c = g.input("c", {1, 1});
  Node fused = mul(c, sum_squares(w));
  Node plain = mul(c, sum(square(w)));
  const Node d_fused = gradients(fused, {w})[0];
  const Node d_plain = gradients(plain, {w})[0];
  Executor<float> ex(g, {.threads = 2});
  ex.set(w, op_checks::values(37, 29, 0.3, -0.7).cast<float>());
  const Matrix<float> C = Matrix<float>::Constant(1, 1, 0.0125f);
  const auto out = ex.run({{c, C}}, {fused, plain, d_fused, d_plain});
  CHECK(out[0](0, 0) == out[1](0, 0));
  CHECK(out[2] == out[3]);
}

TEST_CASE("sum_squares's gradient is twice the input times dL/dy") {
  check_near(op_checks::gradient(sum_squares, M{{1, -2}, {0.5, 0}}, M{{3}}), M{{6, -12}, {3, 0}});
}
