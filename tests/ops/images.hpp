// Reference loops for the image ops' tests: convolution and pooling written
// straight from their definitions, one output element at a time, to compare
// the im2col + GEMM kernels against.
#pragma once

#include "op_checks.hpp"

#include <dagrad/dagrad.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace images {

using dagrad::Conv2dOptions;
using dagrad::Dim;
using dagrad::Pool2dOptions;
using M = dagrad::Matrix<double>;

// Values in [-1, 1], varied so no two elements nearby are equal.
inline M wavy(Dim rows, Dim cols, double phase) {
  M m(rows, cols);
  for (Dim k = 0; k < m.size(); ++k) m(k / cols, k % cols) = std::sin(phase + 0.731 * double(k) + 0.01 * double(k % 7));
  return m;
}

// Distinct values in [0, 1): k * (golden ratio) mod 1 never repeats, so no
// pooling window holds a tie and every maximum is clear by at least 1e-3
// for the small sizes the tests use.
inline M distinct(Dim rows, Dim cols, double phase) {
  M m(rows, cols);
  for (Dim k = 0; k < m.size(); ++k) m(k / cols, k % cols) = std::fmod(phase + 0.6180339887 * double(k), 1.0);
  return m;
}

inline Dim out_extent(Dim extent, Dim k, Dim s, Dim p) { return (extent + 2 * p - k) / s + 1; }

// The geometries the conv tests compare against the loops below: LeNet's
// two layers, an oblong image padded wider than its 2x2 kernel (oblong
// output rows of 11, 8 taps: uneven register tiles) and a large padding
// on a small image (stride 1: images in lanes, or the wide grid for small
// batches and rows), and strides 2 and 3 (im2col and a GEMM).
inline std::vector<Conv2dOptions> conv_cases() {
  return {
      {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2},
      {.in = {6, 14, 14}, .out_channels = 16, .kernel = 5},
      {.in = {2, 9, 8}, .out_channels = 3, .kernel = 2, .padding = 2},
      {.in = {2, 7, 6}, .out_channels = 3, .kernel = 3, .stride = 2, .padding = 1},
      {.in = {3, 5, 9}, .out_channels = 2, .kernel = 2, .stride = 3},
      {.in = {1, 4, 4}, .out_channels = 1, .kernel = 4, .padding = 3},
  };
}

// y[n, (o, oh, ow)] = Σ_{c, i, j} w[o, (c, i, j)] x[n, (c, oh s - p + i, ow s - p + j)]
inline M conv(const M& x, const M& w, const Conv2dOptions& o) {
  const Dim C = o.in.channels, H = o.in.height, W = o.in.width, K = o.kernel;
  const Dim OH = out_extent(H, K, o.stride, o.padding), OW = out_extent(W, K, o.stride, o.padding);
  M y = M::Zero(x.rows(), o.out_channels * OH * OW);
  for (Dim n = 0; n < x.rows(); ++n)
    for (Dim oc = 0; oc < o.out_channels; ++oc)
      for (Dim oh = 0; oh < OH; ++oh)
        for (Dim ow = 0; ow < OW; ++ow) {
          double total = 0;
          for (Dim c = 0; c < C; ++c)
            for (Dim i = 0; i < K; ++i)
              for (Dim j = 0; j < K; ++j) {
                const Dim ih = oh * o.stride - o.padding + i, iw = ow * o.stride - o.padding + j;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                total += w(oc, (c * K + i) * K + j) * x(n, (c * H + ih) * W + iw);
              }
          y(n, (oc * OH + oh) * OW + ow) = total;
        }
  return y;
}

// The same sum read the other way: dx gets dy·w, dw gets dy·x, for every term.
inline void conv_adjoints(const M& x, const M& w, const M& dy, const Conv2dOptions& o, M* dx, M* dw) {
  const Dim C = o.in.channels, H = o.in.height, W = o.in.width, K = o.kernel;
  const Dim OH = out_extent(H, K, o.stride, o.padding), OW = out_extent(W, K, o.stride, o.padding);
  if (dx) *dx = M::Zero(dy.rows(), C * H * W);
  if (dw) *dw = M::Zero(o.out_channels, C * K * K);
  for (Dim n = 0; n < dy.rows(); ++n)
    for (Dim oc = 0; oc < o.out_channels; ++oc)
      for (Dim oh = 0; oh < OH; ++oh)
        for (Dim ow = 0; ow < OW; ++ow)
          for (Dim c = 0; c < C; ++c)
            for (Dim i = 0; i < K; ++i)
              for (Dim j = 0; j < K; ++j) {
                const Dim ih = oh * o.stride - o.padding + i, iw = ow * o.stride - o.padding + j;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const double g = dy(n, (oc * OH + oh) * OW + ow);
                if (dx) (*dx)(n, (c * H + ih) * W + iw) += g * w(oc, (c * K + i) * K + j);
                if (dw) (*dw)(oc, (c * K + i) * K + j) += g * x(n, (c * H + ih) * W + iw);
              }
}

// Each window's max (first in row-major order on ties) or mean.
inline M pool(const M& x, const Pool2dOptions& o, bool max) {
  const Dim C = o.in.channels, H = o.in.height, W = o.in.width, S = o.size;
  const Dim stride = o.stride == 0 ? S : o.stride;
  const Dim OH = out_extent(H, S, stride, 0), OW = out_extent(W, S, stride, 0);
  M y(x.rows(), C * OH * OW);
  for (Dim n = 0; n < x.rows(); ++n)
    for (Dim c = 0; c < C; ++c)
      for (Dim oh = 0; oh < OH; ++oh)
        for (Dim ow = 0; ow < OW; ++ow) {
          double best = -INFINITY, total = 0;
          for (Dim i = 0; i < S; ++i)
            for (Dim j = 0; j < S; ++j) {
              const double v = x(n, (c * H + oh * stride + i) * W + ow * stride + j);
              best = std::max(best, v);
              total += v;
            }
          y(n, (c * OH + oh) * OW + ow) = max ? best : total / double(S * S);
        }
  return y;
}

inline void check_close(const M& got, const M& want, double tolerance = 1e-12) {
  REQUIRE(got.rows() == want.rows());
  REQUIRE(got.cols() == want.cols());
  const double scale = std::max(1.0, want.cwiseAbs().maxCoeff());
  const double worst = (got - want).cwiseAbs().maxCoeff();
  CHECK(worst <= tolerance * scale);
}

// op(a, b) on rows of a, in float, b set to fixed values: for the checks
// below of how an image's row depends on the rest of its batch.
class RowOp {
 public:
  RowOp(const std::function<dagrad::Node(dagrad::Node, dagrad::Node)>& op, dagrad::Dim in_cols, dagrad::Shape second)
      : a_(g_.input("a", {dagrad::batch, in_cols})), b_(g_.parameter("b", second)), y_(op(a_, b_)), ex_(g_) {
    ex_.set(b_, wavy(second.rows, second.cols, 2.9).cast<float>());
  }
  dagrad::Matrix<float> run(const dagrad::Matrix<float>& rows) { return ex_.run({{a_, rows}}, {y_})[0]; }

 private:
  dagrad::Graph g_;
  dagrad::Node a_, b_, y_;
  dagrad::Executor<float> ex_;
};

// Stride-1 convolutions run a batch with its images in SIMD lanes, in
// groups of 16 floats (8 with AVX2, 4 with SSE), and a batch smaller than a
// group on the wide grid. conv2d adds the same terms in the same order
// either way: each image's row for `rows` images at once must be
// bit-identical to the row it gets alone.
inline void check_batch_same_as_alone(const std::function<dagrad::Node(dagrad::Node, dagrad::Node)>& op,
                                      dagrad::Dim in_cols, dagrad::Shape second, dagrad::Dim rows) {
  RowOp y(op, in_cols, second);
  const dagrad::Matrix<float> A = wavy(rows, in_cols, 0.6).cast<float>(), all = y.run(A);
  for (dagrad::Dim n = 0; n < rows; ++n) {
    CAPTURE(n);
    CHECK((y.run(A.row(n)).array() == all.row(n).array()).all());
  }
}

// Each image's row of op(a, b) depends on that image alone: `rows` images,
// then the same ones turned round by 7 rows (each lands in another lane
// and another group), give each image the same bits.
inline void check_rows_independent(const std::function<dagrad::Node(dagrad::Node, dagrad::Node)>& op,
                                   dagrad::Dim in_cols, dagrad::Shape second, dagrad::Dim rows) {
  RowOp y(op, in_cols, second);
  const dagrad::Matrix<float> A = wavy(rows, in_cols, 0.6).cast<float>();
  dagrad::Matrix<float> turned(rows, in_cols);
  for (dagrad::Dim n = 0; n < rows; ++n) turned.row((n + 7) % rows) = A.row(n);
  const dagrad::Matrix<float> first = y.run(A), second_run = y.run(turned);
  for (dagrad::Dim n = 0; n < rows; ++n) {
    CAPTURE(n);
    CHECK((first.row(n).array() == second_run.row((n + 7) % rows).array()).all());
  }
}

// Runs the fetches in float at 1, 2 and 8 threads, `set` giving the
// parameters their values, and checks each result is bit-identical to the
// one-thread run.
inline void check_same_at_thread_counts(dagrad::Graph& g, const std::vector<dagrad::Feed<float>>& feeds,
                                        const std::vector<dagrad::Node>& fetches,
                                        const std::function<void(dagrad::Executor<float>&)>& set = {}) {
  std::vector<dagrad::Matrix<float>> first;
  for (int threads : {1, 2, 8}) {
    CAPTURE(threads);
    dagrad::Executor<float> ex(g, {.threads = threads});
    if (set) set(ex);
    const std::vector<dagrad::Matrix<float>> out = ex.run(feeds, fetches);
    if (first.empty()) {
      first = out;
      continue;
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      CAPTURE(i);
      CHECK(out[i] == first[i]);
    }
  }
}

// Gradcheck of sum(w ∘ op(a, b)) in both inputs, a of 2 batch rows of
// a_cols values and b of shape b (batch rows too where b.rows is batch):
// the conv ops on the geometries the registry's examples lack.
inline void check_both_gradients(const std::function<dagrad::Node(dagrad::Node, dagrad::Node)>& op, Dim a_cols,
                                 dagrad::Shape b) {
  using namespace dagrad;
  Graph g;
  const Node x = g.input("a", {batch, a_cols});
  const Node y = g.input("b", b);
  const Node out = op(x, y);
  const Dim b_rows = b.rows == batch ? 2 : b.rows, out_rows = out.shape().rows == batch ? 2 : out.shape().rows;
  const Node loss = sum(mul(out, g.constant(wavy(out_rows, out.shape().cols, 2.9))));
  const GradcheckResult r = gradcheck(g, loss, {{x, wavy(2, a_cols, 0.1)}, {y, wavy(b_rows, b.cols, 0.5)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

// An image of 2 channels, 5 high and 4 wide, padded, to 3 channels by a
// 3x3 kernel, at stride 2 (im2col and a GEMM) and at stride 1 (the direct
// correlations): height and width apart, which the registry's square
// examples cannot tell from each other.
inline std::vector<Conv2dOptions> oblong_conv_cases() {
  return {{.in = {2, 5, 4}, .out_channels = 3, .kernel = 3, .stride = 2, .padding = 1},
          {.in = {2, 5, 4}, .out_channels = 3, .kernel = 3, .stride = 1, .padding = 1}};
}

// A pooling op's values on 9 images of each geometry against pool(), the
// loop above (max or mean).
inline void check_pool_values(const std::function<dagrad::Node(dagrad::Node, Pool2dOptions)>& op,
                              const std::vector<Pool2dOptions>& cases, bool max) {
  using namespace dagrad;
  for (const Pool2dOptions& o : cases) {
    CAPTURE(o.in.height);
    const Dim in_size = o.in.channels * o.in.height * o.in.width;
    op_checks::Applied<> y([&](Node x) { return op(x, o); }, {{"x", {batch, in_size}}});
    const M X = wavy(9, in_size, 0.3);
    check_close(y.run({X}), pool(X, o, max));
  }
}

// Gradcheck of sum(w ∘ op(x)) in x of 2 batch rows, for each pool geometry
// (the registry's examples hold one square image and side-by-side windows);
// max pooling takes distinct values, so that no window ties.
inline void check_pool_gradients(const std::function<dagrad::Node(dagrad::Node, Pool2dOptions)>& op,
                                 const std::vector<Pool2dOptions>& cases, bool distinct_values) {
  using namespace dagrad;
  for (const Pool2dOptions& o : cases) {
    CAPTURE(o.in.height);
    const Dim in_size = o.in.channels * o.in.height * o.in.width;
    Graph g;
    const Node x = g.input("x", {batch, in_size});
    const Node y = op(x, o);
    const Node loss = sum(mul(y, g.constant(wavy(2, y.shape().cols, 1.2))));
    const M X = distinct_values ? distinct(2, in_size, 0.05) : wavy(2, in_size, 0.05);
    const GradcheckResult r = gradcheck(g, loss, {{x, X}}, {});
    CHECK_MESSAGE(r.ok, r.report());
  }
}

}  // namespace images
