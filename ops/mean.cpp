// mean: y = sum_ij x_ij / (rows * cols) (1x1).  dy/dx_ij = 1 / (rows * cols)
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class Mean final : public OpBase<Mean> {
 public:
  std::string_view key() const override { return "mean"; }
  Shape infer(std::span<const Shape>) const override { return {1, 1}; }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    out(0, 0) = in[0]->mean();
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // The element count is only known at run time (rows may be the batch).
    return {mean_grad(ctx.grad(), ctx.input(0))};
  }
};

}  // namespace

Node mean(Node x) { return x.graph().apply(std::make_shared<Mean>(), {x}); }

OpEntry detail::registry_entry_mean() {
  return {"mean", Differentiable::twice, {unary_example(mean)},
          rebuild_of(mean)};
}

}  // namespace dagrad
