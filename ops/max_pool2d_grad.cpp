// max_pool2d_grad: dx = dy sent to each window's first maximum in x.  d(dx)/dx = 0 (piecewise
// constant); d(dx)/d(dy) gathers G at those maxima: size² avg_pool2d(mask ⊙ G) for side-by-side windows.
#include <dagrad/detail/conv.hpp>
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class MaxPool2dGrad final : public OpBase<MaxPool2dGrad> {
 public:
  explicit MaxPool2dGrad(const Pool2dOptions& o) : options_(o), g_(detail::PoolGeometry::of(o)) {}
  std::string_view key() const override { return "max_pool2d_grad"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check(g_);
    detail::check_row_width("the images'", in[0].cols, g_.in);
    detail::check_row_width("the output gradient's", in[1].cols, g_.out());
    return {detail::same_rows(in[0].rows, in[1].rows), g_.in_size()};
  }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    // The maxima are found again from x rather than stored by the forward
    // op: the same scan gives the same positions, and the op stays stateless.
    if (g_.size == 2) return route<2>(*in[0], *in[1], out);
    route<0>(*in[0], *in[1], out);
  }

  template <Dim Size, class T>
  void route(const Matrix<T>& x, const Matrix<T>& dy, Matrix<T>& out) const {
    detail::each_window(
        x.rows(), g_, [&](Dim n) { out.row(n).setZero(); },
        [&](Dim n, Dim plane, Dim k, Dim top_left) {
          const T* pixels = x.row(n).data() + plane;
          out(n, plane + detail::window_max<Size>(pixels, g_, top_left)) += dy(n, k);
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

  std::string label() const override { return "max_pool2d_grad " + g_.describe(); }

 private:
  Pool2dOptions options_;
  detail::PoolGeometry g_;
};

}  // namespace

Node max_pool2d_grad(Node x, Node dy, Pool2dOptions options) {
  x.graph().check_owns(dy, "max_pool2d_grad");
  return x.graph().apply(std::make_shared<MaxPool2dGrad>(options), {x, dy});
}

}  // namespace dagrad
