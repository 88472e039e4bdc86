// layer_norm_grad_input: z = J g row by row, g = dy * gain, J = dxhat/dx = r (I - 11^T/D - xhat xhat^T/D),
// r = 1/sqrt(var + eps); J is symmetric. For dL/dz = V: dL/d(dy) = gain * J V, dL/dgain = sum_rows(dy * J V),
// dL/dx = -(r/D) (xhat <V, z> + z <V, xhat> + J V <g, xhat>), <.,.> the sums along each row.
#include <dagrad/core/detail/layer_norm.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

// r = 1/sqrt(var + eps) of each row of x (n x 1), from ops that have gradients.
Node row_rstd(Node x, double eps) {
  const double inv_width = 1.0 / static_cast<double>(x.shape().cols);
  const Node centered = sub(x, scale(sum_cols(x), inv_width));
  return rsqrt(shift(scale(sum_cols(square(centered)), inv_width), eps));
}

class LayerNormGradInput final : public OpBase<LayerNormGradInput> {
 public:
  explicit LayerNormGradInput(LayerNormOptions options) : options_(options) {}
  std::string_view key() const override { return "layer_norm_grad_input"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check_layer_norm_row(in[0], in[1], "the gain");
    return same_shape(in[0], in[2]);  // x and dy
  }

  // Rows are independent, each computed whole by one thread.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const T* gain = in[1]->data();
    const ConstView<T>& dy = *in[2];
    const Dim d = x.cols();
    const T inv_width = T(1) / static_cast<T>(d);
    detail::parallel_rows(x.rows(), d, [&](Dim first, Dim count) {
      for (Dim r = first; r < first + count; ++r) {
        const T* xr = x.row(r).data();
        const T* dyr = dy.row(r).data();
        const detail::RowMoments<T> m = detail::row_moments(xr, d, static_cast<T>(options_.eps));
        auto xhat = [&](Dim j) { return (xr[j] - m.mean) * m.rstd; };
        const T mean_g = detail::lane_sum<T>(d, [&](Dim j) { return dyr[j] * gain[j]; }) * inv_width;
        const T mean_gx = detail::lane_sum<T>(d, [&](Dim j) { return dyr[j] * gain[j] * xhat(j); }) * inv_width;
        T* zr = out.row(r).data();
        for (Dim j = 0; j < d; ++j) zr[j] = m.rstd * (dyr[j] * gain[j] - mean_g - xhat(j) * mean_gx);
      }
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node x = ctx.input(0), gain = ctx.input(1), dy = ctx.input(2), v = ctx.grad();
    const Dim width = x.shape().cols;
    Graph& g = x.graph();
    const Node ones = g.constant(Matrix<double>::Ones(1, width));
    const Node jv = layer_norm_grad_input(x, ones, v, options_);
    std::vector<Node> d(3);
    if (ctx.needs(0)) {
      const Node xhat = layer_norm(x, ones, g.constant(Matrix<double>::Zero(1, width)), options_);
      const Node z = ctx.output();
      const Node g_xhat = sum_cols(mul(mul(dy, gain), xhat));
      const Node inner = add_n({mul(xhat, sum_cols(mul(v, z))), mul(z, sum_cols(mul(v, xhat))), mul(jv, g_xhat)});
      d[0] = mul(scale(inner, -1.0 / static_cast<double>(width)), row_rstd(x, options_.eps));
    }
    if (ctx.needs(1)) d[1] = sum_rows(mul(dy, jv));
    if (ctx.needs(2)) d[2] = mul(jv, gain);
    return d;
  }

  Attributes attributes() const override { return {{"eps", options_.eps}}; }

 private:
  LayerNormOptions options_;
};

}  // namespace

Node layer_norm_grad_input(Node x, Node gain, Node dy, LayerNormOptions options) {
  detail::check_layer_norm_eps(options, "layer_norm_grad_input", x);
  x.graph().check_owns(gain, "layer_norm_grad_input");
  x.graph().check_owns(dy, "layer_norm_grad_input");
  return x.graph().apply(std::make_shared<LayerNormGradInput>(options), {x, gain, dy});
}

OpEntry detail::registry_entry_layer_norm_grad_input() {
  return {"layer_norm_grad_input", Differentiable::twice,
          {{.inputs = {{{3, 4}}, {{1, 4}, {.low = 0.5, .high = 1.5}}, {{3, 4}}},
            .build = [](const auto& in) { return layer_norm_grad_input(in[0], in[1], in[2]); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 3);
            return layer_norm_grad_input(in[0], in[1], in[2], {.eps = a.real("eps")});
          }};
}

}  // namespace dagrad
