// max_pool2d: y = max of each window.  dy/dx = 1 at the window's first maximum, 0 elsewhere
// (a tie goes to the first in row-major order; the backward op is max_pool2d_grad).
#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/detail/image_op.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/pool_2x2.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class MaxPool2d final : public detail::PoolOp<MaxPool2d> {
 public:
  using ImageOp::ImageOp;
  std::string_view key() const override { return "max_pool2d"; }

  Shape infer(std::span<const Shape> in) const override { return detail::pooled_rows(g_, in[0]); }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    if (detail::side_by_side_2x2(g_)) return pool_2x2(x, out);
    detail::each_window(x.rows(), g_, [](Dim) {}, [&](Dim n, Dim plane, Dim k, Dim top_left) {
      const T* pixels = x.row(n).data() + plane;
      out(n, k) = pixels[detail::window_max(pixels, g_, top_left)];
    });
  }

  // The same scan as window_max, eight windows at a time (detail/pool_2x2.hpp).
  template <class T>
  void pool_2x2(const ConstView<T>& x, View<T> out) const {
    detail::image_blocks(x.rows(), detail::images_per_block(g_.in_size() * 8), [&](Dim, Dim first, Dim count) {
      for (Dim n = first; n < first + count; ++n) detail::max_pool_2x2_image(x.row(n).data(), g_.in, out.row(n).data());
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {max_pool2d_grad(ctx.input(0), ctx.grad(), options_)};
  }

};

}  // namespace

ImageShape pool2d_output(const Pool2dOptions& options) {
  const detail::PoolGeometry g = detail::PoolGeometry::of(options);
  detail::check(g);
  return g.out();
}

Node max_pool2d(Node x, Pool2dOptions options) {
  return x.graph().apply(std::make_shared<MaxPool2d>(options), {x});
}

OpEntry detail::registry_entry_max_pool2d() {
  // Side-by-side 2x2 windows; the sampled values never tie within one.
  const Pool2dOptions o{.in = {2, 4, 4}, .size = 2};
  return {"max_pool2d", Differentiable::twice,
          {{.inputs = {{{2, 32}}}, .build = [o](const auto& in) { return max_pool2d(in[0], o); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            return max_pool2d(in[0], detail::pool2d_options_of(a));
          },
          {.operators = "Reshape, MaxPool, Reshape",
           .write = [](OnnxWriter& w) {
             detail::write_onnx_pool2d(w, "MaxPool");
           }}};
}

}  // namespace dagrad
