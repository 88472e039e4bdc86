// What attention and attention_grad share: their options checked against the
// qkv width, as attributes and back, the label, where each (sequence, head)
// block lies, and a block's probabilities P = softmax(Q Kᵀ / sqrt(d) + mask).
//   detail::for_each_block<T>(g.blocks(rows), g.scratch(),
//                             [&](Dim b, T* p) { detail::attention_probabilities(g, q_of(b), k_of(b), ld, p); });
#pragma once

#include <dagrad/core/detail/dense_kernels.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/detail/scratch.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/core/registry.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace dagrad::detail {

inline Attributes attributes_of(const AttentionOptions& o) {
  return {{"heads", o.heads}, {"context", o.context}, {"causal", std::int64_t{o.causal}}};
}
inline AttentionOptions attention_options_of(AttributeReader& a) {
  AttentionOptions o;
  o.heads = a.integer("heads");
  o.context = a.integer("context");
  o.causal = a.flag("causal");
  return o;
}

// Each block keeps a context x context scratch (two in backward): past this
// context one would exceed 2^30 values.
inline constexpr Dim max_attention_context = Dim{1} << 15;

// The output's width C for qkv's shape, or ShapeError saying what does not fit.
inline Dim attention_width(const AttentionOptions& o, Shape qkv) {
  if (o.heads < 1 || o.context < 1 || o.context > max_attention_context) {
    throw ShapeError("attention needs at least 1 head and a context from 1 to " +
                     std::to_string(max_attention_context) + "; got heads " + std::to_string(o.heads) +
                     ", context " + std::to_string(o.context));
  }
  if (qkv.cols == batch) throw ShapeError("the qkv column count must be known, not " + to_string(qkv));
  if (qkv.cols == 0 || qkv.cols % 3 != 0 || qkv.cols / 3 % o.heads != 0) {
    throw ShapeError("qkv rows hold " + std::to_string(qkv.cols) + " columns, not [Q | K | V] of " +
                     std::to_string(o.heads) + " heads: a positive multiple of 3 x " + std::to_string(o.heads));
  }
  if (qkv.rows != batch && qkv.rows % o.context != 0) {
    throw ShapeError(std::to_string(qkv.rows) + " rows are not a whole number of sequences of context " +
                     std::to_string(o.context));
  }
  return qkv.cols / 3;
}

// Where the blocks lie. Block b is sequence b / heads, head b % heads: its
// rows start at row(b), its Q columns at column(b) (K and V width further).
// Causal work goes in tiles of 16 rows, each stopping at the diagonal: row tile
// [r0, r1) needs keys [0, r1) only, so the masked triangle is mostly skipped.
// A block's context x context scratch matrices keep rows `stride` values
// apart, a whole number of 64 bytes, so every row starts on a SIMD packet.
struct AttentionGeometry {
  AttentionGeometry(const AttentionOptions& o, Dim qkv_cols)
      : context(o.context), width(qkv_cols / 3), size(width / o.heads), heads(o.heads), causal(o.causal),
        tile(o.causal ? std::min<Dim>(o.context, 16) : o.context), stride((o.context + 15) / 16 * 16) {}

  Dim blocks(Dim rows) const { return rows / context * heads; }
  Dim row(Dim b) const { return b / heads * context; }
  Dim column(Dim b) const { return b % heads * size; }
  // The end of the tile from row r0: also the keys [0, reach) it may see.
  Dim reach(Dim r0) const { return std::min(r0 + tile, context); }
  Dim scratch() const { return context * stride; }  // values in one scratch matrix

  Dim context, width, size, heads;
  bool causal;
  Dim tile, stride;
};

// f(b, scratch) for every block, `scratch` values each, in up to 16 chunks of
// whole blocks sharing the threads, each chunk taking its scratch once.
// Blocks are independent and each is computed whole by one call, so no
// result depends on the cut or on which thread ran it. The scratch
// (detail/scratch.hpp) is 64-byte aligned like every value: Eigen's vectorized sums and
// exps start their packets where a row's address allows, so an address
// fixed by the shape alone keeps their order, and the bits, fixed too.
template <class T, class F>
void for_each_block(Dim blocks, Dim scratch, const F& f) {
  if (blocks == 0) return;
  const Dim per = (blocks + 15) / 16;
  parallel_chunks((blocks + per - 1) / per, [&](std::int64_t c) {
    Scratch frame;
    T* buffer = frame.take<T>(scratch);
    for (Dim b = c * per; b < std::min(blocks, (c + 1) * per); ++b) f(b, buffer);
  });
}

// A row of a scratch matrix: it starts 64-byte aligned (see stride).
template <class T>
using ScratchRow = Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>, Eigen::Aligned64>;

// One block's P = softmax(scale Q Kᵀ + mask), scale = 1 / sqrt(d), into p
// (context x context, rows g.stride apart); q and k have row stride ld.
// Row tile [r0, r1) fills columns [0, r1); causal, those past the diagonal
// hold 0 (the mask's -inf), and columns from r1 on are left unwritten: the
// callers never read them.
template <class T>
void attention_probabilities(const AttentionGeometry& g, const T* q, const T* k, Dim ld, T* p) {
  const auto& dense = dense_kernels<T>();
  const T scale = T(1) / std::sqrt(static_cast<T>(g.size));
  for (Dim r0 = 0; r0 < g.context; r0 += g.tile) {
    const Dim r1 = g.reach(r0);
    // S = Q Kᵀ for these rows and the keys they may see.
    dense.block_product(q + r0 * ld, ld, false, k, ld, true, r1 - r0, r1, g.size, p + r0 * g.stride, g.stride);
    for (Dim i = r0; i < r1; ++i) {
      // softmax(scale s) over the keys row i sees, [0, seen), with their
      // maximum taken out (exponents <= 0). The exponentials run over the
      // tile's whole width, in whole packets; those past the diagonal are
      // then overwritten with 0.
      const Dim seen = g.causal ? i + 1 : r1;
      ScratchRow<T> s(p + i * g.stride, r1);
      const T m = s.head(seen).maxCoeff();
      s = ((s - m) * scale).exp();
      s.tail(r1 - seen) = T(0);
      s /= s.sum();
    }
  }
}

// attention and attention_grad: the options, and a label showing them.
template <class Derived>
class AttentionOp : public OpBase<Derived> {
 public:
  explicit AttentionOp(const AttentionOptions& o) : options_(o) {}

  // "attention 4 heads, context 64, causal"
  std::string label() const override {
    return std::string(this->key()) + " " + std::to_string(options_.heads) +
           (options_.heads == 1 ? " head" : " heads") + ", context " + std::to_string(options_.context) +
           (options_.causal ? ", causal" : "");
  }
  Attributes attributes() const override { return attributes_of(options_); }

 protected:
  AttentionOptions options_;
};

}  // namespace dagrad::detail
