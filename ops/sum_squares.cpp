// sum_squares: y = sum_ij x_ij^2 (1x1).  dy/dx = 2x, so dL/dx = x * (2 dL/dy)
// One node for sum(square(x)), as an L2 penalty needs: no x-sized square in
// the forward pass, and in the backward pass one x-sized product where
// sum and square took a broadcast, a scale and a product.
#include <dagrad/core/detail/dense_kernels.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

#include <string>

namespace dagrad {
namespace {

struct SumSquaresRule {
  static constexpr std::string_view key = "sum_squares", onnx = "ReduceSumSquare";
  static constexpr Reduce over = Reduce::all;
  // Eigen's reduction, built for the instruction set in use.
  void operator()(const auto& x, auto& y) const {
    using T = typename std::decay_t<decltype(x)>::Scalar;
    y(0, 0) = detail::dense_kernels<T>().sum_squares(x.data(), x.size());
  }
  // The 1x1 factor 2 dL/dy first, then one pass over x (mul broadcasts it).
  Node grad(const GradContext& ctx) const { return mul(ctx.input(0), scale(ctx.grad(), 2.0)); }
  std::string expression(std::span<const std::string> args) const { return "sum(" + args[0] + "²)"; }
};

}  // namespace

Node sum_squares(Node x) { return reduction(x, SumSquaresRule{}); }

OpEntry detail::registry_entry_sum_squares() {
  return {"sum_squares", Differentiable::twice, {unary_example(sum_squares)}, rebuild_of(sum_squares),
          reduction_onnx<SumSquaresRule>()};
}

}  // namespace dagrad
