// matmul: C = op(A) op(B).  For C = A B: dA = G Bᵀ, dB = Aᵀ G, with G = dL/dC
// (op transposes where the flags say; the transposed cases permute these).
#include <dagrad/core/detail/dense_kernels.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/detail/sparse_product.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

#include <algorithm>

namespace dagrad {
namespace {

class Matmul final : public OpBase<Matmul> {
 public:
  explicit Matmul(MatmulOptions o) : ta_(o.transpose_a), tb_(o.transpose_b) {}
  std::string_view key() const override { return "matmul"; }
  Attributes attributes() const override {
    return {{"transpose_a", std::int64_t{ta_}}, {"transpose_b", std::int64_t{tb_}}};
  }

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
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& a = *in[0];
    const ConstView<T>& b = *in[1];
    // A mostly-zero A (a batch of images, a ReLU's output) is multiplied by
    // its nonzeros only; the choice depends on the values alone, never on
    // the thread count.
    if (!tb_ && detail::sparse_product(a, ta_, b, out)) return;
    const Eigen::Index rows = out.rows(), inner = ta_ ? a.rows() : a.cols();
    // A large product is cut into a number of row blocks fixed by its shape
    // alone, never by the thread count, so every element is summed the same
    // way however many threads share the blocks: results stay bit-identical.
    // A block is at least 2 MFLOP (some 15 us on one core), many times a
    // task's cost, so LeNet's 64 x 400 x 120 layer is two halves: alone on
    // the critical path of a step, it no longer leaves the second core idle.
    const double flops = 2.0 * double(rows) * double(out.cols()) * double(inner);
    const int blocks = static_cast<int>(std::clamp(flops / 2e6, 1.0, 8.0));
    if (blocks == 1 || rows < 16) {
      rows_of(a, b, out, 0, rows);
      return;
    }
    // Block heights are multiples of 16, whole AVX-512 packets of rows.
    const Eigen::Index step = ((rows + blocks - 1) / blocks + 15) / 16 * 16;
    const int used = static_cast<int>((rows + step - 1) / step);
    detail::parallel_chunks(used, [&](std::int64_t k) {
      const Eigen::Index first = k * step;
      rows_of(a, b, out, first, std::min(step, rows - first));
    });
  }

  // Rows [first, first + count) of op(a) op(b), by the instruction set's
  // build of Eigen's product (detail/dense_kernels.hpp).
  template <class T>
  void rows_of(const ConstView<T>& a, const ConstView<T>& b, View<T> out, Eigen::Index first,
               Eigen::Index count) const {
    detail::dense_kernels<T>().product(a.data(), a.rows(), a.cols(), ta_, b.data(), b.rows(), b.cols(), tb_, first,
                                       count, out.data());
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

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_matmul(OnnxWriter& w) {
  const bool ta = w.attributes().flag("transpose_a"), tb = w.attributes().flag("transpose_b");
  if (!ta && !tb) {
    w.node("MatMul", w.in(), w.out());
    return;
  }
  w.node("Gemm", w.in(), w.out()).attr("transA", std::int64_t{ta}).attr("transB", std::int64_t{tb});
}

}  // namespace

OpEntry detail::registry_entry_matmul() {
  auto with = [](MatmulOptions o) {
    return [o](const std::vector<Node>& in) { return matmul(in[0], in[1], o); };
  };
  return {"matmul", Differentiable::twice,
          {{.inputs = {{{2, 3}}, {{3, 4}}}, .build = with({false, false})},
           {.inputs = {{{3, 2}}, {{3, 4}}}, .build = with({true, false})},
           {.inputs = {{{2, 3}}, {{4, 3}}}, .build = with({false, true})},
           {.inputs = {{{3, 2}}, {{4, 3}}}, .build = with({true, true})}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            const bool ta = a.flag("transpose_a"), tb = a.flag("transpose_b");
            return matmul(in[0], in[1], {.transpose_a = ta, .transpose_b = tb});
          },
          {.operators = "MatMul, or Gemm where an operand is transposed",
           .write = onnx_matmul}};
}

}  // namespace dagrad
