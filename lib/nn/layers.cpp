#include <dagrad/core/error.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/nn/layers.hpp>

#include <cmath>
#include <optional>
#include <tuple>
#include <utility>

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

// A parameter given to a layer instead of one it would make: it must be a
// parameter node of x's graph with the shape the layer needs.
Node given(Node p, Node x, Shape shape, const std::string& layer, const char* what) {
  if (!p.valid() || p.kind() != NodeKind::parameter || &p.graph() != &x.graph()) {
    throw GraphError(layer + ": the given " + what + " is not a parameter of x's graph");
  }
  if (!(p.shape() == shape)) {
    throw ShapeError(layer + ": the given " + what + " '" + p.name() + "' is " + to_string(p.shape()) +
                     ", not " + to_string(shape));
  }
  return p;
}

}  // namespace

Node dense(Node x, Dim units, Init& init, const std::string& name, DenseOptions options) {
  if (!x.valid()) throw GraphError("nn::dense '" + name + "': x is an empty Node");
  const Shape in = x.shape();
  const std::string layer = "nn::dense '" + name + "'";
  if (units < 1 || in.cols < 1) {
    throw ShapeError(layer + ": input '" + x.name() + "' is " + to_string(in) + " and units is " +
                     std::to_string(units) + "; both the input's columns and units must be positive");
  }
  // Given parameters are checked before anything is made, so a refused
  // layer leaves nothing behind.
  const Shape w_shape = options.transpose_weight ? Shape{units, in.cols} : Shape{in.cols, units};
  if (options.weight) given(*options.weight, x, w_shape, layer, "weight");
  if (options.bias && options.bias_parameter) given(*options.bias_parameter, x, {1, units}, layer, "bias");
  if (options.transpose_weight && !options.weight) {
    throw GraphError(layer + ": transpose_weight applies to a given weight only");
  }
  Graph& g = x.graph();
  auto scope = g.scope(name);
  const std::string prefix = g.current_scope() + "/";
  Node w = options.weight ? *options.weight : init.parameter(g, "w", w_shape, options.weights);
  Node z = matmul(x, w, {.transpose_b = options.transpose_weight});
  if (options.bias) {
    Initializer bias_init = options.bias_init;
    if (!bias_init.fan_in) bias_init.fan_in = options.weights.fan_in.value_or(double(in.cols));
    if (!bias_init.fan_out) bias_init.fan_out = options.weights.fan_out.value_or(double(units));
    Node b = options.bias_parameter ? *options.bias_parameter : init.parameter(g, "b", {1, units}, bias_init);
    z = add(z, b);
  }
  g.rename(z, prefix + "z");
  return activate(z, options.activation, prefix);
}

Node embedding(Node ids, Dim vocabulary, Dim dim, Init& init, const std::string& name, EmbeddingOptions options) {
  const std::string layer = "nn::embedding '" + name + "'";
  if (!ids.valid()) throw GraphError(layer + ": ids is an empty Node");
  if (vocabulary < 1 || dim < 1) {
    throw ShapeError(layer + ": vocabulary " + std::to_string(vocabulary) + " and dim " + std::to_string(dim) +
                     " must both be positive");
  }
  if (options.table) given(*options.table, ids, {vocabulary, dim}, layer, "table");
  Graph& g = ids.graph();
  auto scope = g.scope(name);
  const std::string prefix = g.current_scope() + "/";
  Node table = options.table ? *options.table : init.parameter(g, "table", {vocabulary, dim}, options.table_init);
  Node out = dagrad::embedding(ids, table);  // checks ids' shape, naming both
  g.rename(out, prefix + "lookup");
  return out;
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

Node layer_norm(Node x, Init& init, const std::string& name, LayerNormOptions options) {
  const std::string layer = "nn::layer_norm '" + name + "'";
  if (!x.valid()) throw GraphError(layer + ": x is an empty Node");
  const Dim width = x.shape().cols;
  if (width < 1) throw ShapeError(layer + ": input '" + x.name() + "' is " + to_string(x.shape()) + "; its columns must be known");
  Graph& g = x.graph();
  auto scope = g.scope(name);
  const std::string prefix = g.current_scope() + "/";
  Node gain = init.parameter(g, "gain", {1, width}, constant(1.0));
  Node bias = init.parameter(g, "bias", {1, width}, zeros());
  Node y = dagrad::layer_norm(x, gain, bias, options);
  g.rename(y, prefix + "norm");
  return y;
}

namespace {

// How an attention layer's dense projections start.
struct AttentionInit {
  Initializer weights, bias, projection;
};

// The attention layer around `attend`, the op that mixes the rows' qkv.
template <class Attend>
Node attention_layer(Node x, Dim heads, Init& init, const std::string& name, const AttentionInit& start,
                     const Attend& attend) {
  const std::string layer = "nn::attention '" + name + "'";
  if (!x.valid()) throw GraphError(layer + ": x is an empty Node");
  const Dim width = x.shape().cols;
  if (heads < 1 || width < 1 || width % heads != 0) {
    throw ShapeError(layer + ": input '" + x.name() + "' is " + to_string(x.shape()) + " with " +
                     std::to_string(heads) + " heads; the heads must divide the width, and both be positive");
  }
  Graph& g = x.graph();
  auto scope = g.scope(name);
  const std::string prefix = g.current_scope() + "/";
  Node qkv = dense(x, 3 * width, init, "qkv", {.weights = start.weights, .bias_init = start.bias});
  Node mixed = attend(qkv);
  g.rename(mixed, prefix + "heads");
  return dense(mixed, width, init, "proj", {.weights = start.projection, .bias_init = start.bias});
}

// The pre-norm block around `attention`, which adds the attention layer
// over its input (the first layer norm's output).
template <class Attention>
Node block(Node x, TransformerOptions options, Init& init, const std::string& name, const Attention& attention) {
  const std::string layer = "nn::transformer_block '" + name + "'";
  if (!x.valid()) throw GraphError(layer + ": x is an empty Node");
  if (options.layers < 1) throw ShapeError(layer + ": layers " + std::to_string(options.layers) + " must be positive");
  const Dim width = x.shape().cols;
  if (options.heads < 1 || width < 1 || width % options.heads != 0) {
    throw ShapeError(layer + ": input '" + x.name() + "' is " + to_string(x.shape()) + "; " +
                     std::to_string(options.heads) + " heads do not divide its width " + std::to_string(width));
  }
  // GPT-2: the projections that add into the residual stream scaled by
  // 1 / sqrt(2 * layers), as each block adds two of them.
  const Initializer residual = options.residual.value_or(normal(0.02 / std::sqrt(2.0 * double(options.layers))));
  Graph& g = x.graph();
  auto scope = g.scope(name);
  const std::string prefix = g.current_scope() + "/";
  Node a = attention(layer_norm(x, init, "ln1", options.norm), {options.weights, options.bias, residual});
  Node h = add(x, a);
  g.rename(h, prefix + "residual1");
  Node m = layer_norm(h, init, "ln2", options.norm);
  {
    auto mlp = g.scope("mlp");
    m = dense(m, 4 * width, init, "fc", {.weights = options.weights, .bias_init = options.bias});
    m = gelu(m, options.gelu);
    m = dense(m, width, init, "proj", {.weights = residual, .bias_init = options.bias});
  }
  Node out = add(h, m);
  g.rename(out, prefix + "residual2");
  return out;
}

}  // namespace

Node attention(Node x, AttentionOptions geometry, Init& init, const std::string& name, Initializer projection,
               Initializer weights, Initializer bias) {
  if (geometry.context < 1) {
    throw ShapeError("nn::attention '" + name + "': context " + std::to_string(geometry.context) +
                     " must be positive");
  }
  return attention_layer(x, geometry.heads, init, name, {weights, bias, projection},
                         [&](Node qkv) { return dagrad::attention(qkv, geometry); });
}

Node transformer_block(Node x, TransformerOptions options, Init& init, const std::string& name) {
  return block(x, options, init, name, [&](Node normed, const AttentionInit& start) {
    return attention(normed, {.heads = options.heads, .context = options.context, .causal = true}, init, "attn",
                     start.projection, start.weights, start.bias);
  });
}

CachedBlock transformer_block_cached(Node x, Node past, TransformerOptions options, Init& init,
                                     const std::string& name) {
  if (past.valid()) x.graph().check_owns(past, "nn::transformer_block_cached '" + name + "'");
  Node qkv;
  Node out = block(x, options, init, name, [&](Node normed, const AttentionInit& start) {
    return attention_layer(normed, options.heads, init, "attn", start, [&](Node q) {
      qkv = q;
      return past.valid() ? attention_cached(q, past, options.heads) : attention_cached(q, options.heads);
    });
  });
  return {out, qkv};
}

namespace {

// One LSTM step from the gates' pre-activations z (B x 4H, columns i f g o)
// and the previous cell state (invalid at the first step, where it is 0).
// Returns {h, c}.
std::pair<Node, Node> lstm_step(Node z, std::optional<Node> c_prev, Dim hidden, Graph& g, const std::string& prefix) {
  const Node i = sigmoid(slice(z, 0, hidden));
  const Node cell = tanh(slice(z, 2 * hidden, hidden));
  const Node o = sigmoid(slice(z, 3 * hidden, hidden));
  Node c = mul(i, cell);
  if (c_prev) c = add(mul(sigmoid(slice(z, hidden, hidden)), *c_prev), c);
  g.rename(c, prefix + "c");
  const Node h = mul(o, tanh(c));
  g.rename(h, prefix + "h");
  return {h, c};
}

}  // namespace

Node lstm(Node x, LstmOptions options, Init& init, const std::string& name) {
  const std::string layer = "nn::lstm '" + name + "'";
  if (!x.valid()) throw GraphError(layer + ": x is an empty Node");
  const Shape in = x.shape();
  const Dim steps = options.steps, hidden = options.hidden;
  if (steps < 1 || hidden < 1 || in.cols < 1) {
    throw ShapeError(layer + ": input '" + x.name() + "' is " + to_string(in) + " with steps " +
                     std::to_string(steps) + " and hidden " + std::to_string(hidden) +
                     "; steps, hidden and the input's columns must be positive");
  }
  if (in.rows != batch && in.rows % steps != 0) {
    throw ShapeError(layer + ": input '" + x.name() + "' is " + to_string(in) + "; its " + std::to_string(in.rows) +
                     " rows are not whole sequences of " + std::to_string(steps) + " steps");
  }
  Graph& g = x.graph();
  auto scope = g.scope(name);
  const std::string prefix = g.current_scope() + "/";
  // PyTorch's nn.LSTM: every weight and bias from U(-1/sqrt(H), 1/sqrt(H)).
  const Initializer pytorch = uniform(1.0 / std::sqrt(double(hidden)));
  const Node w_ih = init.parameter(g, "w_ih", {in.cols, 4 * hidden}, pytorch);
  const std::optional<Node> w_hh =
      steps > 1 ? std::optional<Node>(init.parameter(g, "w_hh", {hidden, 4 * hidden}, pytorch)) : std::nullopt;
  const Node b_ih = init.parameter(g, "b_ih", {1, 4 * hidden}, pytorch);
  const Node b_hh = init.parameter(g, "b_hh", {1, 4 * hidden}, pytorch);
  // Every row's input projection at once; the steps take their rows of it.
  Node projected = add(add(matmul(x, w_ih), b_ih), b_hh);
  g.rename(projected, prefix + "x_proj");
  std::vector<Node> states;
  std::optional<Node> h, c;
  for (Dim t = 0; t < steps; ++t) {
    auto step = g.scope("t" + std::to_string(t));
    const std::string step_prefix = g.current_scope() + "/";
    Node z = strided_rows(projected, t, steps);
    if (h) z = add(z, matmul(*h, *w_hh));
    g.rename(z, step_prefix + "gates");
    std::tie(h, c) = lstm_step(z, c, hidden, g, step_prefix);
    states.push_back(*h);
  }
  Node out = interleave_rows(states);
  g.rename(out, prefix + "hidden");
  return out;
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

template <class T>
std::vector<Feed<T>> inference_feeds(Graph& g) {
  const auto step = g.find("training_step");
  if (!step) return {};
  if (step->kind() != NodeKind::input || !(step->shape() == Shape{1, 1})) {
    throw GraphError("nn::inference_feeds: the graph's node 'training_step' is not a 1x1 input");
  }
  std::vector<Feed<T>> feeds;
  feeds.emplace_back(*step, Matrix<T>::Constant(1, 1, T(-1)));
  return feeds;
}
template std::vector<Feed<float>> inference_feeds<float>(Graph&);
template std::vector<Feed<double>> inference_feeds<double>(Graph&);

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
