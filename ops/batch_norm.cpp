// batch_norm: y = xhat * gain + bias, xhat = (x - mean) / sqrt(var + eps) per
// channel, the batch's statistics while training (step >= 0), the running
// ones at inference. dx = batch_norm_grad_input, dgain = sum over each
// channel of dy * xhat, dbias = sum over each channel of dy. Fused for
// speed: one node forward instead of about ten, and the open batch needs no
// row count at build time. Differentiable once: training needs no more.
#include <dagrad/core/detail/batch_norm.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

// Inputs: x, gain, bias, running mean, running variance, step.
constexpr std::size_t mean_input = 3, var_input = 4, step_input = 5;

class BatchNorm final : public OpBase<BatchNorm> {
 public:
  explicit BatchNorm(BatchNormOptions options) : options_(options) {}
  std::string_view key() const override { return "batch_norm"; }

  Shape infer(std::span<const Shape> in) const override {
    const Dim channels = detail::check_channels(options_, in[0]);
    detail::check_channel_row(in[1], channels, "the gain");
    detail::check_channel_row(in[2], channels, "the bias");
    detail::check_channel_row(in[mean_input], channels, "the running mean");
    detail::check_channel_row(in[var_input], channels, "the running variance");
    detail::check_step(in[step_input]);
    return in[0];
  }

  // The statistics on one thread in a fixed order, then rows in parallel.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const T* gain = in[1]->data();
    const T* bias = in[2]->data();
    const detail::ChannelStats s = detail::channel_stats(x, *in[mean_input], *in[var_input], detail::training(*in[step_input]), options_, key());
    const detail::ChannelLayout l = detail::channel_layout(options_, x.cols());
    detail::parallel_rows(x.rows(), x.cols(), [&](Dim first, Dim count) {
      for (Dim r = first; r < first + count; ++r) {
        const T* xr = x.row(r).data();
        T* yr = out.row(r).data();
        for (Dim c = 0; c < l.channels; ++c) {
          const auto k = static_cast<std::size_t>(c);
          const T mean = T(s.mean[k]), rstd = T(s.rstd[k]);
          for (Dim p = c * l.pixels; p < (c + 1) * l.pixels; ++p) yr[p] = (xr[p] - mean) * rstd * gain[c] + bias[c];
        }
      }
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // The running statistics are state, not learned; the step is a counter.
    for (std::size_t i : {mean_input, var_input, step_input}) {
      if (ctx.needs(i)) no_gradient(ctx, i);
    }
    const Node x = ctx.input(0), mean = ctx.input(mean_input), var = ctx.input(var_input), step = ctx.input(step_input);
    const Dim channels = ctx.input(1).shape().cols;
    std::vector<Node> d(6);
    if (ctx.needs(0)) d[0] = batch_norm_grad_input(x, ctx.input(1), mean, var, step, ctx.grad(), options_);
    if (ctx.needs(1)) {
      Graph& g = x.graph();
      const Node xhat = batch_norm(x, g.constant(Matrix<double>::Ones(1, channels)),
                                   g.constant(Matrix<double>::Zero(1, channels)), mean, var, step, options_);
      d[1] = sum_channels(mul(ctx.grad(), xhat), channels);
    }
    if (ctx.needs(2)) d[2] = sum_channels(ctx.grad(), channels);
    return d;
  }

  std::vector<std::size_t> state_inputs() const override { return {mean_input, var_input}; }

  // Built in the forward node's scope: the layer's running update beside it.
  Node state_update(Node node, std::size_t input) const override {
    if (input != mean_input && input != var_input) return Op::state_update(node, input);
    const auto scope = node.graph().scope_path(node.graph().info(node.id()).scope);
    return batch_norm_running(node.input(0), node.input(input), node.input(step_input),
                              input == mean_input ? BatchStatistic::mean : BatchStatistic::variance, options_);
  }

  Attributes attributes() const override { return detail::batch_norm_attributes(options_); }
  std::string label() const override { return detail::batch_norm_label(key(), options_); }

 private:
  BatchNormOptions options_;
};

}  // namespace

Node batch_norm(Node x, Node gain, Node bias, Node running_mean, Node running_var, Node step,
                BatchNormOptions options) {
  detail::check_batch_norm_options(options, "batch_norm", x);
  for (const Node& n : {gain, bias, running_mean, running_var, step}) x.graph().check_owns(n, "batch_norm");
  return x.graph().apply(std::make_shared<BatchNorm>(options), {x, gain, bias, running_mean, running_var, step});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_batch_norm(OnnxWriter& w) {
  const BatchNormOptions o = detail::batch_norm_options_of(w.attributes());
  const Dim cols = w.shape().cols;
  const std::vector<std::int64_t> shape =
      o.image ? std::vector<std::int64_t>{-1, o.image->channels, o.image->height, o.image->width}
              : std::vector<std::int64_t>{-1, cols};
  std::vector<std::string> args{w.reshape(w.in()[0], "nchw", shape)};
  const char* what[] = {"scale", "bias", "mean", "var"};
  for (std::size_t i = 1; i < 5; ++i) args.push_back(w.reshape(w.in()[i], what[i - 1], {-1}));
  const std::string normalized = w.helper(w.out(), "normalized");
  w.node("BatchNormalization", args, normalized)
      .attr("epsilon", static_cast<float>(o.eps))
      .attr("momentum", static_cast<float>(1 - o.momentum));  // ONNX's weighs the running value
  w.node("Reshape", {normalized, w.ints(w.out(), "shape", {-1, cols})}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_batch_norm() {
  // Dense and image rows, training (step 2) and inference (step -1); the
  // running variance kept positive, the running statistics and the step not
  // differentiated (state and a counter).
  auto example = [](Shape x, Dim channels, std::optional<ImageShape> image, double step) {
    return OpExample{.inputs = {{x},
                                {{1, channels}, {.low = 0.5, .high = 1.5}},
                                {{1, channels}},
                                {{1, channels}, {}, false},
                                {{1, channels}, {.low = 0.5, .high = 1.5}, false},
                                {{1, 1}, {.low = step, .high = step}, false}},
                     .build = [image](const auto& in) {
                       return batch_norm(in[0], in[1], in[2], in[3], in[4], in[5], {.image = image});
                     }};
  };
  const ImageShape image{2, 2, 2};
  return {"batch_norm", Differentiable::once,
          {example({4, 3}, 3, std::nullopt, 2), example({4, 3}, 3, std::nullopt, -1), example({3, 8}, 2, image, 0),
           example({3, 8}, 2, image, -1)},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 6);
            return batch_norm(in[0], in[1], in[2], in[3], in[4], in[5], detail::batch_norm_options_of(a));
          },
          {.operators = "Reshape, BatchNormalization (inference: the running statistics), Reshape",
           .write = onnx_batch_norm,
           .inputs = 5}};
}

}  // namespace dagrad
