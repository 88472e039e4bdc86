// ops/dropout.cpp: masks keyed by seed, step and element; identity at
// inference; the gradient drops the same elements; bad rates refused.
#include "op_checks.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;

namespace {

struct Net {
  Graph g;
  Node x = g.input("x", {batch, 100});
  Node step = g.input("step", {1, 1});
  Node y;
  explicit Net(double rate, std::uint64_t seed = 7) { y = dropout(x, step, {.rate = rate, .seed = seed}); }
};

M filled(Eigen::Index rows, Eigen::Index cols) {
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = 1.0 + 0.01 * double(k % 97);
  return m;
}

M run(Net& n, const M& X, double step, int threads = 2) {
  Executor<double> ex(n.g, {.threads = threads});
  return ex.run({{n.x, X}, {n.step, M::Constant(1, 1, step)}}, {n.y})[0];
}

}  // namespace

TEST_CASE("while training, dropout zeroes about rate of the elements and scales the rest by 1 / (1 - rate)") {
  Net n(0.3);
  const M X = filled(500, 100);
  const M Y = run(n, X, 0);
  Eigen::Index zeros = 0;
  for (Eigen::Index k = 0; k < Y.size(); ++k) {
    if (Y.data()[k] == 0) {
      ++zeros;
    } else {
      CHECK(Y.data()[k] == doctest::Approx(X.data()[k] / 0.7));
    }
  }
  // 50,000 draws: the share is within 1% of 0.3 (about 6 standard deviations).
  CHECK(std::abs(double(zeros) / double(Y.size()) - 0.3) < 0.01);
}

TEST_CASE("a dropout mask depends on seed, step and element alone: same bits at 1, 2 and 8 threads") {
  Net n(0.5);
  const M X = filled(700, 100);  // 70,000 elements: shared among threads
  const M one = run(n, X, 3, 1);
  CHECK(one == run(n, X, 3, 2));
  CHECK(one == run(n, X, 3, 8));
  CHECK(one != run(n, X, 4, 2));  // another step, another mask
  Net other_seed(0.5, 8);
  CHECK(one != run(other_seed, X, 3, 2));
}

TEST_CASE("at inference (a negative step) and at rate 0, dropout is the identity") {
  const M X = filled(20, 100);
  Net n(0.5);
  CHECK(run(n, X, -1) == X);
  Net none(0.0);
  CHECK(run(none, X, 5) == X);
}

TEST_CASE("dropout's gradient drops the same elements and scales the rest alike") {
  Net n(0.4);
  Node w = n.g.parameter("w", {1, 100});
  Node loss = sum(mul(dropout(mul(n.x, w), n.step, {.rate = 0.4, .seed = 11}), n.x));
  const std::vector<Node> grads = gradients(loss, {w});
  Executor<double> ex(n.g, {.threads = 2});
  const M X = filled(6, 100);
  ex.set(w, M::Constant(1, 100, 0.5));
  const M dw = ex.run({{n.x, X}, {n.step, M::Constant(1, 1, 2)}}, {grads[0]})[0];
  // By hand: loss = sum over rows of keep * x * w * x / 0.6, so
  // dloss/dw[c] = sum over rows of keep[r, c] * x[r, c]^2 / 0.6, with the
  // same mask as a forward dropout of the same key.
  Graph g2;
  Node x2 = g2.input("x", {batch, 100});
  Node s2 = g2.input("step", {1, 1});
  Node mask = dropout(x2, s2, {.rate = 0.4, .seed = 11});
  Executor<double> ex2(g2, {.threads = 1});
  const M kept = ex2.run({{x2, M::Ones(6, 100)}, {s2, M::Constant(1, 1, 2)}}, {mask})[0];
  const M want = (kept.array() * X.array().square()).colwise().sum();
  for (Eigen::Index c = 0; c < 100; ++c) CHECK(dw(0, c) == doctest::Approx(want(0, c)));
}

TEST_CASE("a dropout rate outside [0, 1) or a step that is not 1x1 is refused when the node is built") {
  Graph g;
  Node x = g.input("x", {batch, 4});
  Node step = g.input("step", {1, 1});
  for (double rate : {-0.1, 1.0, 1.5, std::nan("")}) {
    CAPTURE(rate);
    CHECK_THROWS_WITH_AS(dropout(x, step, {.rate = rate}), doctest::Contains("the rate must be in [0, 1)"), ShapeError);
  }
  Node wide = g.input("wide", {1, 2});
  CHECK_THROWS_WITH_AS(dropout(x, wide, {.rate = 0.5}), doctest::Contains("the step must be 1x1"), ShapeError);
  CHECK_THROWS_AS(gradients(sum(dropout(x, step, {.rate = 0.5})), {step}), GraphError);
}
