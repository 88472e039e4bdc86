// relu_grad: z = dy where x > 0, else 0.  dz/dx = 0 (almost everywhere), dz/d(dy) = [x > 0]
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

#include <bit>
#include <cstdint>
#include <type_traits>

namespace dagrad {
namespace {

// dy's bits where x > 0, else +0: an AND with a compare mask. Eigen 3.4's
// select() is scalar code with a branch per element, which only an AVX-512
// compiler turns into vector code; this functor is vector code on any
// instruction set (docs/benchmarks.md).
template <class T>
struct KeepWherePositive {
  T operator()(const T& x, const T& dy) const {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    const Bits keep = Bits{0} - static_cast<Bits>(x > T(0));
    return std::bit_cast<T>(std::bit_cast<Bits>(dy) & keep);
  }
  template <class Packet>
  Packet packetOp(const Packet& x, const Packet& dy) const {
    using namespace Eigen::internal;
    return pand(pcmp_lt(pzero(x), x), dy);
  }
};

}  // namespace
}  // namespace dagrad

template <class T>
struct Eigen::internal::functor_traits<dagrad::KeepWherePositive<T>> {
  enum { Cost = 2, PacketAccess = true };
};

namespace dagrad {
namespace {

struct ReluGradRule {
  static constexpr std::string_view key = "relu_grad";
  static constexpr bool broadcasts = false;
  template <class X, class DY>
  auto operator()(const X& x, const DY& dy) const {
    using T = typename X::Scalar;
    return x.binaryExpr(dy, KeepWherePositive<T>());
  }
  Node grad(const GradContext& ctx, std::size_t i) const {
    const Node x = ctx.input(0);
    // The step in x is flat except at 0: its true derivative, declared explicitly.
    if (i == 0) return zeros_like(x);
    return relu_grad(x, ctx.grad());
  }
};

}  // namespace

Node relu_grad(Node x, Node dy) { return binary(x, dy, ReluGradRule{}); }

OpEntry detail::registry_entry_relu_grad() {
  // x clear of the step at 0.
  return {"relu_grad", Differentiable::twice,
          {binary_example(relu_grad, {{2, 3}, {.gap = 0.2}}, {{2, 3}})},
          rebuild_of(relu_grad)};
}

}  // namespace dagrad
