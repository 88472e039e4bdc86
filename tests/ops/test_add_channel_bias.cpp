// ops/add_channel_bias.cpp: values by hand, gradcheck in both inputs, threads, bad shapes.
#include "images.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <string>
#include <vector>

using namespace dagrad;
using images::M;

TEST_CASE("add_channel_bias adds each channel's bias to that channel's pixels in every row") {
  Graph g;
  Node x = g.input("x", {batch, 6});
  Node b = g.parameter("b", {1, 3});
  Node y = add_channel_bias(x, b);
  CHECK(y.shape() == Shape{batch, 6});
  Executor<double> ex(g);
  ex.set(b, M{{10, 20, 30}});
  images::check_close(ex.run({{x, M{{1, 2, 3, 4, 5, 6}, {0, 0, 0, 0, 0, 1}}}}, {y})[0],
                      M{{11, 12, 23, 24, 35, 36}, {10, 10, 20, 20, 30, 31}});
}

TEST_CASE("add_channel_bias passes gradcheck in its input and its bias") {
  Graph g;
  Node x = g.input("x", {batch, 12});
  Node b = g.parameter("b", {1, 3});
  Node loss = sum(mul(add_channel_bias(x, b), g.constant(images::wavy(3, 12, 0.5))));
  GradcheckResult r = gradcheck(g, loss, {{x, images::wavy(3, 12, 1.5)}, {b, images::wavy(1, 3, 2.5)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("add_channel_bias after conv2d is bit-identical at 1, 2 and 8 threads with its bias gradient") {
  Graph g;
  Node x = g.input("x", {batch, 784});
  Node w = g.parameter("w", {6, 25});
  Node b = g.parameter("b", {1, 6});
  Node y = add_channel_bias(conv2d(x, w, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2}), b);
  Node loss = sum(mul(y, g.constant(images::wavy(30, 6 * 784, 0.9))));
  const Node db = gradients(loss, {b})[0];
  const Matrix<float> X = images::wavy(30, 784, 0.2).cast<float>();
  images::check_same_at_thread_counts(g, {{x, X}}, {y, db}, [&](Executor<float>& ex) {
    ex.set(w, images::wavy(6, 25, 0.3).cast<float>());
    ex.set(b, images::wavy(1, 6, 0.6).cast<float>());
  });
}

TEST_CASE("add_channel_bias rejects a bias that is not one row or does not divide the row") {
  Graph g;
  Node x = g.input("x", {batch, 10});
  Node b3 = g.parameter("b3", {1, 3});
  Node b2 = g.parameter("b2", {2, 2});
  CHECK(images::shape_error([&] { add_channel_bias(x, b3); })
            .find("rows of 10 values do not split into 3 channels of equal size") != std::string::npos);
  CHECK(images::shape_error([&] { add_channel_bias(x, b2); }).find("the bias must be one row") !=
        std::string::npos);
}
