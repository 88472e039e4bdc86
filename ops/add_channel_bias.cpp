// add_channel_bias: y[n, c·P + p] = x[n, c·P + p] + b[c] (P = pixels per channel).
// dy/dx = 1;  dL/db[c] = Σ_n Σ_p G[n, c·P + p] (sum_channels).
#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class AddChannelBias final : public OpBase<AddChannelBias> {
 public:
  std::string_view key() const override { return "add_channel_bias"; }

  Shape infer(std::span<const Shape> in) const override {
    const Shape x = in[0], b = in[1];
    if (b.rows != 1) {
      throw ShapeError("the bias must be one row (1 × channels), not " + std::to_string(b.rows) +
                       " rows");
    }
    if (x.cols != batch && b.cols != batch && x.cols % b.cols != 0) {
      throw ShapeError("rows of " + std::to_string(x.cols) + " values do not split into " +
                       std::to_string(b.cols) + " channels of equal size");
    }
    return x;
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const ConstView<T>& b = *in[1];
    const Dim channels = b.cols(), pixels = x.cols() / channels;
    detail::image_blocks(x.rows(), detail::images_per_block(x.cols() * 8), [&](Dim, Dim first, Dim count) {
      for (Dim n = first; n < first + count; ++n) {
        for (Dim c = 0; c < channels; ++c) {
          out.row(n).segment(c * pixels, pixels).array() =
              x.row(n).segment(c * pixels, pixels).array() + b(0, c);
        }
      }
    });
  }

  // Each element of y reads only its own element of x: y may take x's
  // bytes when it is x's last reader (a convolution's output, which the
  // bias is added to, is read by nothing else).
  std::vector<std::size_t> in_place_inputs() const override { return {0}; }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> d(2);
    if (ctx.needs(0)) d[0] = ctx.grad();
    if (ctx.needs(1)) d[1] = sum_channels(ctx.grad(), ctx.input(1).shape().cols);
    return d;
  }
};

}  // namespace

Node add_channel_bias(Node x, Node bias) {
  x.graph().check_owns(bias, "add_channel_bias");
  return x.graph().apply(std::make_shared<AddChannelBias>(), {x, bias});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_add_channel_bias(OnnxWriter& w) {
  const Dim channels = w.input_shape(1).cols, pixels = w.shape().cols / channels;
  const std::string x = w.reshape(w.in()[0], "channels", {-1, channels, pixels});
  const std::string b = w.reshape(w.in()[1], "bias", {1, channels, 1});
  const std::string sum = w.helper(w.out(), "sum");
  w.node("Add", {x, b}, sum);
  w.node("Reshape", {sum, w.ints(w.out(), "rows", {-1, channels * pixels})}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_add_channel_bias() {
  return {"add_channel_bias", Differentiable::twice, {binary_example(add_channel_bias, {{2, 32}}, {{1, 2}})},
          rebuild_of(add_channel_bias),
          {.operators = "Reshape, Add, Reshape",
           .write = onnx_add_channel_bias}};
}

}  // namespace dagrad
