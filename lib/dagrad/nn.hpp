// dagrad::nn, the layer above the core for networks a user defines:
// initializers, layers, optimizers and a training loop for any graph.
//   nn::Init init(1);  Node logits = nn::dense(x, 10, init, "out");  init.apply(ex);
#pragma once

#include <dagrad/nn/init.hpp>
#include <dagrad/nn/layers.hpp>
