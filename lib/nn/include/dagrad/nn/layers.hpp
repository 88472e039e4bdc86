// Layers: functions that add a layer's parameters and ops under one name
// scope (one DOT cluster per layer) and record its parameters in an Init.
//   Node h = nn::dense(x, 100, init, "hidden", {.activation = nn::Activation::relu});
//   Node logits = nn::dense(h, 10, init, "out");  // parameters out/w {100, 10}, out/b {1, 10}
#pragma once

#include <dagrad/core/graph.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/nn/init.hpp>

#include <cstdint>
#include <string>

namespace dagrad::nn {

enum class Activation { none, relu, sigmoid, tanh };

struct DenseOptions {
  Activation activation = Activation::none;
  bool bias = true;
  Initializer weights = glorot_uniform();
  Initializer bias_init = zeros();
};

// activation(x @ w + b), with parameters name/w {x's columns, units} and
// name/b {1, units}; its nodes are named name/z (and name/activation).
// Throws ShapeError naming the layer if units < 1 or x's columns are open.
Node dense(Node x, Dim units, Init& init, const std::string& name, DenseOptions options = {});

// activation(conv2d(x, w) + b), with parameters name/w {out_channels,
// in_channels * kernel^2} (PyTorch's [out, in, kh, kw] flattened) and name/b
// {1, out_channels}; fan-in and fan-out for the initializer are the kernel
// area times the in and out channels. `geometry.in` must match x's columns.
//   Node h = nn::conv2d(x, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2}, init, "conv1");
Node conv2d(Node x, Conv2dOptions geometry, Init& init, const std::string& name, DenseOptions options = {});

// Pooling under a name scope of its own when `name` is given (the ops
// themselves have no parameters).
Node max_pool2d(Node x, Pool2dOptions geometry, const std::string& name = "");
Node avg_pool2d(Node x, Pool2dOptions geometry, const std::string& name = "");

// Dropout driven by the graph's training step: the 1x1 input named
// "training_step", made by the first dropout layer of a graph. A Trainer
// feeds it the optimizer's step count while training and -1 when it
// evaluates (dropout off); a program running the graph itself feeds it too.
Node dropout(Node x, double rate, const std::string& name, std::uint64_t seed = 0);
// Batch normalization driven by the same "training_step" input: batch
// statistics while training, the running ones when it is fed -1. Makes
// name/gain (ones) and name/bias (zeros), learned, and name/running_mean
// (zeros) and name/running_var (ones), 1 x channels each: state, which
// optimizers leave out of their parameters and instead update after each
// step ((1 - momentum) * running + momentum * the batch's, the variance
// unbiased), and which checkpoints and graph files keep. `options.image`
// set: a conv layer's rows (channels of height x width); else a channel a
// column. Throws ShapeError naming the layer for rows of another width.
//   Node h = nn::batch_norm(nn::conv2d(x, geometry, init, "conv1"), init, "bn1", {.image = ImageShape{6, 28, 28}});
Node batch_norm(Node x, Init& init, const std::string& name, BatchNormOptions options = {});
// The graph's "training_step" input, made if there is none yet.
Node training_step(Graph& g);

}  // namespace dagrad::nn
