// Layers: functions that add a layer's parameters and ops under one name
// scope (one DOT cluster per layer) and record its parameters in an Init.
//   Node h = nn::dense(x, 100, init, "hidden", {.activation = nn::Activation::relu});
//   Node logits = nn::dense(h, 10, init, "out");  // parameters out/w {100, 10}, out/b {1, 10}
#pragma once

#include <dagrad/graph.hpp>
#include <dagrad/nn/init.hpp>

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

// TODO: conv2d, max_pool2d and avg_pool2d helpers, as the issue 14 sketch
// has them (nn::conv2d(x, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5,
// .padding = 2}, init, "conv1")), over the conv and pool ops that reached
// main with wip-conv after this layer was written. Their weights use
// Initializer::fan_in = in_channels * kernel * kernel.
// TODO: a dropout helper over the dropout op, with Trainer feeding its step
// input (the step count while training, -1 when validating or evaluating).

}  // namespace dagrad::nn
