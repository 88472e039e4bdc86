// layer_norm_grad_gain: z = sum_rows(dy * xhat) (1 x D), xhat = (x - mean) / sqrt(var + eps) row by row.
// For dL/dz = G: dL/d(dy) = G * xhat = layer_norm(x, G, 0), dL/dx = layer_norm_grad_input(x, G, dy).
#include <dagrad/core/detail/layer_norm.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/detail/scratch.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

#include <vector>

namespace dagrad {
namespace {

class LayerNormGradGain final : public OpBase<LayerNormGradGain> {
 public:
  explicit LayerNormGradGain(LayerNormOptions options) : options_(options) {}
  std::string_view key() const override { return "layer_norm_grad_gain"; }

  Shape infer(std::span<const Shape> in) const override {
    const Shape s = same_shape(in[0], in[1]);  // x and dy
    if (s.cols == batch) throw ShapeError("the width of x must be known, not " + to_string(s));
    return {1, s.cols};
  }

  // Each row's moments on its own (rows in parallel), then the rows added
  // into the sum in row order on one thread: the same bits at any thread count.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const ConstView<T>& dy = *in[1];
    const Dim d = x.cols();
    detail::Scratch scratch;
    detail::RowMoments<T>* moments = scratch.take<detail::RowMoments<T>>(x.rows());
    detail::parallel_rows(x.rows(), d, [&](Dim first, Dim count) {
      for (Dim r = first; r < first + count; ++r) {
        moments[r] = detail::row_moments(x.row(r).data(), d, static_cast<T>(options_.eps));
      }
    });
    out.setZero();
    T* z = out.data();
    for (Dim r = 0; r < x.rows(); ++r) {
      const T* xr = x.row(r).data();
      const T* dyr = dy.row(r).data();
      const detail::RowMoments<T> m = moments[r];
      for (Dim j = 0; j < d; ++j) z[j] += dyr[j] * ((xr[j] - m.mean) * m.rstd);
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node x = ctx.input(0), dy = ctx.input(1), gain_grad = ctx.grad();
    std::vector<Node> d(2);
    if (ctx.needs(0)) d[0] = layer_norm_grad_input(x, gain_grad, dy, options_);
    if (ctx.needs(1)) {
      const Node zeros = x.graph().constant(Matrix<double>::Zero(1, x.shape().cols));
      d[1] = layer_norm(x, gain_grad, zeros, options_);
    }
    return d;
  }

  Attributes attributes() const override { return {{"eps", options_.eps}}; }

 private:
  LayerNormOptions options_;
};

}  // namespace

Node layer_norm_grad_gain(Node x, Node dy, LayerNormOptions options) {
  detail::check_layer_norm_eps(options, "layer_norm_grad_gain", x);
  x.graph().check_owns(dy, "layer_norm_grad_gain");
  return x.graph().apply(std::make_shared<LayerNormGradGain>(options), {x, dy});
}

OpEntry detail::registry_entry_layer_norm_grad_gain() {
  return {"layer_norm_grad_gain", Differentiable::twice,
          {{.inputs = {{{3, 4}}, {{3, 4}}},
            .build = [](const auto& in) { return layer_norm_grad_gain(in[0], in[1]); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            return layer_norm_grad_gain(in[0], in[1], {.eps = a.real("eps")});
          }};
}

}  // namespace dagrad
