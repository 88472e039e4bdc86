// Layers: functions that add a layer's parameters and ops under one name
// scope (one DOT cluster per layer) and record its parameters in an Init.
//   Node h = nn::dense(x, 100, init, "hidden", {.activation = nn::Activation::relu});
//   Node logits = nn::dense(h, 10, init, "out");  // parameters out/w {100, 10}, out/b {1, 10}
#pragma once

#include <dagrad/core/graph.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/nn/init.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace dagrad::nn {

enum class Activation { none, relu, sigmoid, tanh };

struct DenseOptions {
  Activation activation = Activation::none;
  bool bias = true;
  Initializer weights = glorot_uniform();
  // Its fan_in and fan_out, unless given, are the weight's (torch_linear()
  // then draws the bias as PyTorch does).
  Initializer bias_init = zeros();
  // Existing parameters to use instead of making name/w and name/b (weight
  // sharing): a weight of shape {x's columns, units}, or {units, x's
  // columns} with transpose_weight (an embedding table tied to an output
  // layer, as GPT-2 ties its token embedding and its head). A parameter
  // given here is not recorded in the Init again.
  std::optional<Node> weight;
  bool transpose_weight = false;
  std::optional<Node> bias_parameter;
};

// activation(x @ w + b), with parameters name/w {x's columns, units} and
// name/b {1, units}; its nodes are named name/z (and name/activation).
// Throws ShapeError naming the layer if units < 1 or x's columns are open,
// or if a given weight or bias does not fit (both shapes).
Node dense(Node x, Dim units, Init& init, const std::string& name, DenseOptions options = {});

// activation(conv2d(x, w) + b), with parameters name/w {out_channels,
// in_channels * kernel^2} (PyTorch's [out, in, kh, kw] flattened) and name/b
// {1, out_channels}; fan-in and fan-out for the initializer are the kernel
// area times the in and out channels. `geometry.in` must match x's columns.
//   Node h = nn::conv2d(x, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2}, init, "conv1");
Node conv2d(Node x, Conv2dOptions geometry, Init& init, const std::string& name, DenseOptions options = {});

struct EmbeddingOptions {
  Initializer table_init = normal(0.02);  // GPT-2's
  std::optional<Node> table;  // an existing vocabulary x dim parameter to use (shared)
};

// Rows of a learned table picked by id: ids a column of whole numbers in
// [0, vocabulary); the output is ids' rows x dim. The table is name/table
// {vocabulary, dim}; the output node name/lookup.
Node embedding(Node ids, Dim vocabulary, Dim dim, Init& init, const std::string& name,
               EmbeddingOptions options = {});

// Each row normalized to mean 0 and variance 1, then scaled and shifted by
// learned name/gain {1, D} (ones) and name/bias {1, D} (zeros), as
// PyTorch's LayerNorm(D); the output node is name/norm.
Node layer_norm(Node x, Init& init, const std::string& name, LayerNormOptions options = {});

// Multi-head causal self-attention over rows laid out as sequences x
// context (row sequence * context + t): a dense projection to name/qkv
// (3 x width columns, Q | K | V, with bias), the attention op (one node for
// every head and sequence) and a dense projection back, name/proj (with
// bias). Weights start at `weights` (GPT-2's N(0, 0.02^2)), the output
// projection's at `projection` (GPT-2 scales it down with depth), biases at
// `bias` (zero). Throws ShapeError naming the layer, before making anything,
// when the heads do not divide x's columns.
Node attention(Node x, AttentionOptions geometry, Init& init, const std::string& name,
               Initializer projection = normal(0.02), Initializer weights = normal(0.02),
               Initializer bias = zeros());

struct TransformerOptions {
  Dim heads = 4;
  Dim context = 64;
  // The blocks of the whole model: the projections into the residual
  // stream start at N(0, (0.02 / sqrt(2 * layers))^2), as GPT-2's do.
  Dim layers = 1;
  GeluApproximation gelu = GeluApproximation::none;
  LayerNormOptions norm = {};
  // How the dense layers start: GPT-2's by default. PyTorch's own defaults
  // (nn.Linear's) are torch_linear() for all three.
  Initializer weights = normal(0.02), bias = zeros();
  std::optional<Initializer> residual;  // the two projections; unset: GPT-2's scaled normal above
};

// A pre-norm transformer block (GPT-2's): x + attention(ln1(x)), then
// h + mlp(ln2(h)) with mlp = dense to 4 x width, GELU, dense back. Every
// node and parameter under the scope `name` (name/ln1, name/attn/qkv, ...),
// so a drawing collapsed by layer shows one box a block.
Node transformer_block(Node x, TransformerOptions options, Init& init, const std::string& name);

// The block of a generator with a key/value cache (nn::sample's cached
// generator): x's n rows are the positions p .. p+n-1 of one sequence, and
// `past` an input holding the keys and values of positions 0 .. p-1 (p x 2
// width, [K | V] as the block's name/attn/qkv computes them), or an empty
// Node when the rows start at position 0. The attention is
// attention_cached; the rest, and every name, as transformer_block's, so
// that built with an Init::reuse() it runs over a trained block's
// parameters (options.context is not used). Returns the block's output and
// its rows' Q | K | V (n x 3 width), whose K | V columns the cache keeps.
//   nn::CachedBlock b = nn::transformer_block_cached(x, past, {.heads = 4}, shared, "block1");
struct CachedBlock {
  Node out;
  Node qkv;
};
CachedBlock transformer_block_cached(Node x, Node past, TransformerOptions options, Init& init,
                                     const std::string& name);

struct LstmOptions {
  Dim steps = 0;   // T: x's rows are sequences of T steps (row sequence * T + t)
  Dim hidden = 0;  // H: the width of the hidden and cell states
};

// A long short-term memory layer unrolled over `steps` time steps, as
// PyTorch's nn.LSTM (one layer, batch_first) computes it: x is
// (sequences x T) x D, row sequence * T + t; h_0 = c_0 = 0, and at each step
//   [i f g o] = x_t W_ih + b_ih + b_hh + h_(t-1) W_hh   (four gates of H columns)
//   c_t = sigmoid(f) * c_(t-1) + sigmoid(i) * tanh(g),  h_t = sigmoid(o) * tanh(c_t).
// Returns every h_t, (sequences x T) x H in x's row order, for a head on
// every step. Parameters name/w_ih {D, 4H}, name/w_hh {H, 4H} (none when T
// is 1: h_0 is 0), name/b_ih and name/b_hh {1, 4H}: PyTorch's weight_ih_l0,
// weight_hh_l0 transposed and its biases, each drawn from U(-1/sqrt(H),
// 1/sqrt(H)) as PyTorch draws them. The input projection is one matmul for
// every row; the recurrence adds 16 nodes a step (10 for the first), each
// step's under the scope name/tK, so a drawing shows the graph unrolled. Its
// gradient flows back through every step (backpropagation through time):
// about twice as many nodes again, and each step's x_t rows give x W_ih a
// gradient of x's full size, summed over the T steps. Throws ShapeError
// naming the layer, before making anything, for steps or hidden below 1 or
// x's columns open, and when x's known rows are not whole sequences.
//   Node h = nn::lstm(nn::embedding(ids, 65, 32, init, "embed"), {.steps = 64, .hidden = 128}, init, "lstm1");
Node lstm(Node x, LstmOptions options, Init& init, const std::string& name);

// Pooling under a name scope of its own when `name` is given (the ops
// themselves have no parameters).
Node max_pool2d(Node x, Pool2dOptions geometry, const std::string& name = "");
Node avg_pool2d(Node x, Pool2dOptions geometry, const std::string& name = "");

// Dropout driven by the graph's training step: the 1x1 input named
// "training_step", made by the first dropout layer of a graph. A Trainer
// feeds it the optimizer's step count while training and -1 when it
// evaluates (dropout off); a program running the graph itself feeds it too.
Node dropout(Node x, double rate, const std::string& name, std::uint64_t seed = 0);
// Batch normalization driven by the same "training_step" input: batch
// statistics while training, the running ones when it is fed -1. Makes
// name/gain (ones) and name/bias (zeros), learned, and name/running_mean
// (zeros) and name/running_var (ones), 1 x channels each: state, which
// optimizers leave out of their parameters and instead update after each
// step ((1 - momentum) * running + momentum * the batch's, the variance
// unbiased), and which checkpoints and graph files keep. `options.image`
// set: a conv layer's rows (channels of height x width); else a channel a
// column. Throws ShapeError naming the layer for rows of another width.
//   Node h = nn::batch_norm(nn::conv2d(x, geometry, init, "conv1"), init, "bn1", {.image = ImageShape{6, 28, 28}});
Node batch_norm(Node x, Init& init, const std::string& name, BatchNormOptions options = {});
// The graph's "training_step" input, made if there is none yet.
Node training_step(Graph& g);
// The feeds that run a graph for inference, to add to a program's own: the
// training step fed -1 (dropout off, batch norm on its running statistics),
// or none for a graph without dropout or batch norm.
//   auto feeds = nn::inference_feeds<float>(g);  feeds.push_back({x, X});  ex.run(feeds, {logits});
template <class T>
std::vector<Feed<T>> inference_feeds(Graph& g);
extern template std::vector<Feed<float>> inference_feeds<float>(Graph&);
extern template std::vector<Feed<double>> inference_feeds<double>(Graph&);

}  // namespace dagrad::nn
