#include <dagrad/error.hpp>
#include <dagrad/nn/layers.hpp>
#include <dagrad/ops.hpp>

namespace dagrad::nn {

Node dense(Node x, Dim units, Init& init, const std::string& name, DenseOptions options) {
  if (!x.valid()) throw GraphError("nn::dense '" + name + "': x is an empty Node");
  const Shape in = x.shape();
  if (units < 1 || in.cols < 1) {
    throw ShapeError("nn::dense '" + name + "': input '" + x.name() + "' is " + to_string(in) +
                     " and units is " + std::to_string(units) +
                     "; both the input's columns and units must be positive");
  }
  Graph& g = x.graph();
  auto scope = g.scope(name);
  const std::string prefix = g.current_scope() + "/";
  Node w = init.parameter(g, "w", {in.cols, units}, options.weights);
  Node z = matmul(x, w);
  if (options.bias) {
    Node b = init.parameter(g, "b", {1, units}, options.bias_init);
    z = add(z, b);
  }
  g.rename(z, prefix + "z");
  if (options.activation == Activation::none) return z;
  Node a = options.activation == Activation::relu      ? relu(z)
           : options.activation == Activation::sigmoid ? sigmoid(z)
                                                       : tanh(z);
  g.rename(a, prefix + "activation");
  return a;
}

}  // namespace dagrad::nn
