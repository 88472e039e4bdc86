// ops/max_pool2d_grad.cpp: routing by hand, second-order gradcheck, the overlapping-window refusal, bad shapes.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace dagrad;
using images::M;

TEST_CASE("max_pool2d_grad puts each window's gradient on its maximum and zeros elsewhere") {
  op_checks::Applied<> dx([](Node x, Node dy) { return max_pool2d_grad(x, dy, {.in = {1, 4, 4}, .size = 2}); },
                          {{"x", {1, 16}}, {"dy", {1, 4}}});
  CHECK(dx.out.shape() == Shape{1, 16});
  const M X{{1, 5, -2, 0, 3, 2, -1, -3, 0, 0, 9, 8, -4, 1, 7, 9.5}};
  images::check_close(dx.run({X, M{{10, 20, 30, 40}}}), M{{0, 10, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 30, 0, 40}});
}

// The scan the op promises: each window's gradient on its first pixel
// (row-major) whose value beats every pixel before it; a NaN never beats.
template <class T>
Matrix<T> route_by_scan(const Matrix<T>& x, const Matrix<T>& dy, const ImageShape& in) {
  Matrix<T> dx = Matrix<T>::Zero(x.rows(), x.cols());
  const Dim oh_count = in.height / 2, ow_count = in.width / 2;
  for (Dim n = 0; n < x.rows(); ++n)
    for (Dim c = 0; c < in.channels; ++c)
      for (Dim oh = 0; oh < oh_count; ++oh)
        for (Dim ow = 0; ow < ow_count; ++ow) {
          Dim best = (c * in.height + 2 * oh) * in.width + 2 * ow;
          for (Dim i = 0; i < 2; ++i)
            for (Dim j = 0; j < 2; ++j) {
              const Dim at = (c * in.height + 2 * oh + i) * in.width + 2 * ow + j;
              if (x(n, at) > x(n, best)) best = at;
            }
          dx(n, best) += dy(n, (c * oh_count + oh) * ow_count + ow);
        }
  return dx;
}

TEST_CASE("max_pool2d_grad routes 2x2 windows as the scan does: ties, NaNs, rows of every length, many images") {
  // Rows of 28 (a step of 8 windows and one of 6), 10, 34 and 4 windows;
  // values on a coarse grid, so many windows tie; some NaNs.
  for (const ImageShape in : {ImageShape{6, 28, 28}, ImageShape{16, 10, 10}, ImageShape{2, 4, 68}, ImageShape{3, 6, 8}}) {
    CAPTURE(in.width);
    const Dim size = in.channels * in.height * in.width, out = size / 4;
    M X = (images::wavy(5, size, 0.1) * 2).array().round();
    for (Dim k = 0; k < X.size(); k += 37) X(k / size, k % size) = std::nan("");
    const M DY = images::wavy(5, out, 2.2);
    Graph g;
    Node x = g.input("x", {batch, size});
    Node dy = g.input("dy", {batch, out});
    Node dx = max_pool2d_grad(x, dy, {.in = in, .size = 2});
    Node y = max_pool2d(x, {.in = in, .size = 2});
    Executor<double> ex(g);
    const std::vector<M> got = ex.run({{x, X}, {dy, DY}}, {dx, y});
    CHECK((got[0].array() == route_by_scan<double>(X, DY, in).array()).all());
    Executor<float> exf(g);
    const Matrix<float> Xf = X.cast<float>(), DYf = DY.cast<float>();
    const std::vector<Matrix<float>> gotf = exf.run({{x, Xf}, {dy, DYf}}, {dx, y});
    CHECK((gotf[0].array() == route_by_scan<float>(Xf, DYf, in).array()).all());
    // The pooled value is the winner's (NaN where the first pixel is one).
    const M routed_ones = route_by_scan<double>(X, M::Ones(5, out), in);
    M picked = M::Zero(5, out);
    for (Dim n = 0; n < 5; ++n)
      for (Dim at = 0; at < size; ++at) {
        if (routed_ones(n, at) == 0) continue;
        const Dim c = at / (in.height * in.width), i = at / in.width % in.height, j = at % in.width;
        picked(n, (c * (in.height / 2) + i / 2) * (in.width / 2) + j / 2) = X(n, at);
      }
    CHECK((got[1].array() == picked.array() || (got[1].array().isNaN() && picked.array().isNaN())).all());
  }
}

TEST_CASE("max_pool2d_grad adds the gradients of overlapping windows that share a maximum") {
  // 3x3 image, 2x2 windows at stride 1: the centre, 9, is every window's maximum.
  op_checks::Applied<> dx(
      [](Node x, Node dy) { return max_pool2d_grad(x, dy, {.in = {1, 3, 3}, .size = 2, .stride = 1}); },
      {{"x", {1, 9}}, {"dy", {1, 4}}});
  images::check_close(dx.run({M{{1, 2, 3, 4, 9, 5, 6, 7, 8}}, M{{1, 2, 3, 4}}}), M{{0, 0, 0, 0, 10, 0, 0, 0, 0}});
}

TEST_CASE("max_pool2d_grad passes gradcheck in its output gradient; its gradient in x is zero") {
  const Pool2dOptions o{.in = {2, 4, 6}, .size = 2};
  Graph g;
  Node x = g.input("x", {batch, 48});
  Node dy = g.input("dy", {batch, 12});
  Node loss = sum(mul(max_pool2d_grad(x, dy, o), g.constant(images::wavy(2, 48, 0.8))));
  GradcheckResult r = gradcheck(g, loss, {{x, images::distinct(2, 48, 0.3)}, {dy, images::wavy(2, 12, 1.4)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("max_pool2d_grad has no gradient in dy for overlapping windows, and says so") {
  Graph g;
  Node x = g.input("x", {batch, 9});
  Node dy = g.input("dy", {batch, 4});
  Node loss = sum(max_pool2d_grad(x, dy, {.in = {1, 3, 3}, .size = 2, .stride = 1}));
  CHECK_THROWS_AS(gradients(loss, {dy}), GraphError);
  CHECK(gradients(loss, {x}).size() == 1);
}

TEST_CASE("max_pool2d_grad rejects an output gradient that is not the pooled shape") {
  Graph g;
  Node x = g.input("x", {batch, 16});
  Node dy = g.input("dy", {batch, 5});
  op_checks::check_shape_error([&] { max_pool2d_grad(x, dy, {.in = {1, 4, 4}, .size = 2}); },
                               {"rows hold 5 values, not channels × height × width = 1×2×2 = 4"});
}
