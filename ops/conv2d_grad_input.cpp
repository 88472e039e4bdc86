// conv2d_grad_input: dX_n = col⁻¹(Wᵀ dY_n) (col⁻¹ = col2im).  Bilinear in (dY, W), the
// adjoint of conv2d in x: for G = dL/d(dX), dL/d(dY) = conv2d(G, W), dL/dW = Σ_n dY_n col(G_n)ᵀ.
#include <dagrad/detail/conv.hpp>
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class Conv2dGradInput final : public OpBase<Conv2dGradInput> {
 public:
  explicit Conv2dGradInput(const Conv2dOptions& o) : options_(o), g_(detail::ConvGeometry::of(o)) {}
  std::string_view key() const override { return "conv2d_grad_input"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check(g_);
    detail::check_row_width("the output gradient's", in[0].cols, g_.out());
    detail::check_weights(in[1], g_);
    return {in[0].rows, g_.in_size()};
  }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    const Matrix<T>& dy = *in[0];
    const Matrix<T>& w = *in[1];
    const Dim span = detail::columns_per_image(g_), per_block = detail::images_per_block(g_.patch_size() * span);
    // Each image's gradient is its own: dcol = Wᵀ [dY_first ... dY_last] for
    // a block, then each image's columns folded back onto its pixels.
    detail::image_blocks(dy.rows(), per_block, [&](Dim, Dim first, Dim count) {
      detail::Columns<T> columns(g_);
      Matrix<T> dys(g_.out_channels, count * span);
      for (Dim i = 0; i < count; ++i) columns.from_output(dy.row(first + i).data(), dys.data() + i * span, dys.cols());
      Matrix<T> dcol;
      dcol.noalias() = w.transpose() * dys;
      for (Dim i = 0; i < count; ++i) columns.scatter(dcol.data() + i * span, dcol.cols(), out.row(first + i).data());
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node g = ctx.grad();
    std::vector<Node> d(2);
    if (ctx.needs(0)) d[0] = conv2d(g, ctx.input(1), options_);
    if (ctx.needs(1)) d[1] = conv2d_grad_filter(g, ctx.input(0), options_);
    return d;
  }

  std::string label() const override { return "conv2d_grad_input " + g_.describe(); }

 private:
  Conv2dOptions options_;
  detail::ConvGeometry g_;
};

}  // namespace

Node conv2d_grad_input(Node dy, Node w, Conv2dOptions options) {
  dy.graph().check_owns(w, "conv2d_grad_input");
  return dy.graph().apply(std::make_shared<Conv2dGradInput>(options), {dy, w});
}

}  // namespace dagrad
