// exp: y = e^x, elementwise.  dy/dx = y
#include <dagrad/detail/op_list.hpp>
#include <dagrad/op_family.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

struct ExpRule {
  static constexpr std::string_view key = "exp";
  auto operator()(const auto& x) const { return x.exp(); }
  // Reuses the forward output: d(e^x)/dx = e^x = y.
  Node grad(const GradContext& ctx) const { return mul(ctx.grad(), ctx.output()); }
};

}  // namespace

Node exp(Node x) { return unary(x, ExpRule{}); }

OpEntry detail::registry_entry_exp() {
  return {"exp", Differentiable::twice, {unary_example(exp)}};
}

}  // namespace dagrad
