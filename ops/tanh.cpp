// tanh: y = tanh x, elementwise.  dy/dx = 1 - y^2
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct TanhRule {
  static constexpr std::string_view key = "tanh";
  auto operator()(const auto& x) const { return x.tanh(); }
  // Reuses the forward output y rather than recomputing tanh(x).
  Node grad(const GradContext& ctx) const { return tanh_grad(ctx.output(), ctx.grad()); }
};

}  // namespace

Node tanh(Node x) { return unary(x, TanhRule{}); }

OpEntry detail::registry_entry_tanh() {
  return {"tanh", Differentiable::twice, {unary_example(tanh)},
          rebuild_of(tanh),
          {.operators = "Tanh"}};
}

}  // namespace dagrad
