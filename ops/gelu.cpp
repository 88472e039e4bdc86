// gelu: y = x * Phi(x), elementwise, Phi the standard normal CDF (or PyTorch's
// tanh approximation of it).  dy/dx = Phi(x) + x * phi(x), phi the normal density
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

#include <unsupported/Eigen/SpecialFunctions>

#include <cmath>
#include <type_traits>

namespace dagrad {
namespace {

// One element of gelu in either form.
template <class T>
struct GeluOf {
  bool tanh_form;
  T operator()(T x) const {
    if (tanh_form) {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as PyTorch writes it.
      const T u = T(0.7978845608028654) * (x + T(0.044715) * x * x * x);
      return T(0.5) * x * (T(1) + std::tanh(u));
    }
    // Phi(x) = erfc(-x/sqrt 2) / 2 rather than (1 + erf(x/sqrt 2)) / 2: for
    // x well below 0, 1 + erf cancels to nothing while erfc keeps its digits.
    return T(0.5) * x * std::erfc(-x * T(0.7071067811865476));
  }
};

// The form is part of the rule's type, so that each returns one expression
// type and the float kernels write straight into the output (a rule
// returning either form would have to evaluate into a temporary).
template <bool Tanh>
struct GeluRule {
  static constexpr std::string_view key = "gelu";

  template <class X>
  auto operator()(const X& x) const {
    using T = typename X::Scalar;
    if constexpr (std::is_same_v<T, float>) {
      // float, what training runs in: Eigen's vectorized erf and tanh (a
      // rational approximation each, within a few ulp), a pass over memory
      // as fast as exp's. 1 + erf loses the digits of Phi far below 0, as
      // PyTorch's float GELU does; they are ~1e-7 of |x| there.
      if constexpr (Tanh) {
        return T(0.5) * x * (T(1) + (T(0.7978845608028654) * (x + T(0.044715) * x * x * x)).tanh());
      } else {
        return T(0.5) * x * (T(1) + (x * T(0.7071067811865476)).erf());
      }
    } else {
      return x.unaryExpr(GeluOf<T>{Tanh});
    }
  }
  static GeluApproximation approximate() { return Tanh ? GeluApproximation::tanh : GeluApproximation::none; }
  Node grad(const GradContext& ctx) const { return gelu_grad(ctx.input(0), ctx.grad(), approximate()); }
  Attributes attributes() const { return {{"approximate_tanh", std::int64_t{Tanh}}}; }
  std::string label() const { return Tanh ? "gelu tanh" : "gelu"; }
};

}  // namespace

Node gelu(Node x, GeluApproximation approximate) {
  if (approximate == GeluApproximation::tanh) return unary(x, GeluRule<true>{});
  return unary(x, GeluRule<false>{});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_gelu(OnnxWriter& w) {
  // x Phi(x) as x (1 + erf(x / sqrt 2)) / 2, or PyTorch's tanh form
  // x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2: Gelu itself is opset 20.
  const std::string& x = w.in()[0];
  const std::string& out = w.out();
  const std::string inner = w.helper(out, "inner"), bend = w.helper(out, "bend"),
                    one_plus = w.helper(out, "one_plus"), product = w.helper(out, "product");
  if (w.attributes().flag("approximate_tanh")) {
    const std::string square = w.helper(out, "square"), cube = w.helper(out, "cube"), cubic = w.helper(out, "cubic"),
                      sum = w.helper(out, "sum");
    w.node("Mul", {x, x}, square);
    w.node("Mul", {square, x}, cube);
    w.node("Mul", {cube, w.scalar(out, "c", 0.044715)}, cubic);
    w.node("Add", {x, cubic}, sum);
    w.node("Mul", {sum, w.scalar(out, "k", 0.7978845608028654)}, inner);
    w.node("Tanh", {inner}, bend);
  } else {
    w.node("Mul", {x, w.scalar(out, "inv_sqrt2", 0.7071067811865476)}, inner);
    w.node("Erf", {inner}, bend);
  }
  w.node("Add", {bend, w.scalar(out, "one", 1.0)}, one_plus);
  w.node("Mul", {x, one_plus}, product);
  w.node("Mul", {product, w.scalar(out, "half", 0.5)}, out);
}

}  // namespace

OpEntry detail::registry_entry_gelu() {
  const auto exact = [](const auto& in) { return gelu(in[0]); };
  const auto tanh_form = [](const auto& in) { return gelu(in[0], GeluApproximation::tanh); };
  return {"gelu", Differentiable::twice,
          {{.inputs = {{{2, 3}, {.low = -3.0, .high = 3.0}}}, .build = exact},
           {.inputs = {{{2, 3}, {.low = -3.0, .high = 3.0}}}, .build = tanh_form}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            return gelu(in[0], a.flag("approximate_tanh") ? GeluApproximation::tanh : GeluApproximation::none);
          },
          {.operators = "Mul, Erf, Add, Mul (exact); Mul, Add, Tanh, Mul (tanh form)",
           .write = onnx_gelu}};
}

}  // namespace dagrad
