// relu: y = max(x, 0), elementwise.  dy/dx = 1 where x > 0, else 0
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class Relu final : public OpBase<Relu> {
 public:
  std::string_view key() const override { return "relu"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    out.array() = in[0]->array().max(T(0));
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {relu_grad(ctx.input(0), ctx.grad())};
  }
};

}  // namespace

Node relu(Node x) { return x.graph().apply(std::make_shared<Relu>(), {x}); }

}  // namespace dagrad
