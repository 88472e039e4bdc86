// max_pool2d: y = max of each window.  dy/dx = 1 at the window's first maximum, 0 elsewhere
// (a tie goes to the first in row-major order; the backward op is max_pool2d_grad).
#include <dagrad/detail/conv.hpp>
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class MaxPool2d final : public OpBase<MaxPool2d> {
 public:
  explicit MaxPool2d(const Pool2dOptions& o) : options_(o), g_(detail::PoolGeometry::of(o)) {}
  std::string_view key() const override { return "max_pool2d"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check(g_);
    detail::check_row_width("the images'", in[0].cols, g_.in);
    return {in[0].rows, g_.out_size()};
  }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    if (g_.size == 2) return pool<2>(*in[0], out);
    pool<0>(*in[0], out);
  }

  template <Dim Size, class T>
  void pool(const Matrix<T>& x, Matrix<T>& out) const {
    detail::each_window(x.rows(), g_, [](Dim) {}, [&](Dim n, Dim plane, Dim k, Dim top_left) {
      const T* pixels = x.row(n).data() + plane;
      out(n, k) = pixels[detail::window_max<Size>(pixels, g_, top_left)];
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {max_pool2d_grad(ctx.input(0), ctx.grad(), options_)};
  }

  std::string label() const override { return "max_pool2d " + g_.describe(); }

 private:
  Pool2dOptions options_;
  detail::PoolGeometry g_;
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

}  // namespace dagrad
