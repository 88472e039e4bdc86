// gelu_grad: z = dy * gelu'(x).  dz/d(dy) = gelu'(x), dz/dx = dy * gelu''(x);
// exact form: gelu' = Phi + x phi, gelu'' = phi (2 - x^2); tanh form with
// u = k (x + c x^3), t = tanh u: gelu' = (1 + t)/2 + x (1 - t^2) u'/2,
// gelu'' = (1 - t^2) (u' - x t u'^2 + x u''/2).
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

#include <unsupported/Eigen/SpecialFunctions>

#include <cmath>
#include <type_traits>

namespace dagrad {
namespace {

constexpr double k = 0.7978845608028654;          // sqrt(2/pi)
constexpr double c = 0.044715;                    // PyTorch's cubic coefficient
constexpr double inv_sqrt_2pi = 0.3989422804014327;  // 1/sqrt(2 pi)

// gelu'(x) for one element, in either form.
template <class T>
struct GeluSlope {
  bool tanh_form;
  T operator()(T x) const {
    if (tanh_form) {
      const T t = std::tanh(T(k) * (x + T(c) * x * x * x));
      const T du = T(k) * (T(1) + T(3 * c) * x * x);
      return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
    }
    const T cdf = T(0.5) * std::erfc(-x * T(0.7071067811865476));
    return cdf + x * T(inv_sqrt_2pi) * std::exp(T(-0.5) * x * x);
  }
};

// gelu''(x) as nodes, so the gradient of gelu_grad is differentiable too.
Node second_derivative(Node x, GeluApproximation approximate) {
  const Node x2 = square(x);
  if (approximate == GeluApproximation::none) {
    const Node density = scale(exp(scale(x2, -0.5)), inv_sqrt_2pi);
    return mul(density, shift(scale(x2, -1.0), 2.0));
  }
  const Node t = tanh(scale(add(x, scale(mul(x, x2), c)), k));
  const Node du = shift(scale(x2, 3.0 * c * k), k);
  const Node d2u = scale(x, 6.0 * c * k);
  const Node slope_of_tanh = shift(scale(square(t), -1.0), 1.0);
  const Node inner = add(sub(du, mul(mul(x, t), square(du))), scale(mul(x, d2u), 0.5));
  return mul(slope_of_tanh, inner);
}

// The form is part of the rule's type, as gelu's (gelu.cpp): one
// expression type each, written straight into the output.
template <bool Tanh>
struct GeluGradRule {
  static constexpr std::string_view key = "gelu_grad";
  static constexpr bool broadcasts = false;

  template <class X, class DY>
  auto operator()(const X& x, const DY& dy) const {
    using T = typename X::Scalar;
    if constexpr (std::is_same_v<T, float>) {
      // float: vectorized erf, exp and tanh, as gelu's forward (gelu.cpp).
      if constexpr (Tanh) {
        // t appears twice and is computed for each (the same bits both
        // times), rather than kept in a temporary.
        const auto t = (T(k) * (x + T(c) * x * x * x)).tanh();
        const auto du = T(k) * (T(1) + T(3 * c) * x * x);
        return dy * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
      } else {
        const auto cdf = T(0.5) * (T(1) + (x * T(0.7071067811865476)).erf());
        return dy * (cdf + x * T(inv_sqrt_2pi) * (T(-0.5) * x * x).exp());
      }
    } else {
      return dy * x.unaryExpr(GeluSlope<T>{Tanh});
    }
  }
  static GeluApproximation approximate() { return Tanh ? GeluApproximation::tanh : GeluApproximation::none; }
  Node grad(const GradContext& ctx, std::size_t i) const {
    const Node x = ctx.input(0), dy = ctx.input(1);
    if (i == 0) return mul(mul(ctx.grad(), dy), second_derivative(x, approximate()));
    return gelu_grad(x, ctx.grad(), approximate());
  }
  Attributes attributes() const { return {{"approximate_tanh", std::int64_t{Tanh}}}; }
  std::string label() const { return Tanh ? "gelu_grad tanh" : "gelu_grad"; }
};

}  // namespace

Node gelu_grad(Node x, Node dy, GeluApproximation approximate) {
  if (approximate == GeluApproximation::tanh) return binary(x, dy, GeluGradRule<true>{});
  return binary(x, dy, GeluGradRule<false>{});
}

OpEntry detail::registry_entry_gelu_grad() {
  const auto exact = [](const auto& in) { return gelu_grad(in[0], in[1], GeluApproximation::none); };
  const auto tanh_form = [](const auto& in) { return gelu_grad(in[0], in[1], GeluApproximation::tanh); };
  const ExampleInput x{{2, 3}, {.low = -3.0, .high = 3.0}}, dy{{2, 3}};
  return {"gelu_grad", Differentiable::twice,
          {{.inputs = {x, dy}, .build = exact}, {.inputs = {x, dy}, .build = tanh_form}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            const bool tanh_form = a.flag("approximate_tanh");
            return gelu_grad(in[0], in[1], tanh_form ? GeluApproximation::tanh : GeluApproximation::none);
          }};
}

}  // namespace dagrad
