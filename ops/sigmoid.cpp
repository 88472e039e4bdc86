// sigmoid: y = 1 / (1 + exp(-x)), elementwise.  dy/dx = y * (1 - y)
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct SigmoidRule {
  static constexpr std::string_view key = "sigmoid";
  // Split by sign so exp never overflows: for x < 0, e^x / (1 + e^x).
  template <class X>
  auto operator()(const X& x) const {
    using T = typename X::Scalar;
    return (x >= T(0)).select(T(1) / (T(1) + (-x).exp()), x.exp() / (T(1) + x.exp()));
  }
  // Reuses the forward output y rather than recomputing sigmoid(x).
  Node grad(const GradContext& ctx) const { return sigmoid_grad(ctx.output(), ctx.grad()); }
};

}  // namespace

Node sigmoid(Node x) { return unary(x, SigmoidRule{}); }

OpEntry detail::registry_entry_sigmoid() {
  return {"sigmoid", Differentiable::twice, {unary_example(sigmoid, {.low = -3.0, .high = 3.0})},
          rebuild_of(sigmoid),
          {.operators = "Sigmoid"}};
}

}  // namespace dagrad
