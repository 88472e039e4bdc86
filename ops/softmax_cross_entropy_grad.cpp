// softmax_cross_entropy_grad: y = dy * (softmax(x) - t) / M.  No gradient (a backward op).
// The gradient of softmax_cross_entropy wrt its logits x, for labels t and M rows.
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class SoftmaxCrossEntropyGrad final : public OpBase<SoftmaxCrossEntropyGrad> {
 public:
  std::string_view key() const override { return "softmax_cross_entropy_grad"; }

  Shape infer(std::span<const Shape> in) const override {
    check_1x1(in[2], "dy");
    return same_shape(in[0], in[1]);
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const ConstView<T>& t = *in[1];
    const T c = (*in[2])(0, 0) / static_cast<T>(x.rows());
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      // The row max taken out of the exponent so it cannot overflow.
      const T m = x.row(r).maxCoeff();
      out.row(r).array() = (x.row(r).array() - m).exp();
      const T s = out.row(r).sum();
      out.row(r).array() = c * (out.row(r).array() / s - t.row(r).array());
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // Fused for stability and speed, not differentiated further.
    for (std::size_t i = 0; i < 3; ++i) {
      if (ctx.needs(i)) no_gradient(ctx, i);
    }
    return std::vector<Node>(3);
  }
};

}  // namespace

Node softmax_cross_entropy_grad(Node logits, Node labels, Node dy) {
  logits.graph().check_owns(labels, "softmax_cross_entropy_grad");
  logits.graph().check_owns(dy, "softmax_cross_entropy_grad");
  return logits.graph().apply(std::make_shared<SoftmaxCrossEntropyGrad>(), {logits, labels, dy});
}

OpEntry detail::registry_entry_softmax_cross_entropy_grad() {
  return {"softmax_cross_entropy_grad", Differentiable::no,
          {{.inputs = {{{3, 4}, {}, false},
                       {{3, 4}, {.rows_sum_to_one = true}, false},
                       {{1, 1}, {}, false}},
            .build = [](const auto& in) { return softmax_cross_entropy_grad(in[0], in[1], in[2]); }}},
          rebuild_of(softmax_cross_entropy_grad)};
}

}  // namespace dagrad
