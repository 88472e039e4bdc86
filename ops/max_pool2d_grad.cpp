// max_pool2d_grad: dx = dy sent to each window's first maximum in x.  d(dx)/dx = 0 (piecewise
// constant); d(dx)/d(dy) gathers G at those maxima: size² avg_pool2d(mask ⊙ G) for side-by-side windows.
#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/detail/image_op.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/pool_2x2.hpp>
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
    if (detail::side_by_side_2x2(g_)) return route_2x2(x, dy, out, false);
    detail::each_window(
        x.rows(), g_, [&](Dim n) { out.row(n).setZero(); },
        [&](Dim n, Dim plane, Dim k, Dim top_left) {
          const T* pixels = x.row(n).data() + plane;
          out(n, plane + detail::window_max(pixels, g_, top_left)) += dy(n, k);
        });
  }

  // 2×2 windows side by side cover each pixel once: each window's
  // gradient goes to its first maximum, found with window_max's scan,
  // eight windows at a time (detail/pool_2x2.hpp), and its other three
  // pixels get zero.
  template <class T>
  void route_2x2(const ConstView<T>& x, const ConstView<T>& dy, View<T> out, bool positive_only) const {
    detail::image_blocks(x.rows(), detail::images_per_block(g_.in_size() * 8), [&](Dim, Dim first, Dim count) {
      for (Dim n = first; n < first + count; ++n) {
        detail::route_2x2_image(x.row(n).data(), dy.row(n).data(), g_.in, out.row(n).data(), positive_only);
      }
    });
  }

  // Epilogue (Op::epilogue): relu_grad(x, this), x being this op's own x
  // (a max pool after a relu: the pool's input is the relu's output). Its
  // mask keeps a routed gradient where x > 0 and every other pixel is +0
  // either way, so the 2×2 route applies it to each window's maximum as it
  // stores it; other windows take relu_grad's own kernel afterwards.
  std::size_t epilogue(std::span<const NodeId> inputs, std::span<const Reader> readers) const override {
    const Reader& r = readers[0];
    return r.op->key() == "relu_grad" && r.slot == 1 && r.inputs[0] == inputs[0] ? 1 : 0;
  }
  void forward_epilogue(Inputs<float> in, std::span<const Op* const> readers, std::span<const Inputs<float>> readers_in,
                        View<float> out) const override {
    with_epilogue(in, readers, readers_in, out);
  }
  void forward_epilogue(Inputs<double> in, std::span<const Op* const> readers,
                        std::span<const Inputs<double>> readers_in, View<double> out) const override {
    with_epilogue(in, readers, readers_in, out);
  }

  template <class T>
  void with_epilogue(Inputs<T> in, std::span<const Op* const> readers, std::span<const Inputs<T>> readers_in,
                     View<T> out) const {
    if (detail::side_by_side_2x2(g_)) return route_2x2(*in[0], *in[1], out, true);
    kernel(in, out);
    run_readers_in_place(readers, readers_in, out);
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
