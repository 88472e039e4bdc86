// Writes a graph as Graphviz DOT: one cluster per name scope, a style per node
// kind and role, tensor shapes on the edges and, given an executor after a run,
// each node's value and gradient ("data | grad", as micrograd draws them).
//   write_dot(g, "model.dot", {.values = &ex, .title = "xor"});
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>
#include <dagrad/io/atomic_file.hpp>  // write_dot writes with it; callers of to_dot too

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dagrad {

// Where the values a drawing shows come from: nothing, or an executor of
// either precision after a run. `DotOptions{.values = &ex}` picks the type.
using DotValues =
    std::variant<std::monostate, const Executor<double>*, const Executor<float>*>;

struct DotOptions {
  // Include the nodes gradients() added (Role::backward) and their edges.
  bool backward = true;
  // Shows each computed node's value, and its gradient's value when some node
  // is its gradient (NodeInfo::grad_of), even when backward nodes are left out.
  DotValues values{};
  // Drawn above the legend.
  std::string title{};
  // Name scopes drawn as one box each (a layer: its ops listed, its
  // parameter count, its output shape); their backward nodes as a second,
  // red box. "conv1" also takes "conv1/inner". collapse_layers collapses
  // every top-level scope, so a CNN's graph fits a page.
  std::vector<std::string> collapse{};
  bool collapse_layers = false;
  // Executor::profile() after profiled runs: each op node (and layer) shows
  // its share of the kernel time, and its border thickens with it.
  std::vector<NodeTime> profile{};
  // Executor::memory_plan() after a run: each op node shows where its value
  // lay (its bytes, its offset in the shared block, or its own storage, and
  // the input it was written over in place), filled with one colour per
  // offset, so values that took the same bytes share a colour.
  MemoryReport memory{};
};

std::string to_dot(const Graph& graph, const DotOptions& options = {});

// Writes to_dot() to path, atomically. Throws Error naming the path.
void write_dot(const Graph& graph, const std::string& path, const DotOptions& options = {});

}  // namespace dagrad
