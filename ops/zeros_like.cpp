// zeros_like: y = 0 in like's shape.  dy/d(like) = 0
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class ZerosLike final : public OpBase<ZerosLike> {
 public:
  std::string_view key() const override { return "zeros_like"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }
  // Only like's shape: the node runs without waiting for like's value.
  std::vector<std::size_t> shape_only_inputs() const override { return {0}; }

  template <class T>
  void kernel(Inputs<T>, View<T> out) const {
    out.setZero();
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // The output never depends on like's values: a true zero, declared explicitly.
    return {zeros_like(ctx.input(0))};
  }
};

}  // namespace

Node zeros_like(Node like) { return like.graph().apply(std::make_shared<ZerosLike>(), {like}); }

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_zeros_like(OnnxWriter& w) {
  const std::string shape = w.helper(w.out(), "shape");
  w.node("Shape", {w.in()[0]}, shape);
  w.node("ConstantOfShape", {shape}, w.out()).tensor_attr("value", 0.0f);
}

}  // namespace

OpEntry detail::registry_entry_zeros_like() {
  return {"zeros_like", Differentiable::twice, {unary_example(zeros_like)},
          rebuild_of(zeros_like),
          {.operators = "Shape, ConstantOfShape",
           .write = onnx_zeros_like}};
}

}  // namespace dagrad
