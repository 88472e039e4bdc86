// cross_entropy_grad: z = dy * (softmax(x) - onehot(id)) / N on the N rows not ignored, 0 on ignored rows.
// No gradient (a backward op, fused for stability and speed): its derivative needs each row's weight
// 1/N or 0, which no other op computes from the ids, so cross_entropy is differentiable once.
#include <dagrad/core/detail/class_ids.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class CrossEntropyGrad final : public OpBase<CrossEntropyGrad> {
 public:
  explicit CrossEntropyGrad(CrossEntropyOptions options) : options_(options) {}
  std::string_view key() const override { return "cross_entropy_grad"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check_class_ids(in[0], in[1]);
    check_1x1(in[2], "dy");
    return {in[0].rows == batch ? in[1].rows : in[0].rows, in[0].cols};
  }

  // Rows are independent, each computed whole by one thread; the expressions
  // are softmax_cross_entropy_grad's, so one-hot labels give the same bits.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    detail::Scratch scratch;
    const detail::RowClasses classes = detail::row_classes(*in[1], x.cols(), options_, scratch);
    const T c = (*in[2])(0, 0) / static_cast<T>(classes.count);
    detail::parallel_rows(x.rows(), x.cols(), [&](Dim first, Dim count) {
      for (Dim r = first; r < first + count; ++r) {
        const Eigen::Index k = classes.of_row[static_cast<std::size_t>(r)];
        if (k < 0) {
          out.row(r).setZero();
          continue;
        }
        // The row max taken out of the exponent so it cannot overflow.
        const T m = x.row(r).maxCoeff();
        out.row(r).array() = (x.row(r).array() - m).exp();
        const T s = out.row(r).sum();
        const T p = out(r, k) / s;
        out.row(r).array() = c * (out.row(r).array() / s);
        out(r, k) = c * (p - T(1));
      }
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    for (std::size_t i = 0; i < 3; ++i) {
      if (ctx.needs(i)) no_gradient(ctx, i);
    }
    return std::vector<Node>(3);
  }

  std::string label() const override { return detail::cross_entropy_label(key(), options_); }
  Attributes attributes() const override { return detail::cross_entropy_attributes(options_); }

 private:
  CrossEntropyOptions options_;
};

}  // namespace

Node cross_entropy_grad(Node logits, Node ids, Node dy, CrossEntropyOptions options) {
  logits.graph().check_owns(ids, "cross_entropy_grad");
  logits.graph().check_owns(dy, "cross_entropy_grad");
  return logits.graph().apply(std::make_shared<CrossEntropyGrad>(options), {logits, ids, dy});
}

OpEntry detail::registry_entry_cross_entropy_grad() {
  return {"cross_entropy_grad", Differentiable::no,
          {{.inputs = {{{6, 4}, {}, false}, {{6, 1}, {.low = -1, .high = 3, .whole = true}, false}, {{1, 1}, {}, false}},
            .build = [](const auto& in) { return cross_entropy_grad(in[0], in[1], in[2], {.ignore_index = -1}); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 3);
            return cross_entropy_grad(in[0], in[1], in[2], detail::cross_entropy_options_of(a));
          }};
}

}  // namespace dagrad
