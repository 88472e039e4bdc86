// relu_grad: z = dy where x > 0, else 0.  dz/dx = 0 (almost everywhere), dz/d(dy) = [x > 0]
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class ReluGrad final : public OpBase<ReluGrad> {
 public:
  std::string_view key() const override { return "relu_grad"; }
  Shape infer(std::span<const Shape> in) const override {
    return same_shape(in[0], in[1]);
  }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    out.array() = (in[0]->array() > T(0)).select(in[1]->array(), T(0));
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node x = ctx.input(0);
    std::vector<Node> g(2);
    // The step in x is flat except at 0: its true derivative, declared explicitly.
    if (ctx.needs(0)) g[0] = zeros_like(x);
    if (ctx.needs(1)) g[1] = relu_grad(x, ctx.grad());
    return g;
  }
};

}  // namespace

Node relu_grad(Node x, Node dy) {
  x.graph().check_owns(dy, "relu_grad");
  return x.graph().apply(std::make_shared<ReluGrad>(), {x, dy});
}

}  // namespace dagrad
