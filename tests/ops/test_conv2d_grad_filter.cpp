// ops/conv2d_grad_filter.cpp: values against a direct loop over many blocks of images, gradcheck on an
// oblong image, bad shapes.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <string>
#include <vector>

using namespace dagrad;
using images::M;

TEST_CASE("conv2d_grad_filter sums output gradient times input over every image and position") {
  for (const Conv2dOptions& o : images::conv_cases()) {
    CAPTURE(o.in.height);
    const ImageShape out = conv2d_output(o);
    const Dim in_size = o.in.channels * o.in.height * o.in.width, out_size = out.channels * out.height * out.width;
    Graph g;
    Node x = g.input("x", {batch, in_size});
    Node dy = g.input("dy", {batch, out_size});
    Node dw = conv2d_grad_filter(x, dy, o);
    CHECK(dw.shape() == Shape{o.out_channels, o.in.channels * o.kernel * o.kernel});
    // 3 images: one block on the wide grid; 21: blocks of 8 (or groups of
    // lanes) and a shorter one, summed in order; 37 floats: two groups of
    // 16 lanes and a shorter one.
    for (const Dim rows : {Dim{3}, Dim{21}, Dim{37}}) {
      CAPTURE(rows);
      const M X = images::wavy(rows, in_size, 0.7), DY = images::wavy(rows, out_size, 1.9);
      M want;
      images::conv_adjoints(X, M::Zero(dw.shape().rows, dw.shape().cols), DY, o, nullptr, &want);
      Executor<double> ex(g);
      images::check_close(ex.run({{x, X}, {dy, DY}}, {dw})[0], want);
      Executor<float> exf(g);
      const Matrix<float> Xf = X.cast<float>(), DYf = DY.cast<float>();
      images::check_close(exf.run({{x, Xf}, {dy, DYf}}, {dw})[0].cast<double>(), want, 1e-5);
    }
  }
}

TEST_CASE("conv2d_grad_filter passes gradcheck in both inputs on an oblong image (conv2d's second derivative)") {
  for (const Conv2dOptions& o : images::oblong_conv_cases()) {
    CAPTURE(o.stride);
    const ImageShape out = conv2d_output(o);
    images::check_both_gradients([&](Node x, Node dy) { return conv2d_grad_filter(x, dy, o); }, 40,
                                 {batch, out.channels * out.height * out.width});
  }
}

TEST_CASE("conv2d_grad_filter rejects images and gradients of different counts") {
  Graph g;
  Node x = g.input("x", {4, 16});
  Node dy = g.input("dy", {5, 9});
  op_checks::check_shape_error([&] { conv2d_grad_filter(x, dy, {.in = {1, 4, 4}, .kernel = 2}); },
                               {"row counts (images) differ (4 and 5)"});
}
