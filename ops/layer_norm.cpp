// layer_norm: y = xhat * gain + bias, xhat = (x - mean) / sqrt(var + eps) row by row (biased var).
// dx = (g - mean(g) - xhat mean(g xhat)) / sqrt(var + eps) with g = dy * gain, dgain = sum_rows(dy * xhat),
// dbias = sum_rows(dy). Fused for speed: one pass over a row instead of about ten nodes.
#include <dagrad/core/detail/layer_norm.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class LayerNorm final : public OpBase<LayerNorm> {
 public:
  explicit LayerNorm(LayerNormOptions options) : options_(options) {}
  std::string_view key() const override { return "layer_norm"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check_layer_norm_row(in[0], in[1], "the gain");
    detail::check_layer_norm_row(in[0], in[2], "the bias");
    return in[0];
  }

  // Rows are independent, each computed whole by one thread.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const T* gain = in[1]->data();
    const T* bias = in[2]->data();
    const Dim d = x.cols();
    detail::parallel_rows(x.rows(), d, [&](Dim first, Dim count) {
      for (Dim r = first; r < first + count; ++r) {
        const T* xr = x.row(r).data();
        T* yr = out.row(r).data();
        const detail::RowMoments<T> m = detail::row_moments(xr, d, static_cast<T>(options_.eps));
        for (Dim j = 0; j < d; ++j) yr[j] = (xr[j] - m.mean) * m.rstd * gain[j] + bias[j];
      }
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> d(3);
    if (ctx.needs(0)) d[0] = layer_norm_grad_input(ctx.input(0), ctx.input(1), ctx.grad(), options_);
    if (ctx.needs(1)) d[1] = layer_norm_grad_gain(ctx.input(0), ctx.grad(), options_);
    if (ctx.needs(2)) d[2] = sum_rows(ctx.grad());
    return d;
  }

  Attributes attributes() const override { return {{"eps", options_.eps}}; }

 private:
  LayerNormOptions options_;
};

}  // namespace

Node layer_norm(Node x, Node gain, Node bias, LayerNormOptions options) {
  detail::check_layer_norm_eps(options, "layer_norm", x);
  x.graph().check_owns(gain, "layer_norm");
  x.graph().check_owns(bias, "layer_norm");
  return x.graph().apply(std::make_shared<LayerNorm>(options), {x, gain, bias});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_layer_norm(OnnxWriter& w) {
  // (x - mean) / sqrt(var + eps) * gain + bias along each row, var the mean
  // square of x - mean: LayerNormalization itself is opset 17.
  const std::vector<std::string>& in = w.in();
  const std::string& out = w.out();
  const double eps = w.attributes().real("eps");
  const std::string mean = w.helper(out, "mean"), centered = w.helper(out, "centered"),
                    squares = w.helper(out, "squares"), variance = w.helper(out, "variance"),
                    shifted = w.helper(out, "variance_eps"), deviation = w.helper(out, "deviation"),
                    normalized = w.helper(out, "normalized"), scaled = w.helper(out, "scaled");
  w.reduce("ReduceMean", in[0], {1}, mean);
  w.node("Sub", {in[0], mean}, centered);
  w.node("Mul", {centered, centered}, squares);
  w.reduce("ReduceMean", squares, {1}, variance);
  w.node("Add", {variance, w.scalar(out, "eps", eps)}, shifted);
  w.node("Sqrt", {shifted}, deviation);
  w.node("Div", {centered, deviation}, normalized);
  w.node("Mul", {normalized, in[1]}, scaled);
  w.node("Add", {scaled, in[2]}, out);
}

}  // namespace

OpEntry detail::registry_entry_layer_norm() {
  // Rows of 5 under the default eps, and rows of 3 under an eps large enough
  // to weigh against the variance.
  auto example = [](Dim width, double eps) {
    return OpExample{.inputs = {{{3, width}}, {{1, width}, {.low = 0.5, .high = 1.5}}, {{1, width}}},
                     .build = [eps](const auto& in) { return layer_norm(in[0], in[1], in[2], {.eps = eps}); }};
  };
  return {"layer_norm", Differentiable::twice, {example(5, 1e-5), example(3, 0.5)},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 3);
            return layer_norm(in[0], in[1], in[2], {.eps = a.real("eps")});
          },
          {.operators = "ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Div, Mul, Add",
           .write = onnx_layer_norm}};
}

}  // namespace dagrad
