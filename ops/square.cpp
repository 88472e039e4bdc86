// square: y = x^2, elementwise.  dy/dx = 2x
#include <dagrad/detail/elements.hpp>
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class Square final : public OpBase<Square> {
 public:
  std::string_view key() const override { return "square"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    const Matrix<T>& x = *in[0];
    out.resize(x.rows(), x.cols());
    detail::parallel_elements(out.size(), [&](auto first, auto n) {
      detail::elements(out, first, n) = detail::elements(x, first, n).square();
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {mul(ctx.grad(), scale(ctx.input(0), 2.0))};
  }
};

}  // namespace

Node square(Node x) { return x.graph().apply(std::make_shared<Square>(), {x}); }

}  // namespace dagrad
