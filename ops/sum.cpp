// sum: y = sum_ij x_ij (1x1).  dy/dx_ij = 1
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class Sum final : public OpBase<Sum> {
 public:
  std::string_view key() const override { return "sum"; }
  Shape infer(std::span<const Shape>) const override { return {1, 1}; }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    out(0, 0) = in[0]->sum();
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {broadcast(ctx.grad(), ctx.input(0))};
  }
};

}  // namespace

Node sum(Node x) { return x.graph().apply(std::make_shared<Sum>(), {x}); }

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_sum(OnnxWriter& w) {
  w.reduce("ReduceSum", w.in()[0], {}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_sum() {
  return {"sum", Differentiable::twice, {unary_example(sum)},
          rebuild_of(sum),
          {.operators = "ReduceSum",
           .write = onnx_sum}};
}

}  // namespace dagrad
