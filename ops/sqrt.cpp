// sqrt: y = x^(1/2), elementwise (x >= 0).  dy/dx = 1 / (2y)
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct SqrtRule {
  static constexpr std::string_view key = "sqrt";
  auto operator()(const auto& x) const { return x.sqrt(); }
  // Reuses the forward output: dL/dx = dL/dy * 0.5 / y.
  Node grad(const GradContext& ctx) const { return div(scale(ctx.grad(), 0.5), ctx.output()); }
};

}  // namespace

Node sqrt(Node x) { return unary(x, SqrtRule{}); }

OpEntry detail::registry_entry_sqrt() {
  // Inside the domain, away from the pole of the derivative at 0.
  return {"sqrt", Differentiable::twice, {unary_example(sqrt, {.low = 0.3, .high = 2.0})},
          rebuild_of(sqrt),
          {.operators = "Sqrt"}};
}

}  // namespace dagrad
