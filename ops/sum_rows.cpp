// sum_rows: y_j = sum_i x_ij, the column sums (1xN).  dy_j/dx_ij = 1
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class SumRows final : public OpBase<SumRows> {
 public:
  std::string_view key() const override { return "sum_rows"; }
  Shape infer(std::span<const Shape> in) const override { return {1, in[0].cols}; }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    out.noalias() = in[0]->colwise().sum();
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {broadcast(ctx.grad(), ctx.input(0))};
  }
};

}  // namespace

Node sum_rows(Node x) { return x.graph().apply(std::make_shared<SumRows>(), {x}); }

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_sum_rows(OnnxWriter& w) {
  w.reduce("ReduceSum", w.in()[0], {0}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_sum_rows() {
  return {"sum_rows", Differentiable::twice, {unary_example(sum_rows)},
          rebuild_of(sum_rows),
          {.operators = "ReduceSum (axis 0)",
           .write = onnx_sum_rows}};
}

}  // namespace dagrad
