// tanh: y = tanh x, elementwise.  dy/dx = 1 - y^2
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class Tanh final : public OpBase<Tanh> {
 public:
  std::string_view key() const override { return "tanh"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    out.array() = in[0]->array().tanh();
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // Reuses the forward output y rather than recomputing tanh(x).
    return {tanh_grad(ctx.output(), ctx.grad())};
  }
};

}  // namespace

Node tanh(Node x) { return x.graph().apply(std::make_shared<Tanh>(), {x}); }

}  // namespace dagrad
