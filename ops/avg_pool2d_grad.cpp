// avg_pool2d_grad: dx = each window's dy / size², added over the window.  Linear, the adjoint
// of avg_pool2d: for G = dL/d(dx), dL/d(dy) = avg_pool2d(G).
#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/detail/image_op.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class AvgPool2dGrad final : public detail::PoolOp<AvgPool2dGrad> {
 public:
  using ImageOp::ImageOp;
  std::string_view key() const override { return "avg_pool2d_grad"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check(g_);
    detail::check_row_width("the output gradient's", in[0].cols, g_.out());
    return {in[0].rows, g_.in_size()};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& dy = *in[0];
    const T area = T(g_.size * g_.size);
    detail::each_window(
        dy.rows(), g_, [&](Dim n) { out.row(n).setZero(); },
        [&](Dim n, Dim plane, Dim k, Dim top_left) {
          const T share = dy(n, k) / area;
          T* corner = out.row(n).data() + plane + top_left;
          for (Dim i = 0; i < g_.size; ++i) {
            for (Dim j = 0; j < g_.size; ++j) corner[i * g_.in.width + j] += share;
          }
        });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {avg_pool2d(ctx.grad(), options_)};
  }

};

}  // namespace

Node avg_pool2d_grad(Node dy, Pool2dOptions options) {
  return dy.graph().apply(std::make_shared<AvgPool2dGrad>(options), {dy});
}

OpEntry detail::registry_entry_avg_pool2d_grad() {
  const Pool2dOptions o{.in = {2, 4, 4}, .size = 2};
  return {"avg_pool2d_grad", Differentiable::twice,
          {{.inputs = {{{2, 8}}}, .build = [o](const auto& in) { return avg_pool2d_grad(in[0], o); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            return avg_pool2d_grad(in[0], detail::pool2d_options_of(a));
          }};
}

}  // namespace dagrad
