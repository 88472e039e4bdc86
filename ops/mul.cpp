// mul: y = a * b, elementwise with broadcasting.  dy/da = b, dy/db = a
// (summed back over the broadcast axes).
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct MulRule {
  static constexpr std::string_view key = "mul", infix = " * ";
  static constexpr bool broadcasts = true;
  static constexpr bool is_product = true;  // by one number: detail::scale_elements
  auto operator()(const auto& a, const auto& b) const { return a * b; }
  Node grad(const GradContext& ctx, std::size_t i) const {
    return mul(ctx.grad(), ctx.input(1 - i));
  }
};

}  // namespace

Node mul(Node a, Node b) { return binary(a, b, MulRule{}); }

OpEntry detail::registry_entry_mul() {
  return {"mul", Differentiable::twice, broadcast_examples(mul),
          rebuild_of(mul),
          {.operators = "Mul"}};
}

}  // namespace dagrad
