// scale: y = c * x for a constant c.  dy/dx = c
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

#include <sstream>

namespace dagrad {
namespace {

struct ScaleRule {
  static constexpr std::string_view key = "scale";
  double factor;

  template <class X>
  auto operator()(const X& x) const {
    return x * static_cast<typename X::Scalar>(factor);
  }
  Node grad(const GradContext& ctx) const { return scale(ctx.grad(), factor); }
  double factor_of() const { return factor; }
  Attributes attributes() const { return {{"factor", factor}}; }

  std::string label() const {
    std::ostringstream s;
    s << "scale ×" << factor;
    return s.str();
  }
  std::string expression(std::span<const std::string> args) const {
    std::ostringstream s;
    s << factor << " * " << args[0];
    return s.str();
  }
};

}  // namespace

Node scale(Node x, double factor) { return unary(x, ScaleRule{factor}); }

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_scale(OnnxWriter& w) {
  w.node("Mul", {w.in()[0], w.scalar(w.out(), "factor", w.attributes().real("factor"))}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_scale() {
  return {"scale", Differentiable::twice,
          {{.inputs = {{{2, 3}}}, .build = [](const auto& in) { return scale(in[0], -1.5); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            return scale(in[0], a.real("factor"));
          },
          {.operators = "Mul (by a scalar initializer)",
           .write = onnx_scale}};
}

}  // namespace dagrad
