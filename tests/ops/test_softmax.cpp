// ops/softmax.cpp: row-wise softmax; values by hand, gradcheck and batch rows.
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

TEST_CASE("softmax normalizes each row's exponentials") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = softmax(x);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  const double s0 = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const double s1 = 2 * std::exp(0.5) + std::exp(-1.0);
  const M out = ex.run({{x, M{{1, 2, 3}, {0.5, 0.5, -1}}}}, {y})[0];
  check_near(out, M{{std::exp(1.0) / s0, std::exp(2.0) / s0, std::exp(3.0) / s0},
                    {std::exp(0.5) / s1, std::exp(0.5) / s1, std::exp(-1.0) / s1}});
  check_near(out.rowwise().sum(), M{{1}, {1}});
}

TEST_CASE("softmax is unchanged by adding a constant to a row, even a huge one") {
  Graph g;
  Node x = g.input("x", {2, 3});
  Node y = softmax(x);
  Executor<double> ex(g);
  const M out = ex.run({{x, M{{0, 1, 2}, {1000, 1001, 1002}}}}, {y})[0];
  REQUIRE(out.allFinite());
  const double s = 1 + std::exp(1.0) + std::exp(2.0);
  check_near(out, M{{1 / s, std::exp(1.0) / s, std::exp(2.0) / s},
                    {1 / s, std::exp(1.0) / s, std::exp(2.0) / s}});
}

TEST_CASE("softmax passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {3, 4});
  Node loss = sum(mul(softmax(p), g.constant(weights(3, 4))));
  GradcheckResult r = gradcheck(g, loss, {{p, values(3, 4, 0.2)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("softmax of a single row passes gradcheck") {
  Graph g;
  Node p = g.parameter("p", {1, 4});
  Node loss = sum(mul(softmax(p), g.constant(weights(1, 4))));
  GradcheckResult r = gradcheck(g, loss, {{p, values(1, 4, 0.5)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("softmax of batch rows runs with any row count and passes gradcheck") {
  Graph g;
  Node x = g.input("x", {batch, 2});
  Node y = softmax(x);
  CHECK(y.shape() == Shape{batch, 2});
  Executor<double> ex(g);
  const double a = 1 / (1 + std::exp(1.0));  // softmax(0, 1) = (a, 1 - a)
  check_near(ex.run({{x, M{{0, 1}}}}, {y})[0], M{{a, 1 - a}});
  check_near(ex.run({{x, M{{0, 1}, {3, 2}, {5, 5}}}}, {y})[0], M{{a, 1 - a}, {1 - a, a}, {0.5, 0.5}});
  Node loss = sum(mul(y, g.constant(weights(3, 2))));
  GradcheckResult r = gradcheck(g, loss, {{x, values(3, 2, 0.3)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("softmax runs in float and stays finite for huge logits") {
  Graph g;
  Node x = g.input("x", {1, 2});
  Node y = softmax(x);
  Executor<float> ex(g);
  const Matrix<float> X{{500.0f, 500.0f}};
  const Matrix<float> out = ex.run({{x, X}}, {y})[0];
  CHECK(out(0, 0) == doctest::Approx(0.5));
  CHECK(out(0, 1) == doctest::Approx(0.5));
}
