// relu: y = max(x, 0), elementwise.  dy/dx = 1 where x > 0 (so where y > 0), else 0
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct ReluRule {
  static constexpr std::string_view key = "relu";
  template <class X>
  auto operator()(const X& x) const {
    return x.max(typename X::Scalar(0));
  }
  // From the output, as PyTorch's threshold_backward reads it: y > 0
  // exactly where x > 0, so x need not be kept for the backward pass (and a
  // bias add before relu can fuse into it).
  Node grad(const GradContext& ctx) const { return relu_grad(ctx.output(), ctx.grad()); }
};

}  // namespace

Node relu(Node x) { return unary(x, ReluRule{}); }

OpEntry detail::registry_entry_relu() {
  // Clear of the kink at 0, where relu has no derivative.
  return {"relu", Differentiable::twice, {unary_example(relu, {.gap = 0.2})},
          rebuild_of(relu),
          {.operators = "Relu"}};
}

}  // namespace dagrad
