// rsqrt: y = x^(-1/2), elementwise (x > 0).  dy/dx = -y / (2x) = -y^3 / 2
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct RsqrtRule {
  static constexpr std::string_view key = "rsqrt";
  auto operator()(const auto& x) const { return x.rsqrt(); }
  // Reuses the forward output: dL/dx = dL/dy * (-0.5) * y / x.
  Node grad(const GradContext& ctx) const {
    return div(mul(scale(ctx.grad(), -0.5), ctx.output()), ctx.input(0));
  }
};

}  // namespace

Node rsqrt(Node x) { return unary(x, RsqrtRule{}); }

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_rsqrt(OnnxWriter& w) {
  const std::string root = w.helper(w.out(), "sqrt");
  w.node("Sqrt", w.in(), root);
  w.node("Reciprocal", {root}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_rsqrt() {
  // Inside the domain, away from the pole at 0.
  return {"rsqrt", Differentiable::twice, {unary_example(rsqrt, {.low = 0.3, .high = 2.0})},
          rebuild_of(rsqrt),
          {.operators = "Sqrt, Reciprocal",
           .write = onnx_rsqrt}};
}

}  // namespace dagrad
