// identity: y = x.  dy/dx = 1
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct IdentityRule {
  static constexpr std::string_view key = "identity";
  auto operator()(const auto& x) const { return x; }
  Node grad(const GradContext& ctx) const { return ctx.grad(); }
};

}  // namespace

Node identity(Node x) { return unary(x, IdentityRule{}); }

OpEntry detail::registry_entry_identity() {
  return {"identity", Differentiable::twice, {unary_example(identity)},
          rebuild_of(identity),
          {.operators = "Identity"}};
}

}  // namespace dagrad
