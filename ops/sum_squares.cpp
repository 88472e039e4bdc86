// sum_squares: y = sum_ij x_ij^2 (1x1).  dy/dx = 2x, so dL/dx = x * (2 dL/dy)
// One node for sum(square(x)), as an L2 penalty needs: no x-sized square in
// the forward pass, and in the backward pass one x-sized product where
// sum and square took a broadcast, a scale and a product.
#include <dagrad/core/detail/dense_kernels.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

#include <string>

namespace dagrad {
namespace {

class SumSquares final : public OpBase<SumSquares> {
 public:
  std::string_view key() const override { return "sum_squares"; }
  Shape infer(std::span<const Shape>) const override { return {1, 1}; }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    // Eigen's reduction, built for the instruction set in use.
    out(0, 0) = detail::dense_kernels<T>().sum_squares(in[0]->data(), in[0]->size());
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // The 1x1 factor 2 dL/dy first, then one pass over x (mul broadcasts it).
    return {mul(ctx.input(0), scale(ctx.grad(), 2.0))};
  }

  std::string expression(std::span<const std::string> args) const override {
    return "sum(" + args[0] + "²)";
  }
};

}  // namespace

Node sum_squares(Node x) { return x.graph().apply(std::make_shared<SumSquares>(), {x}); }

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_sum_squares(OnnxWriter& w) {
  w.reduce("ReduceSumSquare", w.in()[0], {}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_sum_squares() {
  return {"sum_squares", Differentiable::twice, {unary_example(sum_squares)},
          rebuild_of(sum_squares),
          {.operators = "ReduceSumSquare",
           .write = onnx_sum_squares}};
}

}  // namespace dagrad
