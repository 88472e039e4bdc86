// sum_channels: s[c] = Σ_n Σ_p x[n, c·P + p] (P = pixels per channel, 1 × channels).
// ds/dx[n, c·P + p] = 1 for its channel c: G repeated over each channel's block.
#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class SumChannels final : public OpBase<SumChannels> {
 public:
  explicit SumChannels(Dim channels) : channels_(channels) {}
  std::string_view key() const override { return "sum_channels"; }

  Shape infer(std::span<const Shape> in) const override {
    if (channels_ < 1) {
      throw ShapeError("channels must be positive, got " + std::to_string(channels_));
    }
    if (in[0].cols != batch && in[0].cols % channels_ != 0) {
      throw ShapeError("rows of " + std::to_string(in[0].cols) + " values do not split into " +
                       std::to_string(channels_) + " channels of equal size");
    }
    return {1, channels_};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const Dim pixels = x.cols() / channels_;
    // One thread, rows in order: a fixed summation order, and a pass over
    // a batch of activations costs little beside the convolution it follows.
    out.setZero();
    for (Dim n = 0; n < x.rows(); ++n) {
      for (Dim c = 0; c < channels_; ++c) out(0, c) += x.row(n).segment(c * pixels, pixels).sum();
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {add_channel_bias(zeros_like(ctx.input(0)), ctx.grad())};
  }

  std::string label() const override { return "sum_channels ×" + std::to_string(channels_); }
  Attributes attributes() const override { return {{"channels", channels_}}; }

 private:
  Dim channels_;
};

}  // namespace

Node sum_channels(Node x, Dim channels) {
  return x.graph().apply(std::make_shared<SumChannels>(channels), {x});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_sum_channels(OnnxWriter& w) {
  const Dim channels = w.attributes().integer("channels"), pixels = w.input_shape(0).cols / channels;
  const std::string x = w.reshape(w.in()[0], "channels", {-1, channels, pixels});
  const std::string sums = w.helper(w.out(), "sums");
  w.reduce("ReduceSum", x, {0, 2}, sums, false);
  w.node("Reshape", {sums, w.ints(w.out(), "row", {1, channels})}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_sum_channels() {
  return {"sum_channels", Differentiable::twice,
          {{.inputs = {{{2, 32}}}, .build = [](const auto& in) { return sum_channels(in[0], 2); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            return sum_channels(in[0], a.integer("channels", 1));
          },
          {.operators = "Reshape, ReduceSum, Reshape",
           .write = onnx_sum_channels}};
}

}  // namespace dagrad
