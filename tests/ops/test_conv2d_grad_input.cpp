// ops/conv2d_grad_input.cpp: values against a direct loop, gradcheck on an oblong
// image, bad shapes.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <string>
#include <vector>

using namespace dagrad;
using images::M;

TEST_CASE("conv2d_grad_input spreads each output gradient over the pixels its window read") {
  for (const Conv2dOptions& o : images::conv_cases()) {
    CAPTURE(o.in.height);
    const ImageShape out = conv2d_output(o);
    const Dim in_size = o.in.channels * o.in.height * o.in.width, out_size = out.channels * out.height * out.width;
    const Dim patch = o.in.channels * o.kernel * o.kernel;
    Graph g;
    Node dy = g.input("dy", {batch, out_size});
    Node w = g.parameter("w", {o.out_channels, patch});
    Node dx = conv2d_grad_input(dy, w, o);
    CHECK(dx.shape() == Shape{batch, in_size});
    // 3 images: fewer than a group of lanes; 35: several groups and a shorter one.
    for (const Dim rows : {Dim{3}, Dim{35}}) {
      CAPTURE(rows);
      const M DY = images::wavy(rows, out_size, 0.4), W = images::wavy(o.out_channels, patch, 1.3);
      M want;
      images::conv_adjoints(M::Zero(rows, in_size), W, DY, o, &want, nullptr);
      Executor<double> ex(g);
      ex.set(w, W);
      images::check_close(ex.run({{dy, DY}}, {dx})[0], want);
      Executor<float> exf(g);
      exf.set(w, W.cast<float>());
      images::check_close(exf.run({{dy, Matrix<float>(DY.cast<float>())}}, {dx})[0].cast<double>(), want, 1e-5);
    }
  }
}

TEST_CASE("conv2d_grad_input gives an image the same bits wherever it sits in a batch") {
  // 35 images in lanes: two groups of 16 floats and a shorter one. (Alone,
  // an image takes the wide grid, which adds in another order: the values
  // test above checks both paths.)
  for (const Conv2dOptions& o : images::conv_cases()) {
    if (o.stride != 1) continue;
    CAPTURE(o.in.height);
    const ImageShape out = conv2d_output(o);
    images::check_rows_independent([&](Node dy, Node w) { return conv2d_grad_input(dy, w, o); },
                                   out.channels * out.height * out.width,
                                   {out.channels, o.in.channels * o.kernel * o.kernel}, 35);
  }
}

TEST_CASE("conv2d_grad_input passes gradcheck in both inputs on an oblong image (conv2d's second derivative)") {
  for (const Conv2dOptions& o : images::oblong_conv_cases()) {
    CAPTURE(o.stride);
    const ImageShape out = conv2d_output(o);
    images::check_both_gradients([&](Node dy, Node w) { return conv2d_grad_input(dy, w, o); },
                                 out.channels * out.height * out.width, {3, 18});
  }
}

TEST_CASE("conv2d_grad_input rejects an output gradient of the wrong width, naming the numbers") {
  Graph g;
  Node dy = g.input("dy", {batch, 100});
  Node w = g.parameter("w", {6, 25});
  op_checks::check_shape_error(
      [&] { conv2d_grad_input(dy, w, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2}); },
      {"conv2d_grad_input", "rows hold 100 values, not channels × height × width = 6×28×28 = 4704"});
}
