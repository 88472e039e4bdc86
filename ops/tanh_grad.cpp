// tanh_grad: z = dy*(1-y^2) from tanh's output y.  dz/dy = -2*y*dy, dz/d(dy) = 1-y^2
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct TanhGradRule {
  static constexpr std::string_view key = "tanh_grad";
  static constexpr bool broadcasts = false;
  template <class Y, class DY>
  auto operator()(const Y& y, const DY& dy) const {
    using T = typename Y::Scalar;
    return dy * (T(1) - y.square());
  }
  Node grad(const GradContext& ctx, std::size_t i) const {
    const Node y = ctx.input(0), dy = ctx.input(1);
    if (i == 0) return mul(mul(ctx.grad(), dy), scale(y, -2.0));
    return tanh_grad(y, ctx.grad());
  }
};

}  // namespace

Node tanh_grad(Node y, Node dy) { return binary(y, dy, TanhGradRule{}); }

OpEntry detail::registry_entry_tanh_grad() {
  // y is a tanh's output, in (-1, 1).
  return {"tanh_grad", Differentiable::twice,
          {binary_example(tanh_grad, {{2, 3}, {.low = -0.95, .high = 0.95}}, {{2, 3}})},
          rebuild_of(tanh_grad)};
}

}  // namespace dagrad
