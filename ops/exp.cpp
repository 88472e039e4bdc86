// exp: y = e^x, elementwise.  dy/dx = y
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class Exp final : public OpBase<Exp> {
 public:
  std::string_view key() const override { return "exp"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    out.array() = in[0]->array().exp();
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // Reuses the forward output: d(e^x)/dx = e^x = y.
    return {mul(ctx.grad(), ctx.output())};
  }
};

}  // namespace

Node exp(Node x) { return x.graph().apply(std::make_shared<Exp>(), {x}); }

}  // namespace dagrad
