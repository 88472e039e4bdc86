// sum_cols: y_i = sum_j x_ij, the row sums (Mx1).  dy_i/dx_ij = 1
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct SumColsRule {
  static constexpr std::string_view key = "sum_cols", onnx = "ReduceSum";
  static constexpr Reduce over = Reduce::over_cols;
  void operator()(const auto& x, auto& y) const { y.noalias() = x.rowwise().sum(); }
  Node grad(const GradContext& ctx) const { return broadcast(ctx.grad(), ctx.input(0)); }
};

}  // namespace

Node sum_cols(Node x) { return reduction(x, SumColsRule{}); }

OpEntry detail::registry_entry_sum_cols() {
  return {"sum_cols", Differentiable::twice, {unary_example(sum_cols)}, rebuild_of(sum_cols),
          reduction_onnx<SumColsRule>()};
}

}  // namespace dagrad
