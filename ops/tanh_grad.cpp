// tanh_grad: z = dy*(1-y^2) from tanh's output y.  dz/dy = -2*y*dy, dz/d(dy) = 1-y^2
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class TanhGrad final : public OpBase<TanhGrad> {
 public:
  std::string_view key() const override { return "tanh_grad"; }
  Shape infer(std::span<const Shape> in) const override {
    return same_shape(in[0], in[1]);
  }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    out.array() = in[1]->array() * (T(1) - in[0]->array().square());
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node y = ctx.input(0), dy = ctx.input(1);
    std::vector<Node> g(2);
    if (ctx.needs(0)) g[0] = mul(mul(ctx.grad(), dy), scale(y, -2.0));
    if (ctx.needs(1)) g[1] = tanh_grad(y, ctx.grad());
    return g;
  }
};

}  // namespace

Node tanh_grad(Node y, Node dy) {
  y.graph().check_owns(dy, "tanh_grad");
  return y.graph().apply(std::make_shared<TanhGrad>(), {y, dy});
}

}  // namespace dagrad
