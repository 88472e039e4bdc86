// pow: y = x^p for a constant exponent p, elementwise.  dy/dx = p * x^(p-1)
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

#include <cmath>
#include <sstream>

namespace dagrad {
namespace {

struct PowRule {
  static constexpr std::string_view key = "pow";
  double exponent;

  // std::pow element by element: Eigen 3.4's vector pow trips GCC 12's
  // -Wuninitialized inside its AVX-512 intrinsics, and the build has no warnings.
  template <class X>
  auto operator()(const X& x) const {
    using T = typename X::Scalar;
    return x.unaryExpr([p = static_cast<T>(exponent)](T v) { return std::pow(v, p); });
  }
  // A pow node again, so the gradient is itself differentiable.
  Node grad(const GradContext& ctx) const {
    return mul(ctx.grad(), scale(pow(ctx.input(0), exponent - 1.0), exponent));
  }
  Attributes attributes() const { return {{"exponent", exponent}}; }

  std::string label() const {
    std::ostringstream s;
    s << "pow ^" << exponent;
    return s.str();
  }
  std::string expression(std::span<const std::string> args) const {
    std::ostringstream s;
    s << args[0] << "^" << exponent;
    return s.str();
  }
};

}  // namespace

Node pow(Node x, double exponent) {
  if (!std::isfinite(exponent)) {
    throw GraphError("pow of '" + x.name() + "': the exponent must be a finite number, not " +
                     std::to_string(exponent));
  }
  return unary(x, PowRule{exponent});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_pow(OnnxWriter& w) {
  w.node("Pow", {w.in()[0], w.scalar(w.out(), "exponent", w.attributes().real("exponent"))}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_pow() {
  // A whole exponent over negative and positive x; a fractional one where
  // it is defined (x > 0), away from the pole of its derivative at 0.
  const auto cube = [](const auto& in) { return pow(in[0], 3.0); };
  const auto power = [](const auto& in) { return pow(in[0], 1.5); };
  const auto inverse = [](const auto& in) { return pow(in[0], -2.0); };
  return {"pow", Differentiable::twice,
          {{.inputs = {{{2, 3}}}, .build = cube},
           {.inputs = {{{2, 3}, {.low = 0.3, .high = 2.0}}}, .build = power},
           {.inputs = {{{2, 3}, {.gap = 0.4}}}, .build = inverse}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            return pow(in[0], a.real("exponent"));
          },
          {.operators = "Pow (by a scalar initializer)",
           .write = onnx_pow}};
}

}  // namespace dagrad
