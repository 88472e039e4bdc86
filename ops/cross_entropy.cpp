// cross_entropy: L = -(1/N) sum over the N rows r not ignored of log softmax(x)_{r, id(r)}  (1x1).
// dL/dx = (softmax(x) - onehot(id)) / N on those rows, 0 on ignored rows (cross_entropy_grad);
// the ids get none. All rows ignored: L = 0/0 = NaN, as PyTorch gives, and dL/dx = 0.
// Stable from the logits: log-sum-exp with the row max taken out, never log(0).
#include <dagrad/core/detail/class_ids.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

#include <algorithm>
#include <cmath>

namespace dagrad {
namespace {

class CrossEntropy final : public OpBase<CrossEntropy> {
 public:
  explicit CrossEntropy(CrossEntropyOptions options) : options_(options) {}
  std::string_view key() const override { return "cross_entropy"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check_class_ids(in[0], in[1]);
    return {1, 1};
  }

  // Each row's log softmax at its id on its own (rows in parallel), then the
  // rows added in row order on one thread: the same bits at any thread count,
  // and the same as softmax_cross_entropy's with one-hot labels.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    detail::Scratch scratch;
    const detail::RowClasses classes = detail::row_classes(*in[1], x.cols(), options_, scratch);
    T* log_p = scratch.take<T>(x.rows());
    std::fill(log_p, log_p + x.rows(), T(0));
    detail::parallel_rows(x.rows(), x.cols(), [&](Dim first, Dim count) {
      for (Dim r = first; r < first + count; ++r) {
        const Eigen::Index k = classes.of_row[static_cast<std::size_t>(r)];
        if (k < 0) continue;
        const T m = x.row(r).maxCoeff();
        const T lse = m + std::log((x.row(r).array() - m).exp().sum());
        log_p[r] = x(r, k) - lse;
      }
    });
    T total = 0;
    for (Dim r = 0; r < x.rows(); ++r) {
      if (classes.of_row[static_cast<std::size_t>(r)] >= 0) total += log_p[r];
    }
    out(0, 0) = -total / static_cast<T>(classes.count);
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> g(2);
    if (ctx.needs(0)) g[0] = cross_entropy_grad(ctx.input(0), ctx.input(1), ctx.grad(), options_);
    // An id picks a class; nudging it does not move the loss smoothly.
    if (ctx.needs(1)) no_gradient(ctx, 1);
    return g;
  }

  std::string label() const override { return detail::cross_entropy_label(key(), options_); }
  Attributes attributes() const override { return detail::cross_entropy_attributes(options_); }

 private:
  CrossEntropyOptions options_;
};

}  // namespace

Node cross_entropy(Node logits, Node ids, CrossEntropyOptions options) {
  logits.graph().check_owns(ids, "cross_entropy");
  return logits.graph().apply(std::make_shared<CrossEntropy>(options), {logits, ids});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_cross_entropy(OnnxWriter& w) {
  // The mean over the rows not ignored, as dagrad's; ONNX gives a scalar, dagrad a 1x1.
  const CrossEntropyOptions o = detail::cross_entropy_options_of(w.attributes());
  const std::string loss = w.helper(w.out(), "loss");
  OnnxNode& n = w.node("SoftmaxCrossEntropyLoss", {w.in()[0], w.int_ids(w.in()[1])}, loss);
  n.attr("reduction", std::string("mean"));
  if (o.ignore_index) n.attr("ignore_index", std::int64_t{*o.ignore_index});
  w.node("Reshape", {loss, w.ints(w.out(), "shape", {1, 1})}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_cross_entropy() {
  // Six rows of four classes, ids repeated; in the second example the ids
  // run from -1, the ignore index, so at least one row (the last) is ignored.
  // Differentiable once: its gradient op is fused and declares none.
  auto example = [](double low, CrossEntropyOptions options) {
    return OpExample{.inputs = {{{6, 4}}, {{6, 1}, {.low = low, .high = 3, .whole = true}, false}},
                     .build = [options](const auto& in) { return cross_entropy(in[0], in[1], options); }};
  };
  return {"cross_entropy", Differentiable::once, {example(0, {}), example(-1, {.ignore_index = -1})},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            return cross_entropy(in[0], in[1], detail::cross_entropy_options_of(a));
          },
          {.operators = "Cast (ids to int64), Reshape, SoftmaxCrossEntropyLoss (mean, ignore_index), "
                         "Reshape",
           .write = onnx_cross_entropy}};
}

}  // namespace dagrad
