// sum_cols: y_i = sum_j x_ij, the row sums (Mx1).  dy_i/dx_ij = 1
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class SumCols final : public OpBase<SumCols> {
 public:
  std::string_view key() const override { return "sum_cols"; }
  Shape infer(std::span<const Shape> in) const override { return {in[0].rows, 1}; }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    out.noalias() = in[0]->rowwise().sum();
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {broadcast(ctx.grad(), ctx.input(0))};
  }
};

}  // namespace

Node sum_cols(Node x) { return x.graph().apply(std::make_shared<SumCols>(), {x}); }

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_sum_cols(OnnxWriter& w) {
  w.reduce("ReduceSum", w.in()[0], {1}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_sum_cols() {
  return {"sum_cols", Differentiable::twice, {unary_example(sum_cols)},
          rebuild_of(sum_cols),
          {.operators = "ReduceSum (axis 1)",
           .write = onnx_sum_cols}};
}

}  // namespace dagrad
