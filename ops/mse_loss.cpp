// mse_loss: L = (1/N) sum_ij (p_ij - t_ij)^2 over all N elements (1x1).  dL/dp = 2 (p - t) / N = -dL/dt
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class MseLoss final : public OpBase<MseLoss> {
 public:
  std::string_view key() const override { return "mse_loss"; }

  Shape infer(std::span<const Shape> in) const override {
    same_shape(in[0], in[1]);  // predictions and targets
    return {1, 1};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    out(0, 0) = (*in[0] - *in[1]).squaredNorm() / static_cast<T>(in[0]->size());
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // dL/N repeated to the inputs' shape (N known only at run time), times 2 (p - t).
    const Node p = ctx.input(0), t = ctx.input(1);
    const Node dp = mul(mean_grad(ctx.grad(), p), scale(sub(p, t), 2.0));
    std::vector<Node> g(2);
    if (ctx.needs(0)) g[0] = dp;
    if (ctx.needs(1)) g[1] = scale(dp, -1.0);
    return g;
  }
};

}  // namespace

Node mse_loss(Node predictions, Node targets) {
  predictions.graph().check_owns(targets, "mse_loss");
  return predictions.graph().apply(std::make_shared<MseLoss>(), {predictions, targets});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_mse_loss(OnnxWriter& w) {
  const std::string d = w.helper(w.out(), "difference"), sq = w.helper(w.out(), "squares");
  w.node("Sub", w.in(), d);
  w.node("Mul", {d, d}, sq);
  w.reduce("ReduceMean", sq, {}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_mse_loss() {
  return {"mse_loss", Differentiable::twice, {binary_example(mse_loss, {{3, 2}}, {{3, 2}})},
          rebuild_of(mse_loss),
          {.operators = "Sub, Mul, ReduceMean",
           .write = onnx_mse_loss}};
}

}  // namespace dagrad
