// add: y = a + b, elementwise with broadcasting.  dy/da = 1, dy/db = 1
// (summed back over the broadcast axes).
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct AddRule {
  static constexpr std::string_view key = "add", infix = " + ";
  static constexpr bool broadcasts = true;
  auto operator()(const auto& a, const auto& b) const { return a + b; }
  Node grad(const GradContext& ctx, std::size_t) const { return ctx.grad(); }
};

}  // namespace

Node add(Node a, Node b) { return binary(a, b, AddRule{}); }

OpEntry detail::registry_entry_add() {
  return {"add", Differentiable::twice, broadcast_examples(add),
          rebuild_of(add),
          {.operators = "Add"}};
}

}  // namespace dagrad
