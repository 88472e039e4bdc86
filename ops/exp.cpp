// exp: y = e^x, elementwise.  dy/dx = y
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

#include <cmath>

namespace dagrad {
namespace {

// e^x, and exactly 0 below the smallest x whose e^x is not 0 (-inf
// included): Eigen's vector exp clamps its input, so without AVX-512 its
// e^-inf is 5.6e-309 in double rather than 0. NaN stays NaN.
template <class T>
struct ExpOrZero {
  static constexpr T underflow = sizeof(T) == 4 ? T(-103.972084) : T(-745.1332191019412);
  T operator()(const T& x) const { return std::exp(x); }
  template <class Packet>
  Packet packetOp(const Packet& x) const {
    using namespace Eigen::internal;
    return pand(pcmp_lt_or_nan(pset1<Packet>(underflow), x), pexp(x));
  }
};

}  // namespace
}  // namespace dagrad

template <class T>
struct Eigen::internal::functor_traits<dagrad::ExpOrZero<T>> {
  enum {
    Cost = functor_traits<scalar_exp_op<T>>::Cost + 2,
    PacketAccess = functor_traits<scalar_exp_op<T>>::PacketAccess
  };
};

namespace dagrad {
namespace {

struct ExpRule {
  static constexpr std::string_view key = "exp";
  template <class X>
  auto operator()(const X& x) const {
    return x.unaryExpr(ExpOrZero<typename X::Scalar>());
  }
  // Reuses the forward output: d(e^x)/dx = e^x = y.
  Node grad(const GradContext& ctx) const { return mul(ctx.grad(), ctx.output()); }
};

}  // namespace

Node exp(Node x) { return unary(x, ExpRule{}); }

OpEntry detail::registry_entry_exp() {
  return {"exp", Differentiable::twice, {unary_example(exp)},
          rebuild_of(exp),
          {.operators = "Exp"}};
}

}  // namespace dagrad
