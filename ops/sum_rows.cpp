// sum_rows: y_j = sum_i x_ij, the column sums (1xN).  dy_j/dx_ij = 1
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct SumRowsRule {
  static constexpr std::string_view key = "sum_rows", onnx = "ReduceSum";
  static constexpr Reduce over = Reduce::over_rows;
  void operator()(const auto& x, auto& y) const { y.noalias() = x.colwise().sum(); }
  Node grad(const GradContext& ctx) const { return broadcast(ctx.grad(), ctx.input(0)); }
};

}  // namespace

Node sum_rows(Node x) { return reduction(x, SumRowsRule{}); }

OpEntry detail::registry_entry_sum_rows() {
  return {"sum_rows", Differentiable::twice, {unary_example(sum_rows)}, rebuild_of(sum_rows),
          reduction_onnx<SumRowsRule>()};
}

}  // namespace dagrad
