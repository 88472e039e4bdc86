// attention_grad: dL/d(qkv) of attention, per sequence and head, from qkv and dO = dy:
// dV = Pᵀ dO, dP = dO Vᵀ, dS = P ∘ (dP - rowsum(dP ∘ P)), dQ = dS K / sqrt(d), dK = dSᵀ Q / sqrt(d).
// No gradient (a backward op).
#include <dagrad/core/detail/attention.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class AttentionGrad final : public detail::AttentionOp<AttentionGrad> {
 public:
  using AttentionOp::AttentionOp;
  std::string_view key() const override { return "attention_grad"; }

  Shape infer(std::span<const Shape> in) const override {
    Shape qkv = in[0];
    if (qkv.rows == batch) qkv.rows = in[1].rows;  // dy's rows, where known, are qkv's
    const Dim width = detail::attention_width(options_, qkv);
    if (in[1].cols != width || (in[0].rows != batch && in[1].rows != batch && in[0].rows != in[1].rows)) {
      throw ShapeError("dy must be " + to_string({qkv.rows, width}) + ", the attention's output, not " +
                       to_string(in[1]));
    }
    return qkv;
  }

  // P is recomputed here from Q and K, not kept from the forward run: kept,
  // it would be sequences x heads x context² values a layer, quadratic in
  // the context (for GPT-2's 12 heads and 1,024 steps, 50 MB a sequence),
  // where recomputing costs one product of the five below.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& qkv = *in[0];
    const ConstView<T>& dy = *in[1];
    const detail::AttentionGeometry g(options_, qkv.cols());
    detail::for_each_block<T>(g.blocks(qkv.rows()), 2 * g.scratch(), [&](Dim b, T* scratch) {
      const Dim ld = qkv.cols(), first = g.row(b) * ld + g.column(b);
      block(g, qkv.data() + first, dy.data() + g.row(b) * g.width + g.column(b), out.data() + first, scratch);
    });
  }

  // One block: q (and k, v a width further) and dq (dk, dv) with row stride
  // 3C, d_o with stride C; scratch holds P and then dS, rows g.stride apart.
  template <class T>
  static void block(const detail::AttentionGeometry& g, const T* q, const T* d_o, T* dq, T* scratch) {
    const auto& dense = detail::dense_kernels<T>();
    const Dim t = g.context, ld = 3 * g.width, c = g.width, lp = g.stride;
    const T *k = q + c, *v = q + 2 * c;
    T *p = scratch, *ds = scratch + g.scratch();
    const T scale = T(1) / std::sqrt(static_cast<T>(g.size));
    detail::attention_probabilities(g, q, k, ld, p);
    for (Dim r0 = 0; r0 < t; r0 += g.tile) {
      const Dim r1 = g.reach(r0);
      // dP = dO Vᵀ over the keys these rows see, then dS / sqrt(d) in place
      // (P is 0 past the diagonal, and so is dS, written so).
      dense.block_product(d_o + r0 * c, c, false, v, ld, true, r1 - r0, r1, g.size, ds + r0 * lp, lp);
      for (Dim i = r0; i < r1; ++i) {
        const detail::ScratchRow<T> pi(p + i * lp, r1);
        detail::ScratchRow<T> d(ds + i * lp, r1);
        const T dot = (d * pi).sum();
        d = pi * (d - dot) * scale;
        d.tail(r1 - (g.causal ? i + 1 : r1)) = T(0);
      }
      // dQ = dS K / sqrt(d)
      dense.block_product(ds + r0 * lp, lp, false, k, ld, false, r1 - r0, g.size, r1, dq + r0 * ld, ld);
    }
    // Keys [c0, c1) are seen by the rows from c0 on (all rows, not causal):
    // dV = Pᵀ dO and dK = dSᵀ Q / sqrt(d) over those rows alone.
    for (Dim c0 = 0; c0 < t; c0 += g.tile) {
      const Dim c1 = g.reach(c0), from = g.causal ? c0 : 0;
      dense.block_product(p + from * lp + c0, lp, true, d_o + from * c, c, false, c1 - c0, g.size, t - from,
                          dq + 2 * c + c0 * ld, ld);
      dense.block_product(ds + from * lp + c0, lp, true, q + from * ld, ld, false, c1 - c0, g.size, t - from,
                          dq + c + c0 * ld, ld);
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // Fused for speed and memory, not differentiated further.
    for (std::size_t i = 0; i < 2; ++i) {
      if (ctx.needs(i)) no_gradient(ctx, i);
    }
    return std::vector<Node>(2);
  }
};

}  // namespace

Node attention_grad(Node qkv, Node dy, AttentionOptions options) {
  qkv.graph().check_owns(dy, "attention_grad");
  return qkv.graph().apply(std::make_shared<AttentionGrad>(options), {qkv, dy});
}

OpEntry detail::registry_entry_attention_grad() {
  auto example = [](bool causal) {
    const AttentionOptions o{.heads = 2, .context = 3, .causal = causal};
    return OpExample{.inputs = {{{6, 12}, {}, false}, {{6, 4}, {}, false}},
                     .build = [o](const auto& in) { return attention_grad(in[0], in[1], o); }};
  };
  return {"attention_grad", Differentiable::no, {example(true), example(false)},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            return attention_grad(in[0], in[1], detail::attention_options_of(a));
          }};
}

}  // namespace dagrad
