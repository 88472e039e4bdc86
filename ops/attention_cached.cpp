// attention_cached: new row i at position p + i, head h: o = softmax(q_i Kᵀ / sqrt(d)) V over
// K, V = the p cached rows (past) then new rows 0..i. No gradient: a generator's op.
//
// Generation adds one position at a time; attention over the whole window
// would recompute every earlier position's keys and values (and the layers
// under them) for each new one. Here the earlier positions arrive as an
// input, the keys and values a cache kept from the runs that computed them,
// so a run costs the new rows alone.
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/detail/scratch.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace dagrad {
namespace {

class AttentionCached final : public OpBase<AttentionCached> {
 public:
  explicit AttentionCached(Dim heads) : heads_(heads) {}
  std::string_view key() const override { return "attention_cached"; }

  // "attention_cached 4 heads"
  std::string label() const override {
    // Appended piece by piece: GCC 12 at -O1 (the ThreadSanitizer build)
    // warns falsely on a chain of string + for this.
    std::string s(key());
    s += ' ';
    s += std::to_string(heads_);
    s += heads_ == 1 ? " head" : " heads";
    return s;
  }
  Attributes attributes() const override { return {{"heads", heads_}}; }

  Shape infer(std::span<const Shape> in) const override {
    const Shape qkv = in[0];
    if (heads_ < 1) throw ShapeError("attention_cached needs at least 1 head, not " + std::to_string(heads_));
    if (qkv.cols == batch || qkv.cols == 0 || qkv.cols % (3 * heads_) != 0) {
      throw ShapeError("qkv rows hold " + to_string(qkv) + ", not [Q | K | V] of " + std::to_string(heads_) +
                       " heads: known columns, a positive multiple of 3 x " + std::to_string(heads_));
    }
    const Dim width = qkv.cols / 3;
    if (in.size() == 2 && in[1].cols != 2 * width) {
      throw ShapeError("past holds " + to_string(in[1]) + ", not the [K | V] rows of qkv's " +
                       std::to_string(qkv.cols) + " columns (2 x " + std::to_string(width) + " columns)");
    }
    return {qkv.rows, width};
  }

  // Heads and tiles of 16 new rows on their own, each by one thread, its
  // output rows and head columns whole: no result depends on the cut.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& qkv = *in[0];
    const Dim n = qkv.rows(), width = qkv.cols() / 3, size = width / heads_;
    const Dim p = in.size() == 2 ? in[1]->rows() : 0;
    const T* past = in.size() == 2 ? in[1]->data() : nullptr;
    const Dim tiles = (n + tile - 1) / tile, blocks = heads_ * tiles;
    const auto block = [&](Dim b, T* scores) {
      const Dim h = b % heads_, r0 = b / heads_ * tile, r1 = std::min(n, r0 + tile);
      for (Dim i = r0; i < r1; ++i) row(qkv, past, p, h * size, size, i, scores, out.data() + i * width + h * size);
    };
    // Work by the dot products: one thread below elements_alone of them.
    if (n * (p + n) * width < detail::elements_alone) {
      detail::Scratch frame;
      T* scores = frame.take<T>(p + n);
      for (Dim b = 0; b < blocks; ++b) block(b, scores);
      return;
    }
    const Dim per = (blocks + 15) / 16;
    detail::parallel_chunks((blocks + per - 1) / per, [&](std::int64_t c) {
      detail::Scratch frame;
      T* scores = frame.take<T>(p + n);
      for (Dim b = c * per; b < std::min(blocks, (c + 1) * per); ++b) block(b, scores);
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    for (std::size_t i = 0; i < ctx.output().num_inputs(); ++i) {
      if (ctx.needs(i)) no_gradient(ctx, i);
    }
    return std::vector<Node>(ctx.output().num_inputs());
  }

 private:
  static constexpr Dim tile = 16;

  // New row i's output for the head whose columns start at `column`: its
  // keys and values are the p past rows (K at `column`, V at width +
  // column of each 2 x width row), then new rows 0..i (K at width + column,
  // V at 2 width + column of each qkv row).
  template <class T>
  static void row(const ConstView<T>& qkv, const T* past, Dim p, Dim column, Dim size, Dim i, T* scores, T* o) {
    using Vector = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;
    const Dim width = qkv.cols() / 3, seen = p + i + 1;
    const auto key = [&](Dim j) {
      return j < p ? Vector(past + j * 2 * width + column, size)
                   : Vector(qkv.data() + (j - p) * 3 * width + width + column, size);
    };
    const auto value = [&](Dim j) {
      return j < p ? Vector(past + j * 2 * width + width + column, size)
                   : Vector(qkv.data() + (j - p) * 3 * width + 2 * width + column, size);
    };
    const Vector q(qkv.data() + i * 3 * width + column, size);
    // softmax(scale s) with the largest score taken out: exponents <= 0.
    const T scale = T(1) / std::sqrt(static_cast<T>(size));
    T top = -INFINITY;
    for (Dim j = 0; j < seen; ++j) top = std::max(top, scores[j] = q.dot(key(j)));
    T total = 0;
    for (Dim j = 0; j < seen; ++j) total += scores[j] = std::exp((scores[j] - top) * scale);
    Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>> out(o, size);
    out.setZero();
    for (Dim j = 0; j < seen; ++j) out += scores[j] * value(j);
    out /= total;
  }

  Dim heads_;
};

}  // namespace

Node attention_cached(Node qkv, Node past, Dim heads) {
  qkv.graph().check_owns(past, "attention_cached");
  return qkv.graph().apply(std::make_shared<AttentionCached>(heads), {qkv, past});
}

Node attention_cached(Node qkv, Dim heads) {
  return qkv.graph().apply(std::make_shared<AttentionCached>(heads), {qkv});
}

OpEntry detail::registry_entry_attention_cached() {
  // 2 heads of 2 columns: 3 new rows (qkv 3 x 12) after 2 cached ones
  // (past 2 x 8), and 3 rows from position 0.
  // Its rows are one sequence, so the work grows with their square: the
  // thread-count test takes them to 96 rows (six 16-row tiles), not to the
  // elementwise cut's thousands.
  const OpExample after_past{.inputs = {{{3, 12}, {}, false}, {{2, 8}, {}, false}},
                             .build = [](const auto& in) { return attention_cached(in[0], in[1], 2); },
                             .max_scaled_rows = 96};
  const OpExample from_start{.inputs = {{{3, 12}, {}, false}},
                             .build = [](const auto& in) { return attention_cached(in[0], 2); },
                             .max_scaled_rows = 96};
  return {"attention_cached", Differentiable::no, {after_past, from_start},
          [](std::span<const Node> in, AttributeReader& a) {
            if (in.size() != 2) expect_inputs(in, 1);
            const Dim heads = a.integer("heads");
            return in.size() == 2 ? attention_cached(in[0], in[1], heads) : attention_cached(in[0], heads);
          }};
}

}  // namespace dagrad
