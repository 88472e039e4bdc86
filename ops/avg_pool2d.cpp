// avg_pool2d: y = the mean of each size×size window.  dy/dx = 1/size² for each pixel of the
// window (the backward op is avg_pool2d_grad).
#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/detail/image_op.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class AvgPool2d final : public detail::PoolOp<AvgPool2d> {
 public:
  using ImageOp::ImageOp;
  std::string_view key() const override { return "avg_pool2d"; }

  Shape infer(std::span<const Shape> in) const override { return detail::pooled_rows(g_, in[0]); }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const T area = T(g_.size * g_.size);
    detail::each_window(x.rows(), g_, [](Dim) {}, [&](Dim n, Dim plane, Dim k, Dim top_left) {
      // Summed row by row in the window, then divided once.
      const T* corner = x.row(n).data() + plane + top_left;
      T total = 0;
      for (Dim i = 0; i < g_.size; ++i) {
        for (Dim j = 0; j < g_.size; ++j) total += corner[i * g_.in.width + j];
      }
      out(n, k) = total / area;
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {avg_pool2d_grad(ctx.grad(), options_)};
  }

};

}  // namespace

Node avg_pool2d(Node x, Pool2dOptions options) {
  return x.graph().apply(std::make_shared<AvgPool2d>(options), {x});
}

OpEntry detail::registry_entry_avg_pool2d() {
  const Pool2dOptions o{.in = {2, 4, 4}, .size = 2};
  return {"avg_pool2d", Differentiable::twice,
          {{.inputs = {{{2, 32}}}, .build = [o](const auto& in) { return avg_pool2d(in[0], o); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            return avg_pool2d(in[0], detail::pool2d_options_of(a));
          },
          {.operators = "Reshape, AveragePool, Reshape",
           .write = [](OnnxWriter& w) {
             detail::write_onnx_pool2d(w, "AveragePool");
           }}};
}

}  // namespace dagrad
