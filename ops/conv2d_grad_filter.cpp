// conv2d_grad_filter: dW = Σ_n dY_n col(X_n)ᵀ (col = im2col).  Bilinear in (X, dY): for
// G = dL/d(dW), dL/dX = conv2d_grad_input(dY, G), dL/d(dY) = conv2d(X, G).
#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/detail/correlate.hpp>
#include <dagrad/core/detail/dense_kernels.hpp>
#include <dagrad/core/detail/image_op.hpp>
#include <dagrad/core/detail/lanes.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class Conv2dGradFilter final : public detail::ConvOp<Conv2dGradFilter> {
 public:
  using ImageOp::ImageOp;
  std::string_view key() const override { return "conv2d_grad_filter"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check(g_);
    detail::check_row_width("the images'", in[0].cols, g_.in);
    detail::check_row_width("the output gradient's", in[1].cols, g_.out());
    detail::same_rows(in[0].rows, in[1].rows);
    return {g_.out_channels, g_.patch_size()};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    if (detail::lanes_path<T>(g_, in[0]->rows())) return lanes(*in[0], *in[1], out);
    if (detail::wide_grid(g_)) return direct(*in[0], *in[1], out);
    const ConstView<T>& x = *in[0];
    const ConstView<T>& dy = *in[1];
    const Dim span = detail::columns_per_image(g_), per_block = detail::images_per_block(g_.patch_size() * span);
    const Dim blocks = detail::block_count(x.rows(), per_block);
    // The sum over images is cut into blocks fixed by the batch size and
    // geometry: each block's part is one product [dY_i ...] [col(X_i) ...]ᵀ,
    // and the parts are added in block order, so the sum is formed the same
    // way whatever the thread count.
    // Each part on its own 64 bytes, as a matrix of its own would be (Eigen
    // picks its vectorized and scalar paths by alignment).
    const Dim part_size = (out.size() + 64 / Dim(sizeof(T)) - 1) / (64 / Dim(sizeof(T))) * (64 / Dim(sizeof(T)));
    detail::Scratch scratch;
    T* parts = scratch.take<T>(blocks * part_size);
    detail::image_blocks(x.rows(), per_block, [&](Dim b, Dim first, Dim count) {
      detail::Scratch block_scratch;
      detail::ImageGrid<T> grid(g_, block_scratch);
      auto col = block_scratch.matrix<T>(g_.patch_size(), count * span);
      auto dys = block_scratch.matrix<T>(g_.out_channels, count * span);
      for (Dim i = 0; i < count; ++i) {
        detail::im2col(x.row(first + i).data(), g_, col.data() + i * span, col.cols());
        grid.from_output(dy.row(first + i).data(), dys.data() + i * span, dys.cols());
      }
      T* part = parts + b * part_size;
      // A small dW (6×25, say) is mostly empty GEMM tiles (48×4 floats with
      // AVX-512) around a long depth; one dot product of two contiguous rows
      // per element measured faster there, the GEMM for 16×150 (bench_conv2d:
      // docs/benchmarks.md).
      if (g_.out_channels * g_.patch_size() <= 512) {
        Eigen::Map<Matrix<T>, Eigen::Aligned64>(part, out.rows(), out.cols()).noalias() =
            dys.lazyProduct(col.transpose());
      } else {
        detail::dense_kernels<T>().product(dys.data(), dys.rows(), dys.cols(), false, col.data(), col.rows(),
                                           col.cols(), true, 0, out.rows(), part);
      }
    });
    out.setZero();
    for (Dim b = 0; b < blocks; ++b) {
      out += Eigen::Map<const Matrix<T>, Eigen::Aligned64>(parts + b * part_size, out.rows(), out.cols());
    }
  }

  // Stride 1: dW[o][r] = Σ_n Σ_t dY_n[o][t] · padded_n[offset_r + t] on the
  // wide grid, with no im2col copy. Each block of images keeps SIMD-lane
  // sums (detail::correlate_sums); blocks, fixed by the batch size, are
  // added in order and the lanes last, in order: one summation order for
  // any thread count.
  template <class T>
  void direct(const ConstView<T>& x, const ConstView<T>& dy, View<T> out) const {
    const Dim span = detail::columns_per_image(g_), plane = detail::padded_plane(g_), lanes = detail::lanes<T>();
    const Dim length = (span + lanes - 1) / lanes * lanes;
    const Dim rows = (g_.out_channels + detail::sum_rows - 1) / detail::sum_rows * detail::sum_rows;
    // Taps whose sums are dropped pad the list to a multiple of sum_taps.
    const Dim taps = (g_.patch_size() + detail::sum_taps - 1) / detail::sum_taps * detail::sum_taps;
    const Dim sums_size = rows * taps * lanes;
    const Dim per_block = detail::images_per_block(rows * length + g_.in.channels * plane);
    const Dim blocks = detail::block_count(x.rows(), per_block);
    detail::Scratch scratch;
    T* parts = scratch.take<T>(blocks * sums_size);
    detail::image_blocks(x.rows(), per_block, [&](Dim b, Dim first, Dim count) {
      detail::Scratch block_scratch;
      const std::span<const Dim> offset = detail::tap_offsets(g_, block_scratch, taps - g_.patch_size());
      detail::ImageGrid<T> grid(g_, block_scratch);
      // The block's images side by side: image i's gradient in columns
      // [i·length, (i + 1)·length) (rows past out_channels and columns past
      // OH·Wp stay zero), its padded planes, slack included, at i·padded.
      auto dys = block_scratch.matrix<T>(rows, count * length);
      dys.setZero();
      const Dim padded = grid.padded_size();
      T* images = block_scratch.take<T>(count * padded);
      for (Dim i = 0; i < count; ++i) {
        grid.from_output(dy.row(first + i).data(), dys.data() + i * length, dys.cols());
        const T* image = grid.pad(x.row(first + i).data());
        std::copy(image, image + padded, images + i * padded);
      }
      T* sums = parts + b * sums_size;
      std::fill(sums, sums + sums_size, T(0));
      detail::correlate_sums(dys.data(), dys.cols(), rows, offset, images, padded, count, length, sums);
    });
    T* total = scratch.take<T>(sums_size);
    std::fill(total, total + sums_size, T(0));
    for (Dim b = 0; b < blocks; ++b) {
      const T* part = parts + b * sums_size;
      for (Dim i = 0; i < sums_size; ++i) total[i] += part[i];
    }
    for (Dim o = 0; o < g_.out_channels; ++o) {
      for (Dim r = 0; r < g_.patch_size(); ++r) {
        const T* lane = total + (o * taps + r) * lanes;
        T value = 0;
        for (Dim l = 0; l < lanes; ++l) value += lane[l];
        out(o, r) = value;
      }
    }
  }

  // Images in lanes (detail/lanes.hpp): each group of P images sums
  //   dW[o][(c, ki, kj)] = Σ_(y, x) dY[o][y][x] · Xp[c][y + ki][x + kj]
  // in its lanes, then adds the lanes; the groups, fixed by the batch size,
  // are added in order: one summation order for any thread count.
  template <class T>
  void lanes(const ConstView<T>& x, const ConstView<T>& dy, View<T> out) const {
    constexpr Dim P = detail::lanes<T>();
    const Dim wp = detail::grid_width(g_);  // W + 2p: lanes run at stride 1
    const Dim blocks = detail::block_count(x.rows(), P);
    detail::Scratch scratch;
    T* parts = scratch.take<T>(blocks * out.size());
    detail::image_blocks(x.rows(), P, [&](Dim b, Dim first, Dim count) {
      detail::Scratch block_scratch;
      const T* src = detail::pad_lanes(x.row(first).data(), x.cols(), count, g_.in, g_.padding, block_scratch);
      const T* d = detail::pad_lanes(dy.row(first).data(), dy.cols(), count, g_.out(), 0, block_scratch);
      const std::span<const Dim> offset = detail::tap_offsets(g_, block_scratch);
      T* part = parts + b * out.size();
      std::fill(part, part + out.size(), T(0));
      detail::lanes_filter_sums(d, g_.out_channels, offset, src, wp, g_.out_height, g_.out_width, part);
    });
    out.setZero();
    for (Dim b = 0; b < blocks; ++b) out += Eigen::Map<const Matrix<T>>(parts + b * out.size(), out.rows(), out.cols());
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node g = ctx.grad();
    std::vector<Node> d(2);
    if (ctx.needs(0)) d[0] = conv2d_grad_input(ctx.input(1), g, options_);
    if (ctx.needs(1)) d[1] = conv2d(ctx.input(0), g, options_);
    return d;
  }

};

}  // namespace

Node conv2d_grad_filter(Node x, Node dy, Conv2dOptions options) {
  x.graph().check_owns(dy, "conv2d_grad_filter");
  return x.graph().apply(std::make_shared<Conv2dGradFilter>(options), {x, dy});
}

OpEntry detail::registry_entry_conv2d_grad_filter() {
  const Conv2dOptions o{.in = {2, 4, 4}, .out_channels = 3, .kernel = 3, .padding = 1};
  return {"conv2d_grad_filter", Differentiable::twice,
          {{.inputs = {{{2, 32}}, {{2, 48}}},
            .build = [o](const auto& in) { return conv2d_grad_filter(in[0], in[1], o); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            return conv2d_grad_filter(in[0], in[1], detail::conv2d_options_of(a));
          }};
}

}  // namespace dagrad
