// conv2d_grad_filter: dW = Σ_n dY_n col(X_n)ᵀ (col = im2col).  Bilinear in (X, dY): for
// G = dL/d(dW), dL/dX = conv2d_grad_input(dY, G), dL/d(dY) = conv2d(X, G).
#include <dagrad/detail/conv.hpp>
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class Conv2dGradFilter final : public OpBase<Conv2dGradFilter> {
 public:
  explicit Conv2dGradFilter(const Conv2dOptions& o) : options_(o), g_(detail::ConvGeometry::of(o)) {}
  std::string_view key() const override { return "conv2d_grad_filter"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check(g_);
    detail::check_row_width("the images'", in[0].cols, g_.in);
    detail::check_row_width("the output gradient's", in[1].cols, g_.out());
    detail::same_rows(in[0].rows, in[1].rows);
    return {g_.out_channels, g_.patch_size()};
  }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    const Matrix<T>& x = *in[0];
    const Matrix<T>& dy = *in[1];
    const Dim span = detail::columns_per_image(g_), per_block = detail::images_per_block(g_.patch_size() * span);
    const Dim blocks = detail::block_count(x.rows(), per_block);
    // The sum over images is cut into blocks fixed by the batch size and
    // geometry: each block's part is one product [dY_i ...] [col(X_i) ...]ᵀ,
    // and the parts are added in block order, so the sum is formed the same
    // way whatever the thread count.
    std::vector<Matrix<T>> parts(static_cast<std::size_t>(blocks));
    detail::image_blocks(x.rows(), per_block, [&](Dim b, Dim first, Dim count) {
      detail::Columns<T> columns(g_);
      Matrix<T> col(g_.patch_size(), count * span), dys(g_.out_channels, count * span);
      for (Dim i = 0; i < count; ++i) {
        columns.gather(x.row(first + i).data(), col.data() + i * span, col.cols());
        columns.from_output(dy.row(first + i).data(), dys.data() + i * span, dys.cols());
      }
      Matrix<T>& part = parts[static_cast<std::size_t>(b)];
      // A small dW (LeNet's first layer: 6×25) is mostly empty GEMM tiles
      // (48×4 floats with AVX-512) around a long depth; one dot product of
      // two contiguous rows per element is faster there (bench_conv2d: 0.76
      // against 1.17 ms for 64 images), the GEMM for LeNet's 16×150 (0.83
      // against 1.08 ms).
      if (g_.out_channels * g_.patch_size() <= 512) {
        part.noalias() = dys.lazyProduct(col.transpose());
      } else {
        part.noalias() = dys * col.transpose();
      }
    });
    out.setZero();
    for (const Matrix<T>& part : parts) out += part;
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node g = ctx.grad();
    std::vector<Node> d(2);
    if (ctx.needs(0)) d[0] = conv2d_grad_input(ctx.input(1), g, options_);
    if (ctx.needs(1)) d[1] = conv2d(ctx.input(0), g, options_);
    return d;
  }

  std::string label() const override { return "conv2d_grad_filter " + g_.describe(); }

 private:
  Conv2dOptions options_;
  detail::ConvGeometry g_;
};

}  // namespace

Node conv2d_grad_filter(Node x, Node dy, Conv2dOptions options) {
  x.graph().check_owns(dy, "conv2d_grad_filter");
  return x.graph().apply(std::make_shared<Conv2dGradFilter>(options), {x, dy});
}

}  // namespace dagrad
