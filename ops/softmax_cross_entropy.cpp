// softmax_cross_entropy: L = -(1/M) sum_ij t_ij log softmax(x)_ij.  dL/dx = (softmax(x) - t) / M
// (1x1, M rows, labels t). Fused with softmax for stability: log-sum-exp, never log(0).
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

#include <cmath>

namespace dagrad {
namespace {

class SoftmaxCrossEntropy final : public OpBase<SoftmaxCrossEntropy> {
 public:
  std::string_view key() const override { return "softmax_cross_entropy"; }

  Shape infer(std::span<const Shape> in) const override {
    same_shape(in[0], in[1]);  // logits and labels
    return {1, 1};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const ConstView<T>& t = *in[1];
    T total = 0;
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      // log softmax(x)_j = x_j - logsumexp(x), with the row max taken out of
      // the exponent so it cannot overflow.
      const T m = x.row(r).maxCoeff();
      const T lse = m + std::log((x.row(r).array() - m).exp().sum());
      total += (t.row(r).array() * (x.row(r).array() - lse)).sum();
    }
    out(0, 0) = -total / static_cast<T>(x.rows());
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> g(2);
    if (ctx.needs(0)) g[0] = softmax_cross_entropy_grad(ctx.input(0), ctx.input(1), ctx.grad());
    if (ctx.needs(1)) no_gradient(ctx, 1);
    return g;
  }
};

}  // namespace

Node softmax_cross_entropy(Node logits, Node labels) {
  logits.graph().check_owns(labels, "softmax_cross_entropy");
  return logits.graph().apply(std::make_shared<SoftmaxCrossEntropy>(), {logits, labels});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_softmax_cross_entropy(OnnxWriter& w) {
  // -(1/M) sum_ij t_ij log softmax(x)_ij: each row's sum, their mean, negated.
  const std::string& out = w.out();
  const std::string ls = w.helper(out, "log_softmax"), prod = w.helper(out, "product"), rows = w.helper(out, "rows"),
                    mean = w.helper(out, "mean");
  w.along("LogSoftmax", w.in()[0], 1, ls);
  w.node("Mul", {w.in()[1], ls}, prod);
  w.reduce("ReduceSum", prod, {1}, rows);
  w.reduce("ReduceMean", rows, {0}, mean);
  w.node("Neg", {mean}, out);
}

}  // namespace

OpEntry detail::registry_entry_softmax_cross_entropy() {
  // Labels are rows of probabilities: the gradient (softmax - t) / M assumes
  // each row of t sums to 1. Its gradient op has none of its own.
  return {"softmax_cross_entropy", Differentiable::once,
          {binary_example(softmax_cross_entropy, {{3, 4}},
                          {{3, 4}, {.rows_sum_to_one = true}, /*differentiable=*/false})},
          rebuild_of(softmax_cross_entropy),
          {.operators = "LogSoftmax, Mul, ReduceSum, ReduceMean, Neg",
           .write = onnx_softmax_cross_entropy}};
}

}  // namespace dagrad
