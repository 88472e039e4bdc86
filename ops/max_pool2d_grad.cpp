// max_pool2d_grad: dx = dy sent to each window's first maximum in x.  d(dx)/dx = 0 (piecewise
// constant); d(dx)/d(dy) gathers G at those maxima: size² avg_pool2d(mask ⊙ G) for side-by-side windows.
#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/detail/image_op.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class MaxPool2dGrad final : public detail::PoolOp<MaxPool2dGrad> {
 public:
  using ImageOp::ImageOp;
  std::string_view key() const override { return "max_pool2d_grad"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check(g_);
    detail::check_row_width("the images'", in[0].cols, g_.in);
    detail::check_row_width("the output gradient's", in[1].cols, g_.out());
    return {detail::same_rows(in[0].rows, in[1].rows), g_.in_size()};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    // The maxima are found again from x rather than stored by the forward
    // op: the same scan gives the same positions, and the op stays stateless.
    const ConstView<T>& x = *in[0];
    const ConstView<T>& dy = *in[1];
    if (detail::side_by_side_2x2(g_)) return route_2x2(x, dy, out);
    detail::each_window(
        x.rows(), g_, [&](Dim n) { out.row(n).setZero(); },
        [&](Dim n, Dim plane, Dim k, Dim top_left) {
          const T* pixels = x.row(n).data() + plane;
          out(n, plane + detail::window_max(pixels, g_, top_left)) += dy(n, k);
        });
  }

  // 2×2 windows side by side cover each pixel once: both input rows of a
  // row of windows are cleared, then each window stores its gradient at its
  // first maximum, found with window_max's arithmetic (no data-dependent
  // branch; selects written out per pixel measured slower, as GCC made
  // branches of them: docs/benchmarks.md).
  template <class T>
  void route_2x2(const ConstView<T>& x, const ConstView<T>& dy, View<T> out) const {
    const Dim width = g_.in.width, columns = g_.out_width;
    detail::each_pooled_row(x.rows(), g_, [&](Dim n, Dim top, Dim k) {
      const T* __restrict r0 = x.row(n).data() + top;
      const T* __restrict d = dy.row(n).data() + k;
      T* __restrict dx = out.row(n).data() + top;
      std::fill(dx, dx + 2 * width, T(0));
      for (Dim ow = 0; ow < columns; ++ow) {
        const Dim at[4] = {2 * ow, 2 * ow + 1, width + 2 * ow, width + 2 * ow + 1};
        Dim best = at[0];
        T best_value = r0[at[0]];
        for (int i = 1; i < 4; ++i) {
          const T v = r0[at[i]];
          best += (at[i] - best) * Dim(v > best_value);
          best_value = std::max(best_value, v);
        }
        dx[best] = d[ow];
      }
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node x = ctx.input(0), dy = ctx.input(1);
    std::vector<Node> d(2);
    if (ctx.needs(0)) d[0] = zeros_like(x);
    if (ctx.needs(1)) {
      // Overlapping windows can share a maximum; the gather below would then
      // count it once per window it is the maximum of, not once.
      if (g_.stride != g_.size) no_gradient(ctx, 1);
      const Node mask = max_pool2d_grad(x, shift(zeros_like(dy), 1.0), options_);
      d[1] = scale(avg_pool2d(mul(mask, ctx.grad()), options_), double(g_.size * g_.size));
    }
    return d;
  }

};

}  // namespace

Node max_pool2d_grad(Node x, Node dy, Pool2dOptions options) {
  x.graph().check_owns(dy, "max_pool2d_grad");
  return x.graph().apply(std::make_shared<MaxPool2dGrad>(options), {x, dy});
}

OpEntry detail::registry_entry_max_pool2d_grad() {
  const Pool2dOptions o{.in = {2, 4, 4}, .size = 2};
  return {"max_pool2d_grad", Differentiable::twice,
          {{.inputs = {{{2, 32}}, {{2, 8}}},
            .build = [o](const auto& in) { return max_pool2d_grad(in[0], in[1], o); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            return max_pool2d_grad(in[0], in[1], detail::pool2d_options_of(a));
          }};
}

}  // namespace dagrad
