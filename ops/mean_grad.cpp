// mean_grad: y = dy / (rows * cols of like), repeated to like's shape.  dy/d(dy) = 1 / size(like)
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class MeanGrad final : public OpBase<MeanGrad> {
 public:
  std::string_view key() const override { return "mean_grad"; }

  Shape infer(std::span<const Shape> in) const override {
    check_1x1(in[0], "dy");
    return in[1];
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    // The size is the run-time one: like's rows may be the batch.
    out.setConstant((*in[0])(0, 0) / static_cast<T>(out.size()));
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> g(2);
    if (ctx.needs(0)) g[0] = mean(ctx.grad());
    // Only like's shape is read, never its values.
    if (ctx.needs(1)) g[1] = zeros_like(ctx.input(1));
    return g;
  }
};

}  // namespace

Node mean_grad(Node dy, Node like) {
  dy.graph().check_owns(like, "mean_grad");
  return dy.graph().apply(std::make_shared<MeanGrad>(), {dy, like});
}

OpEntry detail::registry_entry_mean_grad() {
  return {"mean_grad", Differentiable::twice, {binary_example(mean_grad, {{1, 1}}, {{2, 3}})},
          rebuild_of(mean_grad)};
}

}  // namespace dagrad
