// A text summary of any graph: its inputs, its parameters with their shapes
// and counts (what training learns), its constants and its ops by kind.
//   std::cout << graph_summary(g);   // "... total: 39760 parameters ..."
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>

#include <string>
#include <vector>

namespace dagrad {

// Inputs (name and shape, `?` for the open batch dimension), parameters (name,
// shape, count) with their total, constants, and the number of op nodes of each
// kind ("matmul 2"), forward and backward counted apart.
std::string graph_summary(const Graph& graph);

// Where a run's time went, node by node (Executor::profile() after profiled
// runs): each op node's kernel seconds, share, time per run and runs, most
// first, then the kernels' total against `wall_seconds` and the instruction
// set the kernels use. `threads` as the executor was given them (0: one per core).
std::string profile_table(const std::vector<NodeTime>& profile, double wall_seconds, int threads);

// A training loop's progress bar for a terminal, redrawn in place:
// "epoch 3 [#########      ] 19200/60000" while the epoch runs, and the
// line cleared once it is done (so the epoch's own line takes its place).
// mnist_mlp, lenet and the autoencoder draw it after every batch when their
// output is a terminal.
std::string progress_bar(int epoch, std::size_t done, std::size_t total);
// The same bar after any label: "steps 250-500 [####      ] 312/500" for a
// loop counted in steps.
std::string progress_bar(const std::string& label, std::size_t done, std::size_t total);

}  // namespace dagrad
