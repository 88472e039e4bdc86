// A text summary of any graph: its inputs, its parameters with their shapes
// and counts (what training learns), its constants and its ops by kind.
//   std::cout << graph_summary(g);   // "... total: 39760 parameters ..."
#pragma once

#include <dagrad/graph.hpp>

#include <string>

namespace dagrad {

// Inputs (name and shape, `?` for the open batch dimension), parameters (name,
// shape, count) with their total, constants, and the number of op nodes of each
// kind ("matmul 2"), forward and backward counted apart.
std::string graph_summary(const Graph& graph);

}  // namespace dagrad
