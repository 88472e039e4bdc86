// ops/binary_cross_entropy.cpp: mean cross-entropy of sigmoid(logits) and
// labels; values by hand, stability at large logits. Gradients and shape
// errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;

namespace {

// The textbook form, fine for moderate logits.
double naive(double x, double t) {
  const double s = 1.0 / (1.0 + std::exp(-x));
  return -(t * std::log(s) + (1 - t) * std::log(1 - s));
}

}  // namespace

TEST_CASE("binary_cross_entropy is the mean of -(t log s + (1 - t) log(1 - s)), s = sigmoid(x)") {
  op_checks::Applied<> loss(binary_cross_entropy, {{"x", {batch, 2}}, {"t", {batch, 2}}});
  CHECK(loss.out.shape() == Shape{1, 1});
  const double want = (naive(0.5, 1) + naive(-1.5, 0) + naive(2.0, 0.25) + naive(0.0, 1)) / 4;
  check_near(loss.run({M{{0.5, -1.5}, {2.0, 0.0}}, M{{1, 0}, {0.25, 1}}}), M{{want}});
}

TEST_CASE("binary_cross_entropy stays finite and exact at logits where sigmoid rounds to 0 or 1") {
  op_checks::Applied<> loss(binary_cross_entropy, {{"x", {1, 4}}, {"t", {1, 4}}});
  // Right answers cost almost nothing, wrong ones |x|.
  const M out = loss.run({M{{800, -800, 800, -800}}, M{{1, 0, 0, 1}}});
  CHECK(out.allFinite());
  check_near(out, M{{(800.0 + 800.0) / 4}});
}

TEST_CASE("binary_cross_entropy's gradient in the logits is (sigmoid(x) - t) / N") {
  Graph g;
  Node x = g.parameter("x", {1, 2});
  Node t = g.input("t", {1, 2});
  Node d = gradients(binary_cross_entropy(x, t), {x})[0];
  Executor<double> ex(g);
  ex.set(x, M{{0, 2}});
  const double s2 = 1.0 / (1.0 + std::exp(-2.0));
  check_near(ex.run({{t, M{{1, 0}}}}, {d})[0], M{{(0.5 - 1) / 2, s2 / 2}});
}
