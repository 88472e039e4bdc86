// Reverse-mode autodiff as a graph pass: gradients(y, xs) adds the backward
// nodes to y's graph and returns one node per x holding dy/dx.
//   std::vector<Node> g = gradients(loss, {w, b});
#pragma once

#include <dagrad/core/graph.hpp>

#include <vector>

namespace dagrad {

struct GradientOptions {
  // An x that does not reach y gets a zeros node instead of a GraphError.
  bool allow_unconnected = false;
};

// y must be 1x1. Only nodes on a path from some x to y get gradients; a node
// with several consumers gets an add_n node over its contributions, ordered
// by consumer (in topological order) and input position.
std::vector<Node> gradients(Node y, const std::vector<Node>& xs,
                            GradientOptions options = {});

}  // namespace dagrad
