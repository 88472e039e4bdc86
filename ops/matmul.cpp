// matmul: C = op(A) op(B).  For C = A B: dA = G Bᵀ, dB = Aᵀ G, with G = dL/dC
// (op transposes where the flags say; the transposed cases permute these).
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class Matmul final : public OpBase<Matmul> {
 public:
  explicit Matmul(MatmulOptions o) : ta_(o.transpose_a), tb_(o.transpose_b) {}
  std::string_view key() const override { return "matmul"; }

  Shape infer(std::span<const Shape> in) const override {
    const Shape a = ta_ ? Shape{in[0].cols, in[0].rows} : in[0];
    const Shape b = tb_ ? Shape{in[1].cols, in[1].rows} : in[1];
    if (a.cols != batch && b.rows != batch && a.cols != b.rows) {
      throw ShapeError("inner dimensions differ (" + std::to_string(a.cols) + " and " +
                       std::to_string(b.rows) + ")");
    }
    return {a.rows, b.cols};
  }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    const Matrix<T>& a = *in[0];
    const Matrix<T>& b = *in[1];
    if (ta_ && tb_) {
      out.noalias() = a.transpose() * b.transpose();
    } else if (ta_) {
      out.noalias() = a.transpose() * b;
    } else if (tb_) {
      out.noalias() = a * b.transpose();
    } else {
      out.noalias() = a * b;
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node g = ctx.grad(), a = ctx.input(0), b = ctx.input(1);
    std::vector<Node> d(2);
    if (!ta_ && !tb_) {
      // C = A B: dA = G Bᵀ, dB = Aᵀ G
      if (ctx.needs(0)) d[0] = matmul(g, b, {false, true});
      if (ctx.needs(1)) d[1] = matmul(a, g, {true, false});
    } else if (!ta_ && tb_) {
      // C = A Bᵀ: dA = G B, dB = Gᵀ A
      if (ctx.needs(0)) d[0] = matmul(g, b);
      if (ctx.needs(1)) d[1] = matmul(g, a, {true, false});
    } else if (ta_ && !tb_) {
      // C = Aᵀ B: dA = B Gᵀ, dB = A G
      if (ctx.needs(0)) d[0] = matmul(b, g, {false, true});
      if (ctx.needs(1)) d[1] = matmul(a, g);
    } else {
      // C = Aᵀ Bᵀ: dA = Bᵀ Gᵀ, dB = Gᵀ Aᵀ
      if (ctx.needs(0)) d[0] = matmul(b, g, {true, true});
      if (ctx.needs(1)) d[1] = matmul(g, a, {true, true});
    }
    return d;
  }

  std::string label() const override {
    if (!ta_ && !tb_) return "matmul";
    return std::string("matmul (") + (ta_ ? "Aᵀ" : "A") + "·" + (tb_ ? "Bᵀ" : "B") + ")";
  }

  std::string expression(std::span<const std::string> args) const override {
    return args[0] + (ta_ ? "ᵀ" : "") + " @ " + args[1] + (tb_ ? "ᵀ" : "");
  }

 private:
  bool ta_, tb_;
};

}  // namespace

Node matmul(Node a, Node b, MatmulOptions options) {
  a.graph().check_owns(b, "matmul");
  return a.graph().apply(std::make_shared<Matmul>(options), {a, b});
}

}  // namespace dagrad
