// sigmoid: y = 1 / (1 + exp(-x)), elementwise.  dy/dx = y * (1 - y)
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class Sigmoid final : public OpBase<Sigmoid> {
 public:
  std::string_view key() const override { return "sigmoid"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    // Split by sign so exp never overflows: for x < 0, e^x / (1 + e^x).
    const auto x = in[0]->array();
    out.array() = (x >= T(0)).select(T(1) / (T(1) + (-x).exp()), x.exp() / (T(1) + x.exp()));
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // Reuses the forward output y rather than recomputing sigmoid(x).
    return {sigmoid_grad(ctx.output(), ctx.grad())};
  }
};

}  // namespace

Node sigmoid(Node x) { return x.graph().apply(std::make_shared<Sigmoid>(), {x}); }

}  // namespace dagrad
