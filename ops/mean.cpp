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

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_mean(OnnxWriter& w) {
  w.reduce("ReduceMean", w.in()[0], {}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_mean() {
  return {"mean", Differentiable::twice, {unary_example(mean)},
          rebuild_of(mean),
          {.operators = "ReduceMean",
           .write = onnx_mean}};
}

}  // namespace dagrad
