// attention: per sequence and head, O = P V with P = softmax(Q Kᵀ / sqrt(d) + mask).
// d(qkv) = [dS K | dSᵀ Q | Pᵀ dO] / [sqrt(d) | sqrt(d) | 1], dS = P ∘ (dP - rowsum(dP ∘ P)), dP = dO Vᵀ
// (attention_grad computes it in one node).
//
// One fused node rather than a batched-matmul family: dagrad's values are 2-D,
// so batched products would need a block layout carried from op to op
// (reshape, transpose, mask, softmax, product: five nodes and four
// sequences x heads x T x T values a layer), while one node keeps the
// geometry as options, as conv2d keeps an image's. It reads each head's
// columns where they lie, never stores the mask, skips most of the masked
// triangle, and its backward recomputes P rather than keeping it.
#include <dagrad/core/detail/attention.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class Attention final : public detail::AttentionOp<Attention> {
 public:
  using AttentionOp::AttentionOp;
  std::string_view key() const override { return "attention"; }

  Shape infer(std::span<const Shape> in) const override {
    return {in[0].rows, detail::attention_width(options_, in[0])};
  }

  // Each (sequence, head) block on its own, by one thread: its P in a
  // context x context scratch, then O = P V tile by tile into the block's
  // rows and head columns of the output.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& qkv = *in[0];
    const detail::AttentionGeometry g(options_, qkv.cols());
    const auto& dense = detail::dense_kernels<T>();
    const Dim ld = qkv.cols(), t = g.context;
    detail::for_each_block<T>(g.blocks(qkv.rows()), g.scratch(), [&](Dim b, T* p) {
      const T* q = qkv.data() + g.row(b) * ld + g.column(b);
      detail::attention_probabilities(g, q, q + g.width, ld, p);
      T* o = out.data() + g.row(b) * g.width + g.column(b);
      for (Dim r0 = 0; r0 < t; r0 += g.tile) {
        const Dim r1 = g.reach(r0);
        dense.block_product(p + r0 * g.stride, g.stride, false, q + 2 * g.width, ld, false, r1 - r0, g.size, r1, o + r0 * g.width,
                            g.width);
      }
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {attention_grad(ctx.input(0), ctx.grad(), options_)};
  }
};

}  // namespace

Node attention(Node qkv, AttentionOptions options) {
  return qkv.graph().apply(std::make_shared<Attention>(options), {qkv});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_attention(OnnxWriter& w) {
  // Per sequence and head softmax(Q Kᵀ / sqrt(d) + mask) V: the qkv rows as
  // (sequences, T, 3, heads, d), put head-major as (3, sequences, heads, T,
  // d), Q, K and V gathered from it; the causal mask is a T x T
  // initializer, 0 on and below the diagonal and -inf above, added to the
  // scores; the heads go back side by side in rows.
  const AttentionOptions o = detail::attention_options_of(w.attributes());
  const std::string& out = w.out();
  const Dim width = w.shape().cols, d = width / o.heads;
  const std::string steps = w.reshape(w.in()[0], "steps", {-1, o.context, 3, o.heads, d});
  const std::string heads = w.helper(out, "heads");
  w.node("Transpose", {steps}, heads).attr("perm", std::vector<std::int64_t>{2, 0, 3, 1, 4});
  std::string part[3];
  for (int i = 0; i < 3; ++i) {
    const std::string letter(1, "qkv"[i]);
    part[i] = w.helper(out, letter);
    w.node("Gather", {heads, w.index(out, letter + "_index", i)}, part[i]).attr("axis", std::int64_t{0});
  }
  const std::string kt = w.helper(out, "kt"), qk = w.helper(out, "qk"), scores = w.helper(out, "scores"),
                    p = w.helper(out, "p"), o_heads = w.helper(out, "o"), o_steps = w.helper(out, "o_steps");
  w.node("Transpose", {part[1]}, kt).attr("perm", std::vector<std::int64_t>{0, 1, 3, 2});
  w.node("MatMul", {part[0], kt}, qk);
  w.node("Mul", {qk, w.scalar(out, "scale", 1 / std::sqrt(double(d)))}, scores);
  std::string logits = scores;
  if (o.causal) {
    Matrix<double> mask = Matrix<double>::Zero(o.context, o.context);
    for (Dim i = 0; i < o.context; ++i) {
      for (Dim j = i + 1; j < o.context; ++j) mask(i, j) = -std::numeric_limits<double>::infinity();
    }
    const std::string m = w.matrix(out, "mask", mask);
    logits = w.helper(out, "masked");
    w.node("Add", {scores, m}, logits);
  }
  w.node("Softmax", {logits}, p).attr("axis", std::int64_t{-1});
  w.node("MatMul", {p, part[2]}, o_heads);
  w.node("Transpose", {o_heads}, o_steps).attr("perm", std::vector<std::int64_t>{0, 2, 1, 3});
  w.node("Reshape", {o_steps, w.ints(out, "rows", {-1, width})}, out);
}

}  // namespace

OpEntry detail::registry_entry_attention() {
  // 2 sequences of 3 steps, 2 heads of 2 columns: qkv is 6 x 12. The
  // gradient is attention_grad, a fused kernel with no gradient of its own:
  // a second order would need a third kernel, and training needs none.
  auto example = [](bool causal) {
    const AttentionOptions o{.heads = 2, .context = 3, .causal = causal};
    return OpExample{.inputs = {{{6, 12}}}, .build = [o](const auto& in) { return attention(in[0], o); }};
  };
  return {"attention", Differentiable::once, {example(true), example(false)},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            return attention(in[0], detail::attention_options_of(a));
          },
          {.operators = "Reshape, Transpose, Gather, MatMul, Mul, Add (the causal mask, an initializer), "
                         "Softmax, MatMul, Transpose, Reshape",
           .write = onnx_attention}};
}

}  // namespace dagrad
