// dagrad::nn, above the core: initializers, layers, optimizers, a training loop for any graph,
// sequence data and sampling from language models.
//   nn::Init init(1);  Node logits = nn::dense(x, 10, init, "out");  init.apply(ex);
//   nn::Adam opt(softmax_cross_entropy(logits, y));  double loss = opt.step(ex, {{x, X}, {y, Y}});
#pragma once

#include <dagrad/nn/init.hpp>
#include <dagrad/nn/layers.hpp>
#include <dagrad/nn/optim.hpp>
#include <dagrad/nn/sample.hpp>
#include <dagrad/nn/sequence.hpp>
#include <dagrad/nn/train.hpp>
