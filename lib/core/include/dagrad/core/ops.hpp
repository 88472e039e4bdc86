// The ops, as free functions that add a node to their inputs' graph.
//   Node y = sigmoid(add(matmul(x, w), b));  Node loss = mean(y);
// Each is defined, with its shape rule and gradient, in ops/<name>.cpp.
#pragma once

#include <dagrad/core/graph.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dagrad {

struct MatmulOptions {
  bool transpose_a = false;
  bool transpose_b = false;
};

// Linear algebra and reshaping.
Node matmul(Node a, Node b, MatmulOptions options = {});  // op(a) @ op(b)
Node transpose(Node x);

// Elementwise binary ops; a 1xN row, an Mx1 column or a 1x1 broadcasts.
Node add(Node a, Node b);
Node sub(Node a, Node b);
Node mul(Node a, Node b);
Node div(Node a, Node b);

// Elementwise with a constant.
Node scale(Node x, double factor);  // factor * x
Node shift(Node x, double offset);  // x + offset

// Elementwise unary ops.
Node identity(Node x);
Node sigmoid(Node x);
Node relu(Node x);
Node tanh(Node x);
Node exp(Node x);
Node log(Node x);
Node square(Node x);
Node abs(Node x);   // |x|
Node sign(Node x);  // -1, 0 or +1
Node leaky_relu(Node x, double slope = 0.01);  // x where x > 0, else slope * x
Node sqrt(Node x);   // x^(1/2), for x >= 0
Node rsqrt(Node x);  // x^(-1/2), for x > 0
// x^exponent for a finite constant exponent; a non-integer exponent needs
// x >= 0 (elsewhere NaN, as std::pow gives).
Node pow(Node x, double exponent);
// The Gaussian error linear unit x * Phi(x), Phi the standard normal CDF:
// exact (erf), or PyTorch's approximate='tanh' form
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
enum class GeluApproximation { none, tanh };
Node gelu(Node x, GeluApproximation approximate = GeluApproximation::none);

// Rows of a table picked by id: ids an n x 1 column of whole numbers in
// [0, rows of table), table V x D (V known when built); the output is n x D,
// row r being table row ids(r). An id that is not a whole number in range
// throws ExecutionError naming the node, the row and the value. The ids get
// no gradient.
Node embedding(Node ids, Node table);

// Reductions.
Node sum(Node x);          // 1x1
Node sum_squares(Node x);  // 1x1: sum(square(x)) as one node, for L2 penalties
Node mean(Node x);         // 1x1
Node sum_rows(Node x);  // 1xN: the sum over rows (column sums, for bias gradients)
Node sum_cols(Node x);  // Mx1: the sum over columns of each row

// Row-wise softmax.
Node softmax(Node x);
// Row-wise log(softmax(x)), computed stably as x - logsumexp(x).
Node log_softmax(Node x);
// Mean over rows of the cross-entropy between softmax(logits) and one-hot
// labels, computed stably from the logits: 1x1.
Node softmax_cross_entropy(Node logits, Node labels);
// Mean over the rows whose id is not ignore_index of -log softmax(logits)[row, id]:
// logits n x V, ids an n x 1 column of whole numbers in [0, V); 1x1; stable
// from the logits (PyTorch's F.cross_entropy(logits, targets,
// ignore_index=...), reduction mean). With every row ignored the mean is
// 0/0, NaN, as in PyTorch, and the gradient is zero. An id that is neither
// ignore_index nor a whole number in [0, V) throws ExecutionError naming the
// node, the row and the value. The ids get no gradient.
struct CrossEntropyOptions {
  std::optional<Dim> ignore_index;
};
Node cross_entropy(Node logits, Node ids, CrossEntropyOptions options = {});

// Each row of x (n x D) normalized to zero mean and unit variance (the biased
// variance, as PyTorch's nn.LayerNorm), then times gain and plus bias (1 x D
// each): y = (x - mean) / sqrt(var + eps) * gain + bias. One node; D must be
// known when built, eps positive.
struct LayerNormOptions {
  double eps = 1e-5;
};
Node layer_norm(Node x, Node gain, Node bias, LayerNormOptions options = {});

// Mean over all elements of (predictions - targets)^2: 1x1.
Node mse_loss(Node predictions, Node targets);
// Mean over all elements of the cross-entropy between sigmoid(logits) and
// labels in [0, 1], computed stably from the logits: 1x1.
Node binary_cross_entropy(Node logits, Node labels);

// Columns: the inputs side by side (one row count), and the columns
// [first, first + count) of x.
Node concat(const std::vector<Node>& xs);
Node slice(Node x, Dim first, Dim count);

// Rows, for sequences stored as rows (row sequence * steps + t):
// strided_rows(x, t, steps) is time step t of every sequence, the rows t,
// t + steps, t + 2 steps, ... (x's rows a whole number of runs of steps,
// 0 <= t < steps); interleave_rows(xs) puts n nodes of one shape back as
// sequences of n steps, its row i * n + k being row i of xs[k]. Each is the
// other's gradient.
Node strided_rows(Node x, Dim first, Dim stride);
Node interleave_rows(const std::vector<Node>& xs);

// The sum of several nodes of one shape, added left to right (the gradient
// of a node with several consumers).
Node add_n(const std::vector<Node>& xs);

// Dropout, switched by a 1x1 step fed each run: step >= 0 trains (each
// element zeroed with probability `rate`, the rest scaled by 1 / (1 - rate),
// the mask a function of seed, step and element index alone); step < 0 is
// inference (the identity).
struct DropoutOptions {
  double rate = 0.5;
  std::uint64_t seed = 0;
};
Node dropout(Node x, Node step, DropoutOptions options = {});

// Backward ops that gradient rules add.
Node sigmoid_grad(Node y, Node dy);  // dy * y * (1 - y), from sigmoid's output y
Node tanh_grad(Node y, Node dy);     // dy * (1 - y^2), from tanh's output y
Node relu_grad(Node x, Node dy);     // dy where x > 0, else 0
Node broadcast(Node x, Node like);   // x (1x1, 1xN or Mx1) repeated to like's shape
Node mean_grad(Node dy, Node like);  // dy / size(like), repeated to like's shape
Node zeros_like(Node like);
Node softmax_cross_entropy_grad(Node logits, Node labels, Node dy);  // dy * (softmax - labels) / rows
Node gelu_grad(Node x, Node dy, GeluApproximation approximate);  // dy * gelu'(x)
// rows x D: row v the sum of the rows r of dy whose ids(r) is v, added in
// row order (the same bits at any thread count); embedding's table gradient.
Node embedding_grad(Node ids, Node dy, Dim rows);
// dy * (softmax(logits) - onehot(id)) / count on the rows not ignored (count
// of them), zero on the ignored rows: cross_entropy's logits gradient.
Node cross_entropy_grad(Node logits, Node ids, Node dy, CrossEntropyOptions options = {});
// layer_norm's gradients. With xhat = (x - mean) / sqrt(var + eps) and
// g = dy * gain, each row of dx is (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps);
// dgain (1 x D) is the sum over rows of dy * xhat, added in row order.
Node layer_norm_grad_input(Node x, Node gain, Node dy, LayerNormOptions options = {});
Node layer_norm_grad_gain(Node x, Node dy, LayerNormOptions options = {});

// Sugar.
inline Node operator+(Node a, Node b) { return add(a, b); }
inline Node operator-(Node a, Node b) { return sub(a, b); }
inline Node operator*(Node a, Node b) { return mul(a, b); }
inline Node operator/(Node a, Node b) { return div(a, b); }
inline Node operator*(double c, Node x) { return scale(x, c); }
inline Node operator*(Node x, double c) { return scale(x, c); }
inline Node operator-(Node x) { return scale(x, -1.0); }


// Images as rows: each row holds channels x height x width values in that
// order (PyTorch's NCHW flatten(1)); conv and pool nodes carry the geometry.
//   Node h = conv2d(x, w, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2});
struct ImageShape {
  Dim channels = 1;
  Dim height = 1;
  Dim width = 1;
};

struct Conv2dOptions {
  ImageShape in;          // the geometry of each input row
  Dim out_channels = 1;
  Dim kernel = 1;         // the side of the square kernel
  Dim stride = 1;
  Dim padding = 0;        // zeros added on every side
};

struct Pool2dOptions {
  ImageShape in;
  Dim size = 2;    // the side of the square window
  Dim stride = 0;  // 0: the window's size (windows side by side)
};

// The geometry of the output rows (to chain layers); throws ShapeError for
// options conv2d or the pools would reject.
ImageShape conv2d_output(const Conv2dOptions& options);
ImageShape pool2d_output(const Pool2dOptions& options);

// Cross-correlation as in PyTorch: w is out_channels x (in_channels*k*k),
// PyTorch's [out, in, kh, kw] weights flattened; output rows out_channels x
// out_height x out_width. No bias: add_channel_bias adds one.
Node conv2d(Node x, Node w, Conv2dOptions options);
Node max_pool2d(Node x, Pool2dOptions options);  // the max of each window
Node avg_pool2d(Node x, Pool2dOptions options);  // the mean of each window
// bias (1 x channels) added to each channel's height*width block of x's rows.
Node add_channel_bias(Node x, Node bias);
// 1 x channels: each channel's sum over all rows and its block of each row.
Node sum_channels(Node x, Dim channels);

// Their backward ops.
Node conv2d_grad_input(Node dy, Node w, Conv2dOptions options);   // dL/dx of conv2d
Node conv2d_grad_filter(Node x, Node dy, Conv2dOptions options);  // dL/dw of conv2d
Node max_pool2d_grad(Node x, Node dy, Pool2dOptions options);  // dy to each window's first max in x
Node avg_pool2d_grad(Node dy, Pool2dOptions options);  // dy / size^2 spread over each window

// Batch normalization (PyTorch's nn.BatchNorm1d on n x C rows, nn.BatchNorm2d
// on image rows): y = (x - mean) / sqrt(var + eps) * gain + bias, each channel
// by its own mean and variance, gain and bias 1 x C. A channel is a column of
// x, or with `image` one channel's height x width block of every row. The 1x1
// step, fed each run as dropout's is, picks the statistics: step >= 0 trains
// with the batch's (over the rows, and the pixels; the biased variance, and
// more than one value a channel), step < 0 infers with the running mean and
// variance (1 x C each). Those are state the op keeps, not learned: they have
// no gradient, and optimizers give them batch_norm_running's values after
// each step (Op::state_inputs).
//   Node y = batch_norm(x, gain, bias, mean, var, step, {.image = ImageShape{6, 14, 14}});
struct BatchNormOptions {
  std::optional<ImageShape> image;  // unset: a channel is a column
  double eps = 1e-5;
  double momentum = 0.1;  // the running averages' weight of each new batch
};
Node batch_norm(Node x, Node gain, Node bias, Node running_mean, Node running_var, Node step,
                BatchNormOptions options = {});
// 1 x C: (1 - momentum) * running + momentum * the batch's mean (or unbiased
// variance) while training, running itself at inference: a running statistic
// after one more step, as PyTorch updates it.
enum class BatchStatistic { mean, variance };
Node batch_norm_running(Node x, Node running, Node step, BatchStatistic statistic, BatchNormOptions options = {});
// batch_norm's dL/dx. Training, per channel over its N values:
// gain * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)); at inference
// dy * gain * rstd, rstd = 1 / sqrt(var + eps) of the statistics used.
Node batch_norm_grad_input(Node x, Node gain, Node running_mean, Node running_var, Node step, Node dy,
                           BatchNormOptions options = {});

// Multi-head scaled dot-product self-attention over sequences stored as rows:
// qkv is (sequences x context) x 3C, each row one time step, its columns
// [Q | K | V] with head h using columns h*d .. (h+1)*d - 1 of each (d = C / heads),
// as PyTorch's qkv.split(C) then view(B, T, heads, d). Output (sequences x context) x C:
// per sequence and head softmax(Q Kᵀ / sqrt(d) + mask) V, the heads side by side.
// causal: position t attends to positions <= t (the mask is implied, never stored).
// One node whatever the number of heads and sequences; a row count that is
// not a whole number of sequences is a ShapeError naming the node, when
// built or, for an open batch, when run.
//   Node y = attention(matmul(x, w_qkv), {.heads = 4, .context = 64});
struct AttentionOptions { Dim heads = 1; Dim context = 1; bool causal = true; };
Node attention(Node qkv, AttentionOptions options);
// Its backward op: dL/d(qkv), rows x 3C, from qkv and dy = dL/d(output).
Node attention_grad(Node qkv, Node dy, AttentionOptions options);

// Attention for generation with a key/value cache: qkv's n rows are the
// positions p .. p+n-1 of one sequence ([Q | K | V] as for attention), past
// the keys and values of positions 0 .. p-1 (p x 2C, [K | V], the K and V
// columns of their qkv rows). Output n x C: new row i attends to the p
// cached positions and to new rows 0 .. i, as causal attention over the
// whole sequence would. Without past, p = 0: causal attention over the n
// rows as one sequence. Inference only: it has no gradient.
//   Node y = attention_cached(matmul(x_new, w_qkv), past, 4);  // x_new: the rows after the cached ones
Node attention_cached(Node qkv, Node past, Dim heads);
Node attention_cached(Node qkv, Dim heads);

}  // namespace dagrad
