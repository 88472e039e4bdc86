// square: y = x^2, elementwise.  dy/dx = 2x
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct SquareRule {
  static constexpr std::string_view key = "square";
  auto operator()(const auto& x) const { return x.square(); }
  Node grad(const GradContext& ctx) const { return mul(ctx.grad(), scale(ctx.input(0), 2.0)); }
};

}  // namespace

Node square(Node x) { return unary(x, SquareRule{}); }

OpEntry detail::registry_entry_square() {
  return {"square", Differentiable::twice, {unary_example(square)},
          rebuild_of(square),
          {.operators = "Mul (x by x)",
           .write = [](OnnxWriter& w) {
             w.node("Mul", {w.in()[0], w.in()[0]}, w.out());
           }}};
}

}  // namespace dagrad
