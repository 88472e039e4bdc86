// sigmoid_grad: z = dy*y*(1-y) from sigmoid's output y.  dz/dy = dy*(1-2y), dz/d(dy) = y*(1-y)
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class SigmoidGrad final : public OpBase<SigmoidGrad> {
 public:
  std::string_view key() const override { return "sigmoid_grad"; }
  Shape infer(std::span<const Shape> in) const override {
    return same_shape(in[0], in[1]);
  }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    const auto y = in[0]->array();
    out.array() = in[1]->array() * y * (T(1) - y);
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node y = ctx.input(0), dy = ctx.input(1);
    std::vector<Node> g(2);
    if (ctx.needs(0)) g[0] = mul(mul(ctx.grad(), dy), shift(scale(y, -2.0), 1.0));
    if (ctx.needs(1)) g[1] = sigmoid_grad(y, ctx.grad());
    return g;
  }
};

}  // namespace

Node sigmoid_grad(Node y, Node dy) {
  y.graph().check_owns(dy, "sigmoid_grad");
  return y.graph().apply(std::make_shared<SigmoidGrad>(), {y, dy});
}

}  // namespace dagrad
