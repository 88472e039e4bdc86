// sub: y = a - b, elementwise with broadcasting.  dy/da = 1, dy/db = -1
// (summed back over the broadcast axes).
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct SubRule {
  static constexpr std::string_view key = "sub", infix = " - ";
  static constexpr bool broadcasts = true;
  auto operator()(const auto& a, const auto& b) const { return a - b; }
  Node grad(const GradContext& ctx, std::size_t i) const {
    return i == 0 ? ctx.grad() : scale(ctx.grad(), -1.0);
  }
};

}  // namespace

Node sub(Node a, Node b) { return binary(a, b, SubRule{}); }

OpEntry detail::registry_entry_sub() {
  return {"sub", Differentiable::twice, broadcast_examples(sub),
          rebuild_of(sub),
          {.operators = "Sub"}};
}

}  // namespace dagrad
