// conv2d: Y_n = W col(X_n) per image n.  dX_n = col⁻¹(Wᵀ dY_n), dW = Σ_n dY_n col(X_n)ᵀ
// (col = im2col, col⁻¹ its adjoint col2im; the backward ops are conv2d_grad_input and _filter).
#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/detail/correlate.hpp>
#include <dagrad/core/detail/dense_kernels.hpp>
#include <dagrad/core/detail/image_op.hpp>
#include <dagrad/core/detail/lanes.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

#include <algorithm>

namespace dagrad {
namespace {

class Conv2d final : public detail::ConvOp<Conv2d> {
 public:
  using ImageOp::ImageOp;
  std::string_view key() const override { return "conv2d"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check(g_);
    detail::check_row_width("the images'", in[0].cols, g_.in);
    detail::check_weights(in[1], g_);
    return {in[0].rows, g_.out_size()};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    if (detail::lanes_path<T>(g_, in[0]->rows())) return lanes(*in[0], *in[1], out, {});
    if (detail::wide_grid(g_)) return direct(*in[0], *in[1], out);
    const ConstView<T>& x = *in[0];
    const ConstView<T>& w = *in[1];
    const Dim span = detail::columns_per_image(g_), per_block = detail::images_per_block(g_.patch_size() * span);
    // One product per block, W [col(X_first) ... col(X_last)], whose
    // columns for image i are then row i of Y: each element is one dot
    // product over the patch, the same on any thread.
    detail::image_blocks(x.rows(), per_block, [&](Dim, Dim first, Dim count) {
      detail::Scratch scratch;
      detail::ImageGrid<T> grid(g_, scratch);
      auto col = scratch.matrix<T>(g_.patch_size(), count * span);
      for (Dim i = 0; i < count; ++i) detail::im2col(x.row(first + i).data(), g_, col.data() + i * span, col.cols());
      auto y = scratch.matrix<T>(g_.out_channels, col.cols());
      detail::dense_kernels<T>().product(w.data(), w.rows(), w.cols(), false, col.data(), col.rows(), col.cols(), false,
                                         0, y.rows(), y.data());
      for (Dim i = 0; i < count; ++i) grid.to_output(y.data() + i * span, y.cols(), out.row(first + i).data());
    });
  }

  // Stride 1: y[o][t] = Σ_r W[o][r] · padded[offset[r] + t] on the wide
  // grid, r = (c, ki, kj) at offset c·plane + ki·Wp + kj: no im2col copy.
  template <class T>
  void direct(const ConstView<T>& x, const ConstView<T>& w, View<T> out) const {
    const Dim span = detail::columns_per_image(g_), length = detail::tiles_cover<T>(span);
    detail::image_blocks(x.rows(), detail::images_per_block(g_.out_channels * length), [&](Dim, Dim first, Dim count) {
      detail::Scratch scratch;
      const std::span<const Dim> offset = detail::tap_offsets(g_, scratch);
      detail::ImageGrid<T> grid(g_, scratch);
      auto y = scratch.matrix<T>(g_.out_channels, length);
      for (Dim n = first; n < first + count; ++n) {
        detail::correlate(w.data(), w.cols(), g_.out_channels, offset, grid.pad(x.row(n).data()), y.data(), y.cols(),
                          span);
        grid.to_output(y.data(), y.cols(), out.row(n).data());
      }
    });
  }

  // Images in lanes (detail/lanes.hpp), a group of P a task: the same
  // taps in the same order as direct(), so the same bits.
  template <class T>
  void lanes(const ConstView<T>& x, const ConstView<T>& w, View<T> out, detail::LaneEpilogue<T> e) const {
    constexpr Dim P = detail::lanes<T>();
    const Dim wp = detail::grid_width(g_);  // W + 2p: lanes run at stride 1
    detail::image_blocks(x.rows(), P, [&](Dim, Dim first, Dim count) {
      detail::Scratch scratch;
      const T* src = detail::pad_lanes(x.row(first).data(), x.cols(), count, g_.in, g_.padding, scratch);
      const std::span<const Dim> offset = detail::tap_offsets(g_, scratch);
      T* y = scratch.take<T>(g_.out_size() * P);
      detail::lanes_correlate(w.data(), w.cols(), g_.out_channels, offset, src, wp, g_.out_height, g_.out_width, y,
                              g_.out_pixels());
      detail::from_lanes(y, g_.out_size(), out.row(first).data(), out.cols(), count, e);
    });
  }

  // Epilogue (Op::epilogue): the bias add that reads this output, then the
  // relu that reads the sum, or the relu alone. In the lanes path each
  // packet gets them before it is stored; the other paths, for small
  // batches and other strides, run the two ops' own kernels after it.
  std::size_t epilogue(std::span<const NodeId>, std::span<const Reader> readers) const override {
    std::size_t n = 0;
    if (readers[0].op->key() == "add_channel_bias" && readers[0].slot == 0) ++n;
    if (n < readers.size() && readers[n].op->key() == "relu") ++n;
    return n;
  }
  void forward_epilogue(Inputs<float> in, std::span<const Op* const> readers, std::span<const Inputs<float>> readers_in,
                        View<float> out) const override {
    with_epilogue(in, readers, readers_in, out);
  }
  void forward_epilogue(Inputs<double> in, std::span<const Op* const> readers,
                        std::span<const Inputs<double>> readers_in, View<double> out) const override {
    with_epilogue(in, readers, readers_in, out);
  }

  template <class T>
  void with_epilogue(Inputs<T> in, std::span<const Op* const> readers, std::span<const Inputs<T>> readers_in,
                     View<T> out) const {
    if (!detail::lanes_path<T>(g_, in[0]->rows())) {
      kernel(in, out);
      return run_readers_in_place(readers, readers_in, out);
    }
    const bool bias = readers[0]->key() == "add_channel_bias";
    const bool relu = readers.back()->key() == "relu";
    // b[c] at each of its channel's columns (the bias's own channel count).
    detail::Scratch scratch;
    T* add_row = nullptr;
    if (bias) {
      const ConstView<T>& b = *readers_in[0][1];
      const Dim pixels = out.cols() / b.cols();
      add_row = scratch.take<T>(out.cols());
      for (Dim c = 0; c < b.cols(); ++c) std::fill(add_row + c * pixels, add_row + (c + 1) * pixels, b(0, c));
    }
    lanes(*in[0], *in[1], out, {add_row, relu});
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> d(2);
    if (ctx.needs(0)) d[0] = conv2d_grad_input(ctx.grad(), ctx.input(1), options_);
    if (ctx.needs(1)) d[1] = conv2d_grad_filter(ctx.input(0), ctx.grad(), options_);
    return d;
  }

};

}  // namespace

ImageShape conv2d_output(const Conv2dOptions& options) {
  const detail::ConvGeometry g = detail::ConvGeometry::of(options);
  detail::check(g);
  return g.out();
}

Node conv2d(Node x, Node w, Conv2dOptions options) {
  x.graph().check_owns(w, "conv2d");
  return x.graph().apply(std::make_shared<Conv2d>(options), {x, w});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_conv2d(OnnxWriter& w) {
  const Conv2dOptions o = detail::conv2d_options_of(w.attributes());
  const ImageShape y = conv2d_output(o);
  const std::string x = w.reshape(w.in()[0], "nchw", {-1, o.in.channels, o.in.height, o.in.width});
  const std::string weights = w.reshape(w.in()[1], "weights", {o.out_channels, o.in.channels, o.kernel, o.kernel});
  const std::string conv = w.helper(w.out(), "conv");
  w.node("Conv", {x, weights}, conv)
      .attr("kernel_shape", std::vector<std::int64_t>{o.kernel, o.kernel})
      .attr("strides", std::vector<std::int64_t>{o.stride, o.stride})
      .attr("pads", std::vector<std::int64_t>{o.padding, o.padding, o.padding, o.padding});
  w.node("Reshape", {conv, w.ints(w.out(), "rows", {-1, y.channels * y.height * y.width})}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_conv2d() {
  // 2 channels of 4x4 to 3, a 3x3 kernel: padded at stride 1, and at stride 2.
  auto example = [](Dim stride) {
    const Conv2dOptions o{.in = {2, 4, 4}, .out_channels = 3, .kernel = 3, .stride = stride, .padding = 1};
    return OpExample{.inputs = {{{2, 32}}, {{3, 18}}},
                     .build = [o](const auto& in) { return conv2d(in[0], in[1], o); }};
  };
  return {"conv2d", Differentiable::twice, {example(1), example(2)},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            return conv2d(in[0], in[1], detail::conv2d_options_of(a));
          },
          {.operators = "Reshape, Conv, Reshape (and Reshape of the weights)",
           .write = onnx_conv2d}};
}

}  // namespace dagrad
