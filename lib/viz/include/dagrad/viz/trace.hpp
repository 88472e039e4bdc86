// Prints what a run computed, one node a line, forward then backward, each
// with the expression that produced it:  grad(hidden/h) = grad(output/z) @ output/wᵀ = [...]
//   ex.compute(feeds, {loss, grads...});  trace(std::cout, ex, loss, grads);
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>
#include <dagrad/core/tensor.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace dagrad {

// Tensors with more entries than this are shown as a summary.
inline constexpr Dim max_listed_entries = 6;

// A value for people: "0.59327" for 1x1, "[0.15 0.25; 0.2 0.3]" (rows split by
// ';') up to max_listed_entries entries, else "784x50 min -0.08 mean 0.0001
// max 0.08". Numbers have 6 significant digits.
std::string format_value(const Matrix<double>& value);

// Prints, with the values of `values`' last runs:
//  - every forward node that loss depends on, each after its inputs:
//      hidden/z = hidden/xw + hidden/b = [0.3775 0.3925]
//  - then every backward node that some node of `grads` depends on, in the
//    order the backward pass built them (each after its inputs):
//      grad(hidden/h) = grad(output/z) @ output/wᵀ = [0.0123 0.0138]
//  - then each node of `grads` with what it is the gradient of, when
//    gradients(loss, ...) built it:  dL/d(hidden/b) = grad(hidden/z) = [...]
// Inputs, parameters and constants print as "x (input) = ...". A node
// without a value prints "(not computed)".
// One line of trace(): the node, its pass, and its text without the newline.
struct TraceLine {
  Node node;
  Role pass;  // forward or backward
  std::string text;
};
// The forward then the backward lines trace() prints, in its order, for a
// caller that shows them one at a time (the playground's step-by-step view).
std::vector<TraceLine> trace_lines(const Executor<double>& values, Node loss,
                                   const std::vector<Node>& grads);

void trace(std::ostream& out, const Executor<double>& values, Node loss,
           const std::vector<Node>& grads);

}  // namespace dagrad
