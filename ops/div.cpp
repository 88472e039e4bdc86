// div: y = a / b, elementwise with broadcasting.  dy/da = 1/b, dy/db = -a/b^2 = -y/b
// (summed back over the broadcast axes).
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct DivRule {
  static constexpr std::string_view key = "div", infix = " / ";
  static constexpr bool broadcasts = true;
  auto operator()(const auto& a, const auto& b) const { return a / b; }
  Node grad(const GradContext& ctx, std::size_t i) const {
    const Node b = ctx.input(1);
    if (i == 0) return div(ctx.grad(), b);
    // -grad * a / b^2 written as -(grad * y) / b, reusing the output y = a / b.
    return scale(div(mul(ctx.grad(), ctx.output()), b), -1.0);
  }
};

}  // namespace

Node div(Node a, Node b) { return binary(a, b, DivRule{}); }

OpEntry detail::registry_entry_div() {
  // The denominator kept clear of its pole at 0.
  return {"div", Differentiable::twice, broadcast_examples(div, {.low = -2.0, .high = 2.0, .gap = 0.5}),
          rebuild_of(div),
          {.operators = "Div"}};
}

}  // namespace dagrad
