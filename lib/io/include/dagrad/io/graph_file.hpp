// Whole-graph files: every node of a graph (its op with the op's attributes,
// its name, scope, role and inputs, and which nodes are whose gradients) and
// the parameters' values, in the model file format (docs/model_format.md,
// kind 3), saved atomically. Loading rebuilds the graph through each op's
// registry entry, without the code that built it.
//   save_graph(ex, "net.dagradg");
//   LoadedGraph net = load_graph("net.dagradg");
//   Executor<float> ex(*net.graph);  net.set_parameters(ex);
//   ex.run({{*net.graph->find("x"), X}}, {*net.graph->find("probabilities")});
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dagrad {

// Writes ex's graph, every node of it, with the values ex holds for its
// parameters (as float64, so a float32 value reads back exactly). Throws
// Error naming the path and the parameter that has no value yet.
template <class T>
void save_graph(const Executor<T>& ex, const std::string& path);

struct LoadedGraph {
  std::unique_ptr<Graph> graph;
  // Each parameter node with the value saved for it.
  std::vector<std::pair<Node, Matrix<double>>> parameters;

  template <class T>
  void set_parameters(Executor<T>& ex) const {
    for (const auto& [node, value] : parameters) ex.set(node, value.template cast<T>());
  }
};

// Throws DataError naming the path and what is wrong: the model file
// format's checks (magic, version, checksums, truncation, sizes checked
// before anything is allocated), then, naming the node by number and name:
// an op this dagrad does not have, attributes its op refuses, inputs whose
// shapes its op refuses, a shape other than the file records, two nodes of
// one name, a gradient link on a forward node or to a node of another
// shape, a parameter or constant without its value (or a value of another
// shape or not finite), and a value for no such node; then, naming the
// record, a cached gradient that is not what gradients() would hand out
// (docs/model_format.md lists the rules).
LoadedGraph load_graph(const std::string& path);
// As load_graph, from bytes in memory; `name` stands for the path in messages.
LoadedGraph parse_graph(std::span<const std::uint8_t> bytes, const std::string& name);

extern template void save_graph<float>(const Executor<float>&, const std::string&);
extern template void save_graph<double>(const Executor<double>&, const std::string&);

}  // namespace dagrad
