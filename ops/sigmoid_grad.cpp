// sigmoid_grad: z = dy*y*(1-y) from sigmoid's output y.  dz/dy = dy*(1-2y), dz/d(dy) = y*(1-y)
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct SigmoidGradRule {
  static constexpr std::string_view key = "sigmoid_grad";
  static constexpr bool broadcasts = false;
  template <class Y, class DY>
  auto operator()(const Y& y, const DY& dy) const {
    using T = typename Y::Scalar;
    return dy * y * (T(1) - y);
  }
  Node grad(const GradContext& ctx, std::size_t i) const {
    const Node y = ctx.input(0), dy = ctx.input(1);
    if (i == 0) return mul(mul(ctx.grad(), dy), shift(scale(y, -2.0), 1.0));
    return sigmoid_grad(y, ctx.grad());
  }
};

}  // namespace

Node sigmoid_grad(Node y, Node dy) { return binary(y, dy, SigmoidGradRule{}); }

OpEntry detail::registry_entry_sigmoid_grad() {
  // y is a sigmoid's output, in (0, 1).
  return {"sigmoid_grad", Differentiable::twice,
          {binary_example(sigmoid_grad, {{2, 3}, {.low = 0.05, .high = 0.95}}, {{2, 3}})},
          rebuild_of(sigmoid_grad)};
}

}  // namespace dagrad
