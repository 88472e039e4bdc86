// softmax: y_ij = e^(x_ij) / sum_k e^(x_ik), row by row.  dx = y * (dy - sum_k dy_k y_k)
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class Softmax final : public OpBase<Softmax> {
 public:
  std::string_view key() const override { return "softmax"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      // Subtracting the row's maximum keeps every exponent <= 0: no overflow.
      const T m = x.row(r).maxCoeff();
      out.row(r).array() = (x.row(r).array() - m).exp();
      out.row(r) /= out.row(r).sum();
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // Reuses the forward output y; the row sums broadcast over the columns.
    const Node y = ctx.output();
    return {mul(y, sub(ctx.grad(), sum_cols(mul(ctx.grad(), y))))};
  }
};

}  // namespace

Node softmax(Node x) { return x.graph().apply(std::make_shared<Softmax>(), {x}); }

OpEntry detail::registry_entry_softmax() {
  return {"softmax", Differentiable::twice, {unary_example(softmax, {}, {3, 4})},
          rebuild_of(softmax),
          {.operators = "Softmax (axis 1)",
           .write = [](OnnxWriter& w) {
             w.along("Softmax", w.in()[0], 1, w.out());
           }}};
}

}  // namespace dagrad
