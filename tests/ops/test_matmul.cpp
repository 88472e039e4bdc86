// ops/matmul.cpp: products by hand for each transpose flag, shape errors,
// batch rows, thread counts, the sparse route. Gradient checks of each flag:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>
#include <string>

using namespace dagrad;
using M = Matrix<double>;

namespace {

const M A{{1, 2, 3}, {4, 5, 6}};
const M B{{7, 8}, {9, 10}, {11, 12}};
// A B worked out by hand: row 0 is (7+18+33, 8+20+36).
const M AB{{58, 64}, {139, 154}};

}  // namespace

TEST_CASE("matmul multiplies a 2x3 by a 3x2 matrix") {
  Graph g;
  Node a = g.input("a", {2, 3});
  Node b = g.input("b", {3, 2});
  Node y = matmul(a, b);
  CHECK(y.shape() == Shape{2, 2});
  Executor<double> ex(g);
  check_near(ex.run({{a, A}, {b, B}}, {y})[0], AB);
}

TEST_CASE("matmul transposes either operand as the flags ask") {
  Graph g;
  const M At{{1, 4}, {2, 5}, {3, 6}};
  const M Bt{{7, 9, 11}, {8, 10, 12}};
  Node at = g.input("at", {3, 2});
  Node bt = g.input("bt", {2, 3});
  Node a = g.input("a", {2, 3});
  Node b = g.input("b", {3, 2});
  Node tn = matmul(at, b, {.transpose_a = true});
  Node nt = matmul(a, bt, {.transpose_b = true});
  Node tt = matmul(at, bt, {true, true});
  CHECK(tn.shape() == Shape{2, 2});
  CHECK(nt.shape() == Shape{2, 2});
  CHECK(tt.shape() == Shape{2, 2});
  Executor<double> ex(g);
  auto out = ex.run({{at, At}, {bt, Bt}, {a, A}, {b, B}}, {tn, nt, tt});
  check_near(out[0], AB);
  check_near(out[1], AB);
  check_near(out[2], AB);
}

TEST_CASE("matmul labels and writes its transposed operands") {
  Graph g;
  Node a = g.input("a", {3, 3});
  Node b = g.input("b", {3, 3});
  CHECK(matmul(a, b).op()->label() == "matmul");
  CHECK(matmul(a, b, {true, false}).op()->label() == "matmul (Aᵀ·B)");
  CHECK(matmul(a, b, {false, true}).op()->label() == "matmul (A·Bᵀ)");
  const std::string args[] = {"x", "w"};
  CHECK(matmul(a, b).op()->expression(args) == "x @ w");
  CHECK(matmul(a, b, {true, true}).op()->expression(args) == "xᵀ @ wᵀ");
}

TEST_CASE("matmul of 4x3 and 2x2 throws a ShapeError naming both nodes and shapes") {
  Graph g;
  Node a = g.input("left", {4, 3});
  Node b = g.input("right", {2, 2});
  op_checks::check_shape_error([&] { matmul(a, b); },
                               {"matmul", "left", "right", "4x3", "2x2", "inner dimensions differ (3 and 2)"});
}

TEST_CASE("matmul checks the inner dimensions after transposing") {
  Graph g;
  Node a = g.input("a", {3, 4});
  Node b = g.input("b", {3, 2});
  CHECK_THROWS_AS(matmul(a, b), ShapeError);
  CHECK(matmul(a, b, {.transpose_a = true}).shape() == Shape{4, 2});
  CHECK_THROWS_AS(matmul(a, b, {.transpose_b = true}), ShapeError);
}

TEST_CASE("matmul keeps the batch rows open and runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node w = g.parameter("w", {3, 2});
  Node y = matmul(x, w);
  CHECK(y.shape() == Shape{batch, 2});
  Executor<double> ex(g);
  ex.set(w, B);
  check_near(ex.run({{x, M{{1, 2, 3}}}}, {y})[0], M{{58, 64}});
  check_near(ex.run({{x, A}}, {y})[0], AB);
  // A batch inner dimension is not rejected: xᵀ x is 3x3 whatever the rows.
  Node gram = matmul(x, x, {.transpose_a = true});
  CHECK(gram.shape() == Shape{3, 3});
  check_near(ex.run({{x, A}}, {gram})[0], M{{17, 22, 27}, {22, 29, 36}, {27, 36, 45}});
}

TEST_CASE("matmul runs in float as well as double") {
  Graph g;
  Node a = g.input("a", {2, 3});
  Node b = g.input("b", {2, 3});
  Node y = matmul(a, b, {.transpose_b = true});
  Executor<float> ex(g);
  const Matrix<float> Af = A.cast<float>(), Bf = B.transpose().cast<float>();
  const Matrix<float> out = ex.run({{a, Af}, {b, Bf}}, {y})[0];
  CHECK(out(0, 0) == doctest::Approx(58));
  CHECK(out(0, 1) == doctest::Approx(64));
  CHECK(out(1, 0) == doctest::Approx(139));
  CHECK(out(1, 1) == doctest::Approx(154));
}

TEST_CASE("a large matmul split into row blocks is bit-identical at 1, 2 and 4 threads") {
  // 200x784 @ 784x50 and its weight gradient's shape (784x200 @ 200x50):
  // big enough to be cut into blocks.
  Graph g;
  Node x = g.input("x", {batch, 784});
  Node w = g.parameter("w", {784, 50});
  Node y = matmul(x, w);
  Node gw = matmul(x, y, {.transpose_a = true});
  Matrix<float> X = Matrix<float>::Random(200, 784), W = Matrix<float>::Random(784, 50);
  std::vector<Matrix<float>> first;
  for (int threads : {1, 2, 4}) {
    Executor<float> ex(g, {.threads = threads});
    ex.set(w, W);
    auto out = ex.run({{x, X}}, {y, gw});
    if (first.empty()) {
      first = out;
      Matrix<float> plain = X * W;
      CHECK((out[0] - plain).cwiseAbs().maxCoeff() < 1e-3f);
      Matrix<float> plain_gw = X.transpose() * plain;
      CHECK(((out[1] - plain_gw).cwiseAbs().maxCoeff() / plain_gw.cwiseAbs().maxCoeff()) < 1e-5f);
    } else {
      CHECK(out[0] == first[0]);
      CHECK(out[1] == first[1]);
    }
  }
}

TEST_CASE("matmul of a mostly-zero left factor takes the sparse route, with the same values and gradients") {
  // 6 x 40 with 5 nonzeros in each row (12.5%): below the sparse route's limit.
  M x = M::Zero(6, 40);
  for (Eigen::Index r = 0; r < 6; ++r) {
    for (Eigen::Index k = 0; k < 5; ++k) x(r, (r * 7 + k * 9) % 40) = 0.1 * double(r + 1) - 0.05 * double(k);
  }
  M w(40, 11);
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = std::sin(0.37 * double(i));
  M c(6, 11);
  for (Eigen::Index i = 0; i < c.size(); ++i) c.data()[i] = std::cos(0.21 * double(i));
  Graph g;
  Node xi = g.input("x", {batch, 40});
  Node wp = g.parameter("w", {40, 11});
  Node y = matmul(xi, wp);
  Node loss = sum(mul(y, g.constant(c)));
  Executor<double> ex(g);
  ex.set(wp, w);
  ex.compute({{xi, x}}, {y});
  check_near(ex.value(y), x * w);
  // dL/dw = xᵀ C goes through the transposed sparse route.
  GradcheckResult r = gradcheck(g, loss, {{wp, w}}, {{xi, x}});
  CHECK_MESSAGE(r.ok, r.report());
}
