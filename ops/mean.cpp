// mean: y = sum_ij x_ij / (rows * cols) (1x1).  dy/dx_ij = 1 / (rows * cols)
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct MeanRule {
  static constexpr std::string_view key = "mean", onnx = "ReduceMean";
  static constexpr Reduce over = Reduce::all;
  void operator()(const auto& x, auto& y) const { y(0, 0) = x.mean(); }
  // The element count is only known at run time (rows may be the batch).
  Node grad(const GradContext& ctx) const { return mean_grad(ctx.grad(), ctx.input(0)); }
};

}  // namespace

Node mean(Node x) { return reduction(x, MeanRule{}); }

OpEntry detail::registry_entry_mean() {
  return {"mean", Differentiable::twice, {unary_example(mean)}, rebuild_of(mean), reduction_onnx<MeanRule>()};
}

}  // namespace dagrad
