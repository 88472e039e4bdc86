#include <dagrad/core/error.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/nn/layers.hpp>

namespace dagrad::nn {

namespace {

Node activate(Node z, Activation activation, const std::string& prefix) {
  if (activation == Activation::none) return z;
  Node a = activation == Activation::relu      ? relu(z)
           : activation == Activation::sigmoid ? sigmoid(z)
                                               : tanh(z);
  z.graph().rename(a, prefix + "activation");
  return a;
}

}  // namespace

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
  return activate(z, options.activation, prefix);
}


Node conv2d(Node x, Conv2dOptions geometry, Init& init, const std::string& name, DenseOptions options) {
  if (!x.valid()) throw GraphError("nn::conv2d '" + name + "': x is an empty Node");
  // The geometry is checked before any parameter is made, so a refused
  // layer leaves nothing behind in the graph.
  const ImageShape& in = geometry.in;
  try {
    conv2d_output(geometry);
  } catch (const ShapeError& e) {
    throw ShapeError("nn::conv2d '" + name + "': " + e.what());
  }
  if (x.shape().cols != in.channels * in.height * in.width) {
    throw ShapeError("nn::conv2d '" + name + "': input '" + x.name() + "' has rows of " +
                     std::to_string(x.shape().cols) + " values, not channels x height x width = " +
                     std::to_string(in.channels) + "x" + std::to_string(in.height) + "x" + std::to_string(in.width) +
                     " = " + std::to_string(in.channels * in.height * in.width));
  }
  Graph& g = x.graph();
  auto scope = g.scope(name);
  const std::string prefix = g.current_scope() + "/";
  const Dim area = geometry.kernel * geometry.kernel;
  // PyTorch's fans for a convolution: channels times the kernel's area.
  Initializer weights = options.weights;
  if (!weights.fan_in) weights.fan_in = double(geometry.in.channels * area);
  if (!weights.fan_out) weights.fan_out = double(geometry.out_channels * area);
  Initializer bias_init = options.bias_init;
  if (!bias_init.fan_in) bias_init.fan_in = weights.fan_in;
  if (!bias_init.fan_out) bias_init.fan_out = weights.fan_out;
  // The op checks the geometry against x (naming the numbers); the layer's
  // scope in the message says which layer.
  Node w = init.parameter(g, "w", {geometry.out_channels, geometry.in.channels * area}, weights);
  Node z = dagrad::conv2d(x, w, geometry);
  if (options.bias) z = add_channel_bias(z, init.parameter(g, "b", {1, geometry.out_channels}, bias_init));
  g.rename(z, prefix + "z");
  return activate(z, options.activation, prefix);
}

Node max_pool2d(Node x, Pool2dOptions geometry, const std::string& name) {
  if (name.empty()) return dagrad::max_pool2d(x, geometry);
  auto scope = x.graph().scope(name);
  return dagrad::max_pool2d(x, geometry);
}

Node avg_pool2d(Node x, Pool2dOptions geometry, const std::string& name) {
  if (name.empty()) return dagrad::avg_pool2d(x, geometry);
  auto scope = x.graph().scope(name);
  return dagrad::avg_pool2d(x, geometry);
}

Node training_step(Graph& g) {
  if (auto existing = g.find("training_step")) {
    if (existing->kind() != NodeKind::input || !(existing->shape() == Shape{1, 1})) {
      throw GraphError("nn::training_step: the graph's node 'training_step' is not a 1x1 input");
    }
    return *existing;
  }
  auto top = g.scope_path("");
  return g.input("training_step", {1, 1});
}

Node dropout(Node x, double rate, const std::string& name, std::uint64_t seed) {
  if (!x.valid()) throw GraphError("nn::dropout '" + name + "': x is an empty Node");
  Graph& g = x.graph();
  Node step = training_step(g);
  auto scope = g.scope(name);
  return dagrad::dropout(x, step, {.rate = rate, .seed = seed});
}

Node batch_norm(Node x, Init& init, const std::string& name, BatchNormOptions options) {
  if (!x.valid()) throw GraphError("nn::batch_norm '" + name + "': x is an empty Node");
  const Dim channels = options.image ? options.image->channels : x.shape().cols;
  const Dim width = options.image ? options.image->channels * options.image->height * options.image->width : channels;
  // Checked before any parameter is made: a refused layer leaves nothing behind.
  if (channels < 1 || x.shape().cols != width) {
    throw ShapeError("nn::batch_norm '" + name + "': input '" + x.name() + "' is " + to_string(x.shape()) +
                     (options.image ? "; its rows must be images of " + std::to_string(width) + " values"
                                    : "; its width must be known and positive"));
  }
  Graph& g = x.graph();
  Node step = training_step(g);
  auto scope = g.scope(name);
  const Shape row{1, channels};
  Node gain = init.parameter(g, "gain", row, constant(1.0));
  Node bias = init.parameter(g, "bias", row, zeros());
  Node mean = init.parameter(g, "running_mean", row, zeros());
  Node var = init.parameter(g, "running_var", row, constant(1.0));
  return dagrad::batch_norm(x, gain, bias, mean, var, step, options);
}

}  // namespace dagrad::nn
