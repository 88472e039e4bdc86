// tanh_grad: z = dy*(1-y^2) from tanh's output y.  dz/dy = -2*y*dy, dz/d(dy) = 1-y^2
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

Dim same_dim(Dim a, Dim b, const char* what) {
  if (a == batch) return b;
  if (b == batch || a == b) return a;
  throw ShapeError(std::string(what) + " differ (" + std::to_string(a) + " and " +
                   std::to_string(b) + ")");
}

class TanhGrad final : public OpBase<TanhGrad> {
 public:
  std::string_view key() const override { return "tanh_grad"; }
  Shape infer(std::span<const Shape> in) const override {
    return {same_dim(in[0].rows, in[1].rows, "row counts"),
            same_dim(in[0].cols, in[1].cols, "column counts")};
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
