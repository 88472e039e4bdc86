// leaky_relu: y = x where x > 0, else slope * x, elementwise.  dy/dx = 1 where x > 0, else slope
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

#include <cmath>
#include <sstream>

namespace dagrad {
namespace {

struct LeakyReluRule {
  static constexpr std::string_view key = "leaky_relu";
  double slope;
  Attributes attributes() const { return {{"slope", slope}}; }

  template <class X>
  auto operator()(const X& x) const {
    using T = typename X::Scalar;
    return (x > T(0)).select(x, x * static_cast<T>(slope));
  }
  // slope * dy everywhere, plus (1 - slope) * dy where x > 0: relu's mask, reused.
  Node grad(const GradContext& ctx) const {
    return add(scale(ctx.grad(), slope), scale(relu_grad(ctx.input(0), ctx.grad()), 1.0 - slope));
  }

  std::string label() const {
    std::ostringstream s;
    s << "leaky_relu slope " << slope;
    return s.str();
  }
};

}  // namespace

Node leaky_relu(Node x, double slope) {
  if (!std::isfinite(slope)) {
    throw GraphError("leaky_relu of '" + x.name() + "': the slope must be a finite number, not " +
                     std::to_string(slope));
  }
  return unary(x, LeakyReluRule{slope});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_leaky_relu(OnnxWriter& w) {
  w.node("LeakyRelu", w.in(), w.out()).attr("alpha", static_cast<float>(w.attributes().real("slope")));
}

}  // namespace

OpEntry detail::registry_entry_leaky_relu() {
  // Clear of the kink at 0.
  return {"leaky_relu", Differentiable::twice,
          {{.inputs = {{{2, 3}, {.gap = 0.2}}}, .build = [](const auto& in) { return leaky_relu(in[0], 0.1); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            return leaky_relu(in[0], a.real("slope"));
          },
          {.operators = "LeakyRelu",
           .write = onnx_leaky_relu}};
}

}  // namespace dagrad
