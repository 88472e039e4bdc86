// ops/conv2d.cpp: a product by hand, values against a direct loop, gradcheck
// on an oblong image, thread counts with a short last block, bad shapes.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <limits>
#include <string>
#include <vector>

using namespace dagrad;
using images::M;

TEST_CASE("conv2d of a 3x3 image with a 2x2 kernel gives the four sums worked out by hand") {
  op_checks::Applied<> y([](Node x, Node w) { return conv2d(x, w, {.in = {1, 3, 3}, .kernel = 2}); },
                         {{"x", {1, 9}}, {"w", {1, 4}}});
  CHECK(y.out.shape() == Shape{1, 4});
  // Image 1..9 row by row; y(0, 0) = 1·1 + 2·2 + 3·4 + 4·5 = 37, each step right adds 10, down 30.
  images::check_close(y.run({M{{1, 2, 3, 4, 5, 6, 7, 8, 9}}, M{{1, 2, 3, 4}}}), M{{37, 47, 67, 77}});
}

TEST_CASE("conv2d pads with zeros: a 2x2 kernel over a 2x2 image padded by 1 gives 3x3") {
  op_checks::Applied<> y([](Node x, Node w) { return conv2d(x, w, {.in = {1, 2, 2}, .kernel = 2, .padding = 1}); },
                         {{"x", {1, 4}}, {"w", {1, 4}}});
  CHECK(y.out.shape() == Shape{1, 9});
  // Image [[1, 2], [3, 4]]: the corner window sees only pixel 1 under w's last element.
  images::check_close(y.run({M{{1, 2, 3, 4}}, M{{1, 10, 100, 1000}}}),
                      M{{1000, 2100, 200, 3010, 4321, 402, 30, 43, 4}});
}

TEST_CASE("conv2d matches a direct loop for several geometries, in double and float") {
  for (const Conv2dOptions& o : images::conv_cases()) {
    CAPTURE(o.in.channels);
    CAPTURE(o.in.height);
    CAPTURE(o.kernel);
    const Dim in_size = o.in.channels * o.in.height * o.in.width;
    const Dim patch = o.in.channels * o.kernel * o.kernel;
    Graph g;
    Node x = g.input("x", {batch, in_size});
    Node w = g.parameter("w", {o.out_channels, patch});
    Node y = conv2d(x, w, o);
    // 3 images: fewer than a group of lanes; 35: two groups of 16 floats
    // (more of 8 doubles) and a shorter one.
    for (const Dim rows : {Dim{3}, Dim{35}}) {
      CAPTURE(rows);
      const M X = images::wavy(rows, in_size, 0.3), W = images::wavy(o.out_channels, patch, 1.7);
      const M want = images::conv(X, W, o);
      CHECK(y.shape() == Shape{batch, want.cols()});
      Executor<double> ex(g);
      ex.set(w, W);
      images::check_close(ex.run({{x, X}}, {y})[0], want);
      Executor<float> exf(g);
      exf.set(w, W.cast<float>());
      const Matrix<float> Xf = X.cast<float>();
      images::check_close(exf.run({{x, Xf}}, {y})[0].cast<double>(), want, 1e-5);
    }
  }
}

TEST_CASE("conv2d gives an image the same bits in a batch (images in lanes) as alone (the wide grid)") {
  // LeNet's layers on 35 images: two whole groups of lanes and a shorter one.
  for (const Conv2dOptions& o : images::conv_cases()) {
    if (o.stride != 1) continue;
    CAPTURE(o.in.height);
    const ImageShape out = conv2d_output(o);
    images::check_batch_same_as_alone([&](Node x, Node w) { return conv2d(x, w, o); },
                                      o.in.channels * o.in.height * o.in.width,
                                      {out.channels, o.in.channels * o.kernel * o.kernel}, 35);
  }
}

TEST_CASE("conv2d passes gradcheck in its images and its weights on an oblong image, at stride 2 and at stride 1") {
  for (const Conv2dOptions& o : images::oblong_conv_cases()) {
    CAPTURE(o.stride);
    images::check_both_gradients([&](Node x, Node w) { return conv2d(x, w, o); }, 40, {3, 18});
  }
}

TEST_CASE("conv2d's values and gradients are bit-identical at 1, 2 and 8 threads") {
  // LeNet's two layers on 37 images: blocks of 8 images and a shorter last block.
  Graph g;
  Node x = g.input("x", {batch, 784});
  Node w1 = g.parameter("w1", {6, 25});
  Node w2 = g.parameter("w2", {16, 150});
  Node h = conv2d(x, w1, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2});
  h = max_pool2d(relu(h), {.in = {6, 28, 28}, .size = 2});
  Node y = conv2d(h, w2, {.in = {6, 14, 14}, .out_channels = 16, .kernel = 5});
  Node loss = sum(mul(y, g.constant(images::wavy(37, 1600, 0.8))));
  const std::vector<Node> grads = gradients(loss, {x, w1, w2});
  const Matrix<float> X = images::wavy(37, 784, 0.2).cast<float>();
  images::check_same_at_thread_counts(g, {{x, X}}, {y, grads[0], grads[1], grads[2]}, [&](Executor<float>& ex) {
    ex.set(w1, images::wavy(6, 25, 1.1).cast<float>());
    ex.set(w2, images::wavy(16, 150, 2.3).cast<float>());
  });
}

TEST_CASE("conv2d rejects rows that are not channels x height x width, naming the numbers") {
  Graph g;
  Node x = g.input("x", {batch, 700});
  Node w = g.parameter("w", {6, 25});
  op_checks::check_shape_error(
      [&] { conv2d(x, w, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2}); },
      {"conv2d", "'x' (?x700)", "rows hold 700 values, not channels × height × width = 1×28×28 = 784"});
}

TEST_CASE("conv2d rejects a kernel larger than the padded image") {
  Graph g;
  Node x = g.input("x", {batch, 16});
  Node w = g.parameter("w", {2, 49});
  op_checks::check_shape_error([&] { conv2d(x, w, {.in = {1, 4, 4}, .out_channels = 2, .kernel = 7, .padding = 1}); },
                               {"the 7×7 kernel is larger than the 6×6 padded image (4×4 with padding 1)"});
  // With one more pixel of padding it fits.
  CHECK(conv2d(x, w, {.in = {1, 4, 4}, .out_channels = 2, .kernel = 7, .padding = 2}).shape() == Shape{batch, 8});
}

TEST_CASE("conv2d rejects weights whose shape does not match the geometry") {
  Graph g;
  Node x = g.input("x", {batch, 3 * 8 * 8});
  Node w = g.parameter("w", {4, 25});
  op_checks::check_shape_error([&] { conv2d(x, w, {.in = {3, 8, 8}, .out_channels = 4, .kernel = 5}); },
                               {"'w' (4x25)", "not out_channels × (in_channels × kernel × kernel) = 4×(3×5×5) = 4×75"});
  Node w6 = g.parameter("w6", {6, 75});
  CHECK_THROWS_AS(conv2d(x, w6, {.in = {3, 8, 8}, .out_channels = 4, .kernel = 5}), ShapeError);
}

TEST_CASE("conv2d rejects a zero stride or a negative padding") {
  Graph g;
  Node x = g.input("x", {batch, 16});
  Node w = g.parameter("w", {1, 4});
  op_checks::check_shape_error([&] { conv2d(x, w, {.in = {1, 4, 4}, .kernel = 2, .stride = 0}); }, {"stride 0"});
  CHECK_THROWS_AS(conv2d(x, w, {.in = {1, 4, 4}, .kernel = 2, .padding = -1}), ShapeError);
  CHECK_THROWS_AS(conv2d_output({.in = {1, 4, 4}, .kernel = 5}), ShapeError);
}

TEST_CASE("conv2d rejects sizes too large for memory before multiplying them (as a graph file may hold)") {
  Graph g;
  Node x = g.input("x", {batch, 16});
  Node w = g.parameter("w", {1, 4});
  const Dim huge = Dim{1} << 40;
  op_checks::check_shape_error([&] { conv2d(x, w, {.in = {1, 4, 4}, .out_channels = huge, .kernel = 2}); },
                               {"the geometry is too large", "out_channels 1099511627776"});
  // Products that would overflow 64 bits: each factor alone is allowed.
  CHECK_THROWS_AS(conv2d(x, w, {.in = {1 << 22, 1 << 22, 1 << 22}, .kernel = 2}), ShapeError);
  CHECK_THROWS_AS(conv2d(x, w, {.in = {1, 4, 4}, .kernel = 2, .padding = Dim{1} << 62}), ShapeError);
  CHECK_THROWS_AS(conv2d(x, w, {.in = {1, 4, 4}, .kernel = 2, .stride = 1, .padding = 1 << 21}), ShapeError);
  // A height or width near 2^63 with a padding that alone is allowed: the
  // padded size is never formed (it would overflow; found by fuzz_graph_records).
  const Dim most = std::numeric_limits<Dim>::max();
  CHECK_THROWS_AS(conv2d(x, w, {.in = {1, most, 4}, .kernel = 2, .padding = 4294967294}), ShapeError);
  CHECK_THROWS_AS(conv2d(x, w, {.in = {1, 4, most}, .kernel = 2, .padding = 4294967294}), ShapeError);
  CHECK_THROWS_AS(max_pool2d(x, {.in = {1 << 22, 1 << 22, 1 << 22}, .size = 2}), ShapeError);
  CHECK_THROWS_AS(avg_pool2d(x, {.in = {1, Dim{1} << 62, 4}, .size = 2}), ShapeError);
}

TEST_CASE("conv2d's label shows its geometry, and conv2d_output the shape of its rows") {
  Graph g;
  Node x = g.input("x", {batch, 784});
  Node w = g.parameter("w", {6, 25});
  const Conv2dOptions o{.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .stride = 1, .padding = 2};
  CHECK(conv2d(x, w, o).op()->label() == "conv2d 1×28×28 → 6×28×28, 5×5 kernel, stride 1, padding 2");
  const ImageShape out = conv2d_output({.in = {6, 14, 14}, .out_channels = 16, .kernel = 5});
  CHECK(out.channels == 16);
  CHECK(out.height == 10);
  CHECK(out.width == 10);
  const ImageShape strided = conv2d_output({.in = {2, 7, 6}, .out_channels = 3, .kernel = 3, .stride = 2, .padding = 1});
  CHECK(strided.height == 4);
  CHECK(strided.width == 3);
}
