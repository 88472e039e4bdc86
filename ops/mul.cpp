// mul: y = a * b, elementwise with broadcasting.  dy/da = b, dy/db = a
// (summed back over the broadcast axes).
#include <dagrad/detail/elements.hpp>
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class Mul final : public OpBase<Mul> {
 public:
  explicit Mul(Broadcast b) : b_(b) {}
  std::string_view key() const override { return "mul"; }
  Shape infer(std::span<const Shape> in) const override { return b_.result(in[0], in[1]); }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    const Matrix<T>& a = *in[0];
    const Matrix<T>& b = *in[1];
    if (!b_.rows_a && !b_.cols_a && !b_.rows_b && !b_.cols_b) {
      out.resize(a.rows(), a.cols());
      detail::parallel_elements(out.size(), [&](auto first, auto n) {
        detail::elements(out, first, n) = detail::elements(a, first, n) * detail::elements(b, first, n);
      });
    } else if (!b_.rows_a && !b_.cols_a && b_.rows_b && b_.cols_b) {
      detail::scaled(a, b(0, 0), out);  // times a 1x1 (sum_squares' gradient, say)
    } else if (b_.rows_a && b_.cols_a && !b_.rows_b && !b_.cols_b) {
      detail::scaled(b, a(0, 0), out);  // x * y = y * x exactly
    } else {
      // Each output row r, column c reads a and b at (r or 0, c or 0).
      const Eigen::Index rows = out.rows(), cols = out.cols();
      for (Eigen::Index r = 0; r < rows; ++r) {
        const Eigen::Index ra = b_.rows_a ? 0 : r, rb = b_.rows_b ? 0 : r;
        for (Eigen::Index c = 0; c < cols; ++c) {
          out(r, c) = a(ra, b_.cols_a ? 0 : c) * b(rb, b_.cols_b ? 0 : c);
        }
      }
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> g(2);
    if (ctx.needs(0)) g[0] = unbroadcast(mul(ctx.grad(), ctx.input(1)), b_.rows_a, b_.cols_a);
    if (ctx.needs(1)) g[1] = unbroadcast(mul(ctx.grad(), ctx.input(0)), b_.rows_b, b_.cols_b);
    return g;
  }

  std::string expression(std::span<const std::string> args) const override {
    return args[0] + " * " + args[1];
  }

 private:
  Broadcast b_;
};

}  // namespace

Node mul(Node a, Node b) {
  a.graph().check_owns(b, "mul");
  return a.graph().apply(std::make_shared<Mul>(Broadcast::of(a.shape(), b.shape())), {a, b});
}

}  // namespace dagrad
