// The networks several benchmarks train, built into a graph: the
// 784-1024-1024-10 ReLU MLP (batch 200) and examples/lenet.cpp's LeNet
// (batch 64), each ending in softmax cross-entropy against one-hot rows y.
//   Graph g;  nn::Init init{1};  const bench::Network n = bench::mlp(g, init);
#pragma once

#include <dagrad/dagrad.hpp>

namespace bench {

struct Network {
  dagrad::Node x, y, loss;
  Eigen::Index rows = 0;  // the batch the benchmarks run
};

inline Network mlp(dagrad::Graph& g, dagrad::nn::Init& init) {
  using namespace dagrad;
  Network n{.x = g.input("x", {batch, 784}), .y = g.input("y", {batch, 10}), .loss = {}, .rows = 200};
  const nn::DenseOptions relu{.activation = nn::Activation::relu};
  Node h = nn::dense(n.x, 1024, init, "hidden1", relu);
  h = nn::dense(h, 1024, init, "hidden2", relu);
  n.loss = softmax_cross_entropy(nn::dense(h, 10, init, "out"), n.y);
  return n;
}

inline Network lenet(dagrad::Graph& g, dagrad::nn::Init& init) {
  using namespace dagrad;
  Network n{.x = g.input("x", {batch, 784}), .y = g.input("y", {batch, 10}), .loss = {}, .rows = 64};
  const nn::DenseOptions relu{.activation = nn::Activation::relu};
  Node h = nn::conv2d(n.x, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2}, init, "conv1", relu);
  h = nn::max_pool2d(h, {.in = {6, 28, 28}, .size = 2}, "pool1");
  h = nn::conv2d(h, {.in = {6, 14, 14}, .out_channels = 16, .kernel = 5}, init, "conv2", relu);
  h = nn::max_pool2d(h, {.in = {16, 10, 10}, .size = 2}, "pool2");
  h = nn::dense(h, 120, init, "fc1", relu);
  h = nn::dense(h, 84, init, "fc2", relu);
  n.loss = softmax_cross_entropy(nn::dense(h, 10, init, "out"), n.y);
  return n;
}

}  // namespace bench
