// ONNX export: the forward part of a graph that some outputs need, as an
// ONNX model (IR version 8, opset 13, float32) that onnxruntime runs and
// Netron draws. Parameters and constants become initializers; inputs keep
// their names, with an open batch dimension named "batch"; dagrad's rows of
// images become NCHW tensors around Conv and the pools. docs/onnx.md has the
// operator table.
//   export_onnx(ex, {probabilities}, "mlp.onnx");
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>

#include <string>
#include <utility>
#include <vector>

namespace dagrad {

// The values an export writes for the graph's parameters.
using ParameterValues = std::vector<std::pair<Node, Matrix<double>>>;

struct OnnxOptions {
  std::string graph_name = "dagrad";
  std::string doc;  // the model's doc_string: what it is, how it was trained
};

// Writes the model to `path` atomically. Throws Error naming the node when
// an output or a node it needs cannot be exported: a backward node, an op
// with no ONNX mapping (a gradient op, say), an output that is not an op
// node, or a parameter with no value.
void export_onnx(const Graph& graph, const std::vector<Node>& outputs, const ParameterValues& parameters,
                 const std::string& path, const OnnxOptions& options = {});
// The same, with the values an executor holds for the parameters.
template <class T>
void export_onnx(const Executor<T>& ex, const std::vector<Node>& outputs, const std::string& path,
                 const OnnxOptions& options = {});

// Exports the nodes of an op of the program's own (register_op) as a chain
// of ONNX operators (opset 13) without attributes: the first takes the
// node's inputs, each next the one before's output. Throws Error for an
// empty chain, a key dagrad's own table maps, or one given a chain already.
//   register_onnx_chain("user_rsqrt", {"Sqrt", "Reciprocal"});
void register_onnx_chain(std::string key, std::vector<std::string> operators);

// The ONNX operators each exportable dagrad op becomes, by op key, in key
// order: ("conv2d", "Reshape, Conv, Reshape"). Ops missing here are refused.
const std::vector<std::pair<std::string, std::string>>& onnx_operator_table();

extern template void export_onnx<float>(const Executor<float>&, const std::vector<Node>&, const std::string&,
                                        const OnnxOptions&);
extern template void export_onnx<double>(const Executor<double>&, const std::vector<Node>&, const std::string&,
                                         const OnnxOptions&);

}  // namespace dagrad
