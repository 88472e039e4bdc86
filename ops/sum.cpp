// sum: y = sum_ij x_ij (1x1).  dy/dx_ij = 1
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct SumRule {
  static constexpr std::string_view key = "sum", onnx = "ReduceSum";
  static constexpr Reduce over = Reduce::all;
  void operator()(const auto& x, auto& y) const { y(0, 0) = x.sum(); }
  Node grad(const GradContext& ctx) const { return broadcast(ctx.grad(), ctx.input(0)); }
};

}  // namespace

Node sum(Node x) { return reduction(x, SumRule{}); }

OpEntry detail::registry_entry_sum() {
  return {"sum", Differentiable::twice, {unary_example(sum)}, rebuild_of(sum), reduction_onnx<SumRule>()};
}

}  // namespace dagrad
