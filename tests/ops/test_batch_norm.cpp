// ops/batch_norm.cpp, batch_norm_running.cpp and batch_norm_grad_input.cpp:
// values against PyTorch's formulas written out (dense and image rows,
// training and inference), the running averages, the input gradient against
// the same normalization composed from existing ops, shapes refused when
// built, and the same bits at 1 and 2 threads.
// Gradient checks (first order): test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;
using op_checks::uniform;

namespace {

M scalar(double v) { return M::Constant(1, 1, v); }

// PyTorch's BatchNorm written out, a channel at a time: its values are
// x(n, c * pixels + p) over every row n and pixel p. Training normalizes by
// their mean and biased variance, inference by the running ones (rows mean
// and variance of `running`); `batch` receives [mean; unbiased variance].
M by_formula(const M& x, const M& gain, const M& bias, const M& running, bool training, Eigen::Index pixels,
             double eps, M* batch = nullptr) {
  const Eigen::Index channels = gain.cols();
  M y(x.rows(), x.cols());
  if (batch) batch->resize(2, channels);
  for (Eigen::Index c = 0; c < channels; ++c) {
    const auto block = [&](Eigen::Index n) { return x.row(n).segment(c * pixels, pixels); };
    const double count = double(x.rows() * pixels);
    double mean = 0, squares = 0;
    for (Eigen::Index n = 0; n < x.rows(); ++n) mean += block(n).sum() / count;
    for (Eigen::Index n = 0; n < x.rows(); ++n) squares += (block(n).array() - mean).square().sum();
    if (batch) {
      (*batch)(0, c) = mean;
      (*batch)(1, c) = squares / (count - 1);
    }
    const double m = training ? mean : running(0, c);
    const double v = training ? squares / count : running(1, c);
    for (Eigen::Index n = 0; n < x.rows(); ++n) {
      y.row(n).segment(c * pixels, pixels) =
          ((block(n).array() - m) / std::sqrt(v + eps) * gain(0, c) + bias(0, c)).matrix();
    }
  }
  return y;
}

struct Net {
  Graph g;
  Node x, gain, bias, mean, var, step, y, next_mean, next_var;
  Net(Shape shape, Dim channels, BatchNormOptions o) {
    x = g.input("x", shape);
    gain = g.input("gain", {1, channels});
    bias = g.input("bias", {1, channels});
    mean = g.input("mean", {1, channels});
    var = g.input("var", {1, channels});
    step = g.input("step", {1, 1});
    y = batch_norm(x, gain, bias, mean, var, step, o);
    next_mean = batch_norm_running(x, mean, step, BatchStatistic::mean, o);
    next_var = batch_norm_running(x, var, step, BatchStatistic::variance, o);
  }
  // y, then the running statistics after the step: [mean; variance].
  std::pair<M, M> run(Executor<double>& ex, const M& X, const M& G, const M& B, const M& R, double s) {
    const auto out = ex.run({{x, X}, {gain, G}, {bias, B}, {mean, M(R.row(0))}, {var, M(R.row(1))}, {step, scalar(s)}},
                            {y, next_mean, next_var});
    M next(2, out[1].cols());
    next << out[1], out[2];
    return {out[0], next};
  }
};

}  // namespace

TEST_CASE("batch_norm on dense rows trains with each column's batch statistics and infers with the running ones") {
  Net net({batch, 3}, 3, {});
  CHECK(net.y.shape() == Shape{batch, 3});
  CHECK(net.y.op()->label() == "batch_norm");
  CHECK(net.next_var.shape() == Shape{1, 3});
  CHECK(net.next_var.op()->label() == "running variance");
  const M X{{1, -2, 10}, {3, 0, 10.5}, {2, 5, 9}, {6, 1, 12}};
  const M G{{1, 2, -0.5}}, B{{0, 1, 0.25}}, R{{0.5, -1, 10}, {2, 0.25, 4}};
  Executor<double> ex(net.g);
  const auto [y, next] = net.run(ex, X, G, B, R, 0);
  M batch_stats;
  check_near(y, by_formula(X, G, B, R, true, 1, 1e-5, &batch_stats));
  // Column 0 by hand: mean 3, biased variance (4 + 0 + 1 + 9) / 4 = 3.5.
  CHECK(y(0, 0) == doctest::Approx(-2 / std::sqrt(3.5 + 1e-5)));
  // The running statistics move a tenth of the way to the batch's, the
  // variance unbiased: 0.9 * 2 + 0.1 * 14 / 3.
  CHECK(next(0, 0) == doctest::Approx(0.9 * 0.5 + 0.1 * 3));
  CHECK(next(1, 0) == doctest::Approx(0.9 * 2 + 0.1 * 14.0 / 3));
  check_near(next, M(0.9 * R + 0.1 * batch_stats));

  const auto [y_infer, unchanged] = net.run(ex, X, G, B, R, -1);
  check_near(y_infer, by_formula(X, G, B, R, false, 1, 1e-5));
  CHECK(y_infer(0, 0) == doctest::Approx((1 - 0.5) / std::sqrt(2 + 1e-5)));
  CHECK(unchanged == R);  // inference leaves the running statistics alone
}

TEST_CASE("batch_norm on image rows takes each channel's statistics over the rows and the pixels") {
  const ImageShape image{2, 2, 3};  // 2 channels of 6 pixels
  Net net({batch, 12}, 2, {.image = image, .eps = 1e-3, .momentum = 0.25});
  CHECK(net.y.op()->label() == "batch_norm 2×2×3");
  const M X = uniform(3, 12, 1, -4, 4), G{{1.5, -0.5}}, B{{0.5, 2}}, R{{0.1, -0.2}, {1.5, 0.5}};
  Executor<double> ex(net.g);
  const auto [y, next] = net.run(ex, X, G, B, R, 7);
  M batch_stats;
  check_near(y, by_formula(X, G, B, R, true, 6, 1e-3, &batch_stats));
  check_near(next, M(0.75 * R + 0.25 * batch_stats));
  // Channel 1's mean by hand: the 18 values in columns 6..11.
  CHECK(batch_stats(0, 1) == doctest::Approx(X.rightCols(6).sum() / 18));
  const auto [y_infer, unchanged] = net.run(ex, X, G, B, R, -3);
  check_near(y_infer, by_formula(X, G, B, R, false, 6, 1e-3));
  CHECK(y_infer(2, 7) == doctest::Approx((X(2, 7) + 0.2) / std::sqrt(0.5 + 1e-3) * -0.5 + 2));
  CHECK(unchanged == R);
}

TEST_CASE("batch_norm's input gradient agrees with the normalization composed from existing ops") {
  // Training: xhat = (x - mean) * rsqrt(var + eps), the statistics nodes of x.
  Graph g;
  const Dim rows = 5, width = 4;
  Node x = g.parameter("x", {rows, width});
  Node gain = g.parameter("gain", {1, width});
  Node bias = g.parameter("bias", {1, width});
  Node mean = g.parameter("mean", {1, width});
  Node var = g.parameter("var", {1, width});
  Node step = g.input("step", {1, 1});
  Node w = g.input("w", {rows, width});
  const double eps = 1e-3;
  const Node fused = batch_norm(x, gain, bias, mean, var, step, {.eps = eps});
  const Node centered = sub(x, scale(sum_rows(x), 1.0 / rows));
  const Node rstd = rsqrt(shift(scale(sum_rows(square(centered)), 1.0 / rows), eps));
  const Node reference = add(mul(mul(centered, rstd), gain), bias);
  const auto d_fused = gradients(sum(mul(fused, w)), {x, gain, bias});
  const auto d_reference = gradients(sum(mul(reference, w)), {x, gain, bias});
  CHECK(d_fused[0].op()->key() == "batch_norm_grad_input");
  Executor<double> ex(g);
  ex.set(x, uniform(rows, width, 2, -3, 3));
  ex.set(gain, uniform(1, width, 3, 0.5, 2));
  ex.set(bias, uniform(1, width, 4, -1, 1));
  ex.set(mean, uniform(1, width, 5, -0.5, 0.5));
  ex.set(var, uniform(1, width, 7, 0.5, 1.5));
  const auto out = ex.run({{w, uniform(rows, width, 6, -1, 1)}, {step, scalar(1)}},
                          {fused, reference, d_fused[0], d_reference[0], d_fused[1], d_reference[1], d_fused[2],
                           d_reference[2]});
  for (std::size_t i = 0; i < out.size(); i += 2) {
    CAPTURE(i);
    CHECK(((out[i] - out[i + 1]).array().abs() < 1e-12).all());
  }
  // Inference: the statistics are constants, dx = dy * gain * rstd.
  const M V = ex.value(var), W = uniform(rows, width, 6, -1, 1);
  const M dx = ex.run({{w, W}, {step, scalar(-1)}}, {d_fused[0]})[0];
  for (Eigen::Index c = 0; c < width; ++c) {
    CHECK(dx(1, c) == doctest::Approx(W(1, c) * ex.value(gain)(0, c) / std::sqrt(V(0, c) + eps)));
  }
}

TEST_CASE("batch_norm refuses gain, bias or running statistics not of the channels, and images not of the columns") {
  Graph g;
  Node x = g.input("x", {batch, 4});
  Node row = g.input("row", {1, 4});
  Node short_row = g.input("short", {1, 3});
  Node block = g.input("block", {2, 4});
  Node step = g.input("step", {1, 1});
  CHECK_THROWS_WITH_AS(batch_norm(x, short_row, row, row, row, step),
                       "batch_norm: 'x' (?x4), 'short' (1x3), 'row' (1x4), 'row' (1x4), 'row' (1x4) and 'step' (1x1) "
                       "do not fit: the gain must be 1x4, one value a channel, not 1x3",
                       ShapeError);
  CHECK_THROWS_WITH_AS(batch_norm(x, row, block, row, row, step), doctest::Contains("the bias must be 1x4"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(batch_norm(x, row, row, short_row, row, step),
                       doctest::Contains("the running mean must be 1x4, one value a channel, not 1x3"), ShapeError);
  CHECK_THROWS_WITH_AS(batch_norm(x, row, row, row, block, step),
                       doctest::Contains("the running variance must be 1x4, one value a channel, not 2x4"), ShapeError);
  CHECK_THROWS_WITH_AS(batch_norm(x, row, row, row, row, row), doctest::Contains("the step must be 1x1, not 1x4"),
                       ShapeError);
  // Images: 2 channels of 2x2 fill 8 columns, not 4.
  Node two = g.input("two", {1, 2});
  CHECK_THROWS_WITH_AS(batch_norm(x, two, two, two, two, step, {.image = ImageShape{2, 2, 2}}),
                       doctest::Contains("rows of 4 values are not images of 2x2x2 (8 values)"), ShapeError);
  CHECK_NOTHROW(batch_norm(x, two, two, two, two, step, {.image = ImageShape{2, 1, 2}}));
  CHECK_THROWS_WITH_AS(batch_norm(x, row, row, row, row, step, {.eps = 0}),
                       "batch_norm of 'x': eps must be a positive number, not 0", GraphError);
  CHECK_THROWS_WITH_AS(batch_norm(x, row, row, row, row, step, {.momentum = 1.5}),
                       "batch_norm of 'x': momentum must be in [0, 1], not 1.5", GraphError);
  CHECK_THROWS_WITH_AS(batch_norm(x, two, two, two, two, step, {.image = ImageShape{2, 0, 2}}),
                       doctest::Contains("must have positive sides"), GraphError);
  CHECK_THROWS_WITH_AS(batch_norm_running(x, short_row, step, BatchStatistic::variance),
                       doctest::Contains("the running variance must be 1x4"), ShapeError);
  CHECK_THROWS_WITH_AS(batch_norm_grad_input(x, row, row, row, step, g.input("dy", {2, 3})),
                       doctest::Contains("column counts differ (4 and 3)"), ShapeError);
  Node open = transpose(g.input("tall", {batch, 3}));  // 3 x ?: the channels unknown until run
  CHECK_THROWS_WITH_AS(batch_norm(open, row, row, row, row, step), doctest::Contains("the width of x must be known"),
                       ShapeError);
}

TEST_CASE("batch_norm refuses to train on one value a channel, naming the node") {
  Graph g;
  Node x = g.input("x", {batch, 2});
  Node step = g.input("step", {1, 1});
  Node y = batch_norm(x, g.constant(M::Ones(1, 2)), g.constant(M::Zero(1, 2)), g.constant(M::Zero(1, 2)),
                      g.constant(M::Ones(1, 2)), step);
  g.rename(y, "bn");
  Executor<double> ex(g);
  CHECK_THROWS_WITH_AS(ex.run({{x, M{{1, 2}}}, {step, scalar(0)}}, {y}),
                       doctest::Contains("training needs more than one value a channel, got 1"), ExecutionError);
  CHECK_THROWS_WITH_AS(ex.run({{x, M{{1, 2}}}, {step, scalar(0)}}, {y}), doctest::Contains("'bn'"), ExecutionError);
  const M inferred = ex.run({{x, M{{1, 2}}}, {step, scalar(-1)}}, {y})[0];  // (x - 0) / sqrt(1 + eps)
  CHECK(inferred(0, 1) == doctest::Approx(2 / std::sqrt(1 + 1e-5)));
}

TEST_CASE("batch_norm, its running update and its gradients give the same bits at 1 and 2 threads") {
  const Eigen::Index rows = 600, channels = 4, pixels = 36;
  const ImageShape image{channels, 6, 6};
  Graph g;
  Node x = g.parameter("x", {rows, channels * pixels});
  Node gain = g.parameter("gain", {1, channels});
  Node bias = g.parameter("bias", {1, channels});
  Node mean = g.parameter("mean", {1, channels});
  Node var = g.parameter("var", {1, channels});
  Node step = g.input("step", {1, 1});
  Node w = g.input("w", {rows, channels * pixels});
  const Node y = batch_norm(x, gain, bias, mean, var, step, {.image = image});
  const Node next = batch_norm_running(x, var, step, BatchStatistic::variance, {.image = image});
  const auto d = gradients(sum(mul(y, w)), {x, gain, bias});
  const M wv = uniform(rows, channels * pixels, 11, -1, 1);
  std::vector<std::vector<Matrix<float>>> runs;
  for (const int threads : {1, 2}) {
    Executor<float> ex(g, {.threads = threads});
    ex.set(x, uniform(rows, channels * pixels, 8, -5, 5).cast<float>());
    ex.set(gain, uniform(1, channels, 9, 0.5, 1.5).cast<float>());
    ex.set(bias, uniform(1, channels, 10, -1, 1).cast<float>());
    ex.set(mean, uniform(1, channels, 12, -1, 1).cast<float>());
    ex.set(var, uniform(1, channels, 13, 0.5, 1.5).cast<float>());
    runs.push_back(ex.run({{w, wv.cast<float>()}, {step, Matrix<float>::Constant(1, 1, 3)}}, {y, next, d[0], d[1], d[2]}));
  }
  for (std::size_t i = 0; i < runs[0].size(); ++i) {
    CAPTURE(i);
    CHECK(runs[0][i] == runs[1][i]);
  }
}
