// binary_cross_entropy: L = mean of -(t log s + (1-t) log(1-s)), s = sigmoid(x) (1x1).  dL/dx = (s - t) / N, dL/dt = -x / N
// From logits x and labels t, over all N elements, computed as
// max(x, 0) - x t + log(1 + e^-|x|): e^ never overflows and log never sees 0.
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class BinaryCrossEntropy final : public OpBase<BinaryCrossEntropy> {
 public:
  std::string_view key() const override { return "binary_cross_entropy"; }

  Shape infer(std::span<const Shape> in) const override {
    same_shape(in[0], in[1]);  // logits and labels
    return {1, 1};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const auto x = in[0]->array();
    const auto t = in[1]->array();
    out(0, 0) = (x.max(T(0)) - x * t + (-x.abs()).exp().log1p()).sum() / static_cast<T>(x.size());
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // dL/N repeated to the inputs' shape (N known only at run time).
    const Node x = ctx.input(0), t = ctx.input(1);
    std::vector<Node> g(2);
    if (ctx.needs(0)) g[0] = mul(mean_grad(ctx.grad(), x), sub(sigmoid(x), t));
    if (ctx.needs(1)) g[1] = mul(mean_grad(ctx.grad(), t), scale(x, -1.0));
    return g;
  }
};

}  // namespace

Node binary_cross_entropy(Node logits, Node labels) {
  logits.graph().check_owns(labels, "binary_cross_entropy");
  return logits.graph().apply(std::make_shared<BinaryCrossEntropy>(), {logits, labels});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_binary_cross_entropy(OnnxWriter& w) {
  // max(x, 0) - x t + log(1 + e^-|x|), averaged: the op's own stable form.
  const std::string& out = w.out();
  const std::vector<std::string>& in = w.in();
  const std::string pos = w.helper(out, "relu"), xt = w.helper(out, "xt"), lin = w.helper(out, "linear"),
                    ab = w.helper(out, "abs"), neg = w.helper(out, "neg"), sp = w.helper(out, "softplus"),
                    all = w.helper(out, "elements");
  w.node("Relu", {in[0]}, pos);
  w.node("Mul", {in[0], in[1]}, xt);
  w.node("Sub", {pos, xt}, lin);
  w.node("Abs", {in[0]}, ab);
  w.node("Neg", {ab}, neg);
  w.node("Softplus", {neg}, sp);
  w.node("Add", {lin, sp}, all);
  w.reduce("ReduceMean", all, {}, out);
}

}  // namespace

OpEntry detail::registry_entry_binary_cross_entropy() {
  return {"binary_cross_entropy", Differentiable::twice,
          {binary_example(binary_cross_entropy, {{3, 2}, {.low = -3.0, .high = 3.0}},
                          {{3, 2}, {.low = 0.0, .high = 1.0}})},
          rebuild_of(binary_cross_entropy),
          {.operators = "Relu, Mul, Sub, Abs, Neg, Softplus, Add, ReduceMean",
           .write = onnx_binary_cross_entropy}};
}

}  // namespace dagrad
