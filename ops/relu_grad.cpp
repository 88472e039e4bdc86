// relu_grad: z = dy where x > 0, else 0.  dz/dx = 0 (almost everywhere), dz/d(dy) = [x > 0]
#include <dagrad/detail/op_list.hpp>
#include <dagrad/op_family.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

struct ReluGradRule {
  static constexpr std::string_view key = "relu_grad";
  static constexpr bool broadcasts = false;
  template <class X, class DY>
  auto operator()(const X& x, const DY& dy) const {
    using T = typename X::Scalar;
    return (x > T(0)).select(dy, T(0));
  }
  Node grad(const GradContext& ctx, std::size_t i) const {
    const Node x = ctx.input(0);
    // The step in x is flat except at 0: its true derivative, declared explicitly.
    if (i == 0) return zeros_like(x);
    return relu_grad(x, ctx.grad());
  }
};

}  // namespace

Node relu_grad(Node x, Node dy) { return binary(x, dy, ReluGradRule{}); }

OpEntry detail::registry_entry_relu_grad() {
  // x clear of the step at 0.
  return {"relu_grad", Differentiable::twice,
          {binary_example(relu_grad, {{2, 3}, {.gap = 0.2}}, {{2, 3}})}};
}

}  // namespace dagrad
