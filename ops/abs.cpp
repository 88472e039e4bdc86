// abs: y = |x|, elementwise.  dy/dx = sign(x) (0 at 0), so dL/dx = dL/dy * sign(x)
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct AbsRule {
  static constexpr std::string_view key = "abs";
  auto operator()(const auto& x) const { return x.abs(); }
  Node grad(const GradContext& ctx) const { return mul(ctx.grad(), sign(ctx.input(0))); }
};

}  // namespace

Node abs(Node x) { return unary(x, AbsRule{}); }

OpEntry detail::registry_entry_abs() {
  // Clear of the kink at 0, where abs has no derivative.
  return {"abs", Differentiable::twice, {unary_example(abs, {.gap = 0.2})},
          rebuild_of(abs),
          {.operators = "Abs"}};
}

}  // namespace dagrad
