// ops/sum_squares.cpp: y = sum of squares; values by hand, the same value and
// gradient as sum(square(x)), gradcheck, and batch rows.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;

namespace {

// Values in [-0.7, 0.6), varied so no two elements are alike.
M values(Eigen::Index rows, Eigen::Index cols, double start) {
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = -0.7 + std::fmod(start + 0.37 * k, 1.3);
  return m;
}

}  // namespace

TEST_CASE("sum_squares adds every element's square into a 1x1") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = sum_squares(x);
  CHECK(y.shape() == Shape{1, 1});
  Executor<double> ex(g);
  CHECK(ex.run({{x, M{{1, -2, 3}, {0.5, 0, -1}}}}, {y})[0](0, 0) == doctest::Approx(15.25));
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
  ex.set(w, values(37, 29, 0.3).cast<float>());
  const Matrix<float> C = Matrix<float>::Constant(1, 1, 0.0125f);
  const auto out = ex.run({{c, C}}, {fused, plain, d_fused, d_plain});
  CHECK(out[0](0, 0) == out[1](0, 0));
  CHECK(out[2] == out[3]);
}

TEST_CASE("sum_squares's gradient is twice the input times dL/dy") {
  Graph g;
  Node p = g.parameter("p", {2, 2});
  std::vector<Node> d = gradients(scale(sum_squares(p), 3.0), {p});
  Executor<double> ex(g);
  ex.set(p, M{{1, -2}, {0.5, 0}});
  const M got = ex.run({}, {d[0]})[0];
  CHECK(got(0, 0) == doctest::Approx(6));
  CHECK(got(0, 1) == doctest::Approx(-12));
  CHECK(got(1, 0) == doctest::Approx(3));
  CHECK(got(1, 1) == doctest::Approx(0));
}

TEST_CASE("sum_squares passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {3, 4});
  Node loss = square(sum_squares(p));
  GradcheckResult r = gradcheck(g, loss, {{p, values(3, 4, 0.4)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("sum_squares of batch rows runs with any row count and passes gradcheck") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = sum_squares(x);
  CHECK(y.shape() == Shape{1, 1});
  Executor<double> ex(g);
  CHECK(ex.run({{x, M{{1, 2, 3}}}}, {y})[0](0, 0) == doctest::Approx(14));
  CHECK(ex.run({{x, M{{1, 2, 3}, {4, 5, 6}}}}, {y})[0](0, 0) == doctest::Approx(91));
  GradcheckResult r = gradcheck(g, sum_squares(x), {{x, values(4, 3, 0.1)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}
