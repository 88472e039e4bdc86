// log_softmax: y_ij = x_ij - log sum_k e^(x_ik), row by row.  dx = dy - softmax(x) * sum_k dy_k
// Stable where log(softmax(x)) is not: the row max comes out of the exponent
// and no log ever sees a 0.
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

#include <cmath>

namespace dagrad {
namespace {

class LogSoftmax final : public OpBase<LogSoftmax> {
 public:
  std::string_view key() const override { return "log_softmax"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      const T m = x.row(r).maxCoeff();
      const T lse = m + std::log((x.row(r).array() - m).exp().sum());
      out.row(r).array() = x.row(r).array() - lse;
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // softmax(x) = e^y, from the output; the row sums broadcast over the columns.
    return {sub(ctx.grad(), mul(exp(ctx.output()), sum_cols(ctx.grad())))};
  }
};

}  // namespace

Node log_softmax(Node x) { return x.graph().apply(std::make_shared<LogSoftmax>(), {x}); }

OpEntry detail::registry_entry_log_softmax() {
  return {"log_softmax", Differentiable::twice, {unary_example(log_softmax, {}, {3, 4})},
          rebuild_of(log_softmax),
          {.operators = "LogSoftmax (axis 1)",
           .write = [](OnnxWriter& w) {
             w.along("LogSoftmax", w.in()[0], 1, w.out());
           }}};
}

}  // namespace dagrad
