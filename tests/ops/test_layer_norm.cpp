// ops/layer_norm.cpp, layer_norm_grad_input.cpp and layer_norm_grad_gain.cpp:
// values against the formula written out, gradients against the same
// normalization composed from mean, sub, square and rsqrt nodes, shapes and
// eps refused when built, and the same bits at 1 and 2 threads.
// Gradient checks (first and second order): test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;
using op_checks::uniform;

namespace {

// PyTorch's nn.LayerNorm, written out: each row less its mean, over the
// square root of its biased variance plus eps, times gain, plus bias.
M by_formula(const M& x, const M& gain, const M& bias, double eps) {
  M y(x.rows(), x.cols());
  const double d = static_cast<double>(x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    double mean = 0, var = 0;
    for (Eigen::Index j = 0; j < x.cols(); ++j) mean += x(r, j) / d;
    for (Eigen::Index j = 0; j < x.cols(); ++j) var += (x(r, j) - mean) * (x(r, j) - mean) / d;
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      y(r, j) = (x(r, j) - mean) / std::sqrt(var + eps) * gain(0, j) + bias(0, j);
    }
  }
  return y;
}

// The same normalization composed from existing ops, several nodes.
Node composed(Node x, Node gain, Node bias, double eps) {
  const double inv_width = 1.0 / static_cast<double>(x.shape().cols);
  const Node centered = sub(x, scale(sum_cols(x), inv_width));
  const Node rstd = rsqrt(shift(scale(sum_cols(square(centered)), inv_width), eps));
  return add(mul(mul(centered, rstd), gain), bias);
}

// layer_norm with the default eps.
Node by_default(Node x, Node gain, Node bias) { return layer_norm(x, gain, bias); }

}  // namespace

TEST_CASE("layer_norm normalizes each row by its mean and biased variance, then applies gain and bias") {
  op_checks::Applied<> y(by_default, {{"x", {batch, 4}}, {"gain", {1, 4}}, {"bias", {1, 4}}});
  CHECK(y.out.shape() == Shape{batch, 4});
  CHECK(y.out.op()->label() == "layer_norm");
  const M X{{1, 2, 3, 4}, {2, 2, 2, 6}, {-1e3, 0, 1e3, 5}};
  const M G{{1, 2, 0.5, -1}}, B{{0, 1, 0, 0.5}};
  const M out = y.run({X, G, B});
  check_near(out, by_formula(X, G, B, 1e-5));
  // Row 0 by hand: mean 2.5, variance 1.25, so xhat(0) = -1.5 / sqrt(1.25 + 1e-5).
  CHECK(out(0, 0) == doctest::Approx(-1.5 / std::sqrt(1.25 + 1e-5)));
}

TEST_CASE("layer_norm of a constant row gives the bias, and eps weighs against a small variance") {
  op_checks::Applied<> y([](Node x, Node gain, Node bias) { return layer_norm(x, gain, bias, {.eps = 0.5}); },
                         {{"x", {2, 3}}, {"gain", {1, 3}}, {"bias", {1, 3}}});
  const M X{{7, 7, 7}, {0, 0.1, 0.2}}, G{{2, 3, 4}}, B{{0.25, -1, 3}};
  const M out = y.run({X, G, B});
  CHECK(out.row(0) == B);
  check_near(out, by_formula(X, G, B, 0.5));
}

TEST_CASE("layer_norm and its gradients agree with the same normalization composed from existing ops") {
  Graph g;
  Node x = g.parameter("x", {6, 10});
  Node gain = g.parameter("gain", {1, 10});
  Node bias = g.parameter("bias", {1, 10});
  Node w = g.input("w", {6, 10});
  const Node fused = layer_norm(x, gain, bias, {.eps = 1e-3});
  const Node reference = composed(x, gain, bias, 1e-3);
  const std::vector<Node> d_fused = gradients(sum(mul(fused, w)), {x, gain, bias});
  const std::vector<Node> d_reference = gradients(sum(mul(reference, w)), {x, gain, bias});
  CHECK(d_fused[0].op()->key() == "layer_norm_grad_input");
  CHECK(d_fused[1].op()->key() == "layer_norm_grad_gain");

  Executor<double> ex(g);
  ex.set(x, uniform(6, 10, 1, -3, 3));
  ex.set(gain, uniform(1, 10, 2, 0.5, 2));
  ex.set(bias, uniform(1, 10, 3, -1, 1));
  const auto out = ex.run({{w, uniform(6, 10, 4, -1, 1)}},
                          {fused, reference, d_fused[0], d_reference[0], d_fused[1], d_reference[1], d_fused[2],
                           d_reference[2]});
  for (std::size_t i = 0; i < out.size(); i += 2) {
    CAPTURE(i);
    CHECK(((out[i] - out[i + 1]).array().abs() < 1e-12).all());
  }
}

TEST_CASE("layer_norm runs in float close to double") {
  op_checks::Applied<float> y(by_default, {{"x", {4, 8}}, {"gain", {1, 8}}, {"bias", {1, 8}}});
  const M X = uniform(4, 8, 5, -10, 10), G = uniform(1, 8, 6, -2, 2), B = uniform(1, 8, 7, -1, 1);
  const Matrix<float> out = y.run({X.cast<float>(), G.cast<float>(), B.cast<float>()});
  CHECK(((out.cast<double>() - by_formula(X, G, B, 1e-5)).array().abs() < 1e-5).all());
}

TEST_CASE("layer_norm refuses a gain or bias that is not 1 x D, an open width and eps <= 0, when built") {
  Graph g;
  Node x = g.input("x", {batch, 4});
  Node row = g.input("row", {1, 4});
  Node short_row = g.input("short", {1, 3});
  Node block = g.input("block", {2, 4});
  Node open = transpose(g.input("tall", {batch, 3}));  // 3 x ?: a width unknown until run
  Node open_row = transpose(g.input("column", {batch, 1}));
  CHECK_THROWS_WITH_AS(layer_norm(x, short_row, row),
                       "layer_norm: 'x' (?x4), 'short' (1x3) and 'row' (1x4) do not fit: the gain must be 1x4, "
                       "one value a column of x, not 1x3",
                       ShapeError);
  CHECK_THROWS_WITH_AS(layer_norm(x, row, block), doctest::Contains("the bias must be 1x4"), ShapeError);
  CHECK_THROWS_WITH_AS(layer_norm(open, open_row, open_row), doctest::Contains("the width of x must be known"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(layer_norm(x, row, row, {.eps = 0}), "layer_norm of 'x': eps must be a positive number, not 0",
                       GraphError);
  CHECK_THROWS_WITH_AS(layer_norm(x, row, row, {.eps = -1e-5}), doctest::Contains("not -1e-05"), GraphError);
  CHECK_THROWS_WITH_AS(layer_norm(x, row, row, {.eps = std::nan("")}), doctest::Contains("eps must be"),
                       GraphError);
  CHECK_THROWS_AS(layer_norm_grad_input(x, short_row, x), ShapeError);
  Node three = g.input("three", {3, 4});
  CHECK_THROWS_WITH_AS(layer_norm_grad_input(three, row, block), doctest::Contains("row counts differ"), ShapeError);
  CHECK_THROWS_AS(layer_norm_grad_gain(three, block, {}), ShapeError);
  CHECK_THROWS_AS(layer_norm_grad_gain(x, x, {.eps = 0}), GraphError);
}

TEST_CASE("layer_norm and its gradients give the same bits at 1 and 2 threads") {
  // 3000 rows of 48: above the size one thread takes alone, so two threads
  // share the rows; the gain gradient adds them in row order either way.
  const Eigen::Index rows = 3000, width = 48;
  Graph g;
  Node x = g.parameter("x", {rows, width});
  Node gain = g.parameter("gain", {1, width});
  Node bias = g.parameter("bias", {1, width});
  Node w = g.input("w", {rows, width});
  const Node y = layer_norm(x, gain, bias);
  const std::vector<Node> d = gradients(sum(mul(y, w)), {x, gain, bias});
  const M wv = uniform(rows, width, 11, -1, 1);
  std::vector<std::vector<Matrix<float>>> runs;
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    Executor<float> ex(g, {.threads = threads});
    ex.set(x, uniform(rows, width, 8, -5, 5).cast<float>());
    ex.set(gain, uniform(1, width, 9, 0.5, 1.5).cast<float>());
    ex.set(bias, uniform(1, width, 10, -1, 1).cast<float>());
    runs.push_back(ex.run({{w, wv.cast<float>()}}, {y, d[0], d[1], d[2]}));
  }
  for (std::size_t i = 0; i < runs[0].size(); ++i) {
    CAPTURE(i);
    CHECK(runs[0][i] == runs[1][i]);
  }
}
