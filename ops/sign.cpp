// sign: y = -1, 0 or +1 as x is negative, zero or positive, elementwise.  dy/dx = 0 (almost everywhere)
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct SignRule {
  static constexpr std::string_view key = "sign";
  auto operator()(const auto& x) const { return x.sign(); }
  // A step: flat except at 0, its true derivative, declared explicitly.
  Node grad(const GradContext& ctx) const { return zeros_like(ctx.input(0)); }
};

}  // namespace

Node sign(Node x) { return unary(x, SignRule{}); }

OpEntry detail::registry_entry_sign() {
  // Clear of the step at 0.
  return {"sign", Differentiable::twice, {unary_example(sign, {.gap = 0.2})},
          rebuild_of(sign),
          {.operators = "Sign"}};
}

}  // namespace dagrad
