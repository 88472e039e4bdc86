// conv2d_grad_input: dX_n = col⁻¹(Wᵀ dY_n) (col⁻¹ = col2im).  Bilinear in (dY, W), the
// adjoint of conv2d in x: for G = dL/d(dX), dL/d(dY) = conv2d(G, W), dL/dW = Σ_n dY_n col(G_n)ᵀ.
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

class Conv2dGradInput final : public detail::ConvOp<Conv2dGradInput> {
 public:
  using ImageOp::ImageOp;
  std::string_view key() const override { return "conv2d_grad_input"; }

  Shape infer(std::span<const Shape> in) const override {
    detail::check(g_);
    detail::check_row_width("the output gradient's", in[0].cols, g_.out());
    detail::check_weights(in[1], g_);
    return {in[0].rows, g_.in_size()};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    if (detail::lanes_path<T>(g_, in[0]->rows())) return lanes(*in[0], *in[1], out);
    if (detail::wide_grid(g_)) return direct(*in[0], *in[1], out);
    const ConstView<T>& dy = *in[0];
    const ConstView<T>& w = *in[1];
    const Dim span = detail::columns_per_image(g_), per_block = detail::images_per_block(g_.patch_size() * span);
    // Each image's gradient is its own: dcol = Wᵀ [dY_first ... dY_last] for
    // a block, then each image's columns folded back onto its pixels.
    detail::image_blocks(dy.rows(), per_block, [&](Dim, Dim first, Dim count) {
      detail::Scratch scratch;
      detail::ImageGrid<T> grid(g_, scratch);
      auto dys = scratch.matrix<T>(g_.out_channels, count * span);
      for (Dim i = 0; i < count; ++i) grid.from_output(dy.row(first + i).data(), dys.data() + i * span, dys.cols());
      auto dcol = scratch.matrix<T>(g_.patch_size(), dys.cols());
      detail::dense_kernels<T>().product(w.data(), w.rows(), w.cols(), true, dys.data(), dys.rows(), dys.cols(), false,
                                         0, dcol.rows(), dcol.data());
      for (Dim i = 0; i < count; ++i) {
        T* dx = out.row(first + i).data();
        std::fill(dx, dx + g_.in_size(), T(0));
        detail::col2im(dcol.data() + i * span, g_, dx, dcol.cols());
      }
    });
  }

  // Stride 1, on the wide grid where forward read padded[c][ki·Wp + kj + t]:
  //   dpadded[c][u] = Σ_(o, ki, kj) W[o][(c, ki, kj)] · dY[o][u - ki·Wp - kj],
  // a direct correlation of dY (zero outside its OH·Wp values, and in the
  // extra columns) with the turned-around kernel; the borders are dropped.
  template <class T>
  void direct(const ConstView<T>& dy, const ConstView<T>& w, View<T> out) const {
    const Dim k = g_.kernel, width = detail::grid_width(g_);
    const Dim plane = detail::padded_plane(g_), length = detail::tiles_cover<T>(plane);
    // dY's rows start `margin` zeros in, so every shift back stays inside;
    // the last tile reads no further than the row's end.
    const Dim margin = (k - 1) * width + k - 1, row = margin + length;
    // Each block turns the kernel around itself (a few thousand copies
    // against its images' correlations): its scratch is its own, while a
    // copy shared by the blocks would have to outlive them.
    detail::image_blocks(dy.rows(), detail::images_per_block(g_.out_channels * row), [&](Dim, Dim first, Dim count) {
      detail::Scratch scratch;
      auto turned = scratch.matrix<T>(g_.in.channels, g_.out_channels * k * k);
      Dim* offset = scratch.take<Dim>(turned.cols());
      Dim r = 0;
      for (Dim o = 0; o < g_.out_channels; ++o) {
        for (Dim ki = 0; ki < k; ++ki) {
          for (Dim kj = 0; kj < k; ++kj) {
            for (Dim c = 0; c < g_.in.channels; ++c) turned(c, r) = w(o, (c * k + ki) * k + kj);
            offset[r++] = o * row + margin - ki * width - kj;
          }
        }
      }
      detail::ImageGrid<T> grid(g_, scratch);
      auto dys = scratch.matrix<T>(g_.out_channels, row);
      dys.setZero();
      auto dpadded = scratch.matrix<T>(g_.in.channels, length);
      for (Dim n = first; n < first + count; ++n) {
        grid.from_output(dy.row(n).data(), dys.data() + margin, dys.cols());
        detail::correlate(turned.data(), turned.cols(), g_.in.channels, {offset, std::size_t(r)}, dys.data(),
                          dpadded.data(), dpadded.cols(), plane);
        grid.unpad(dpadded.data(), dpadded.cols(), out.row(n).data());
      }
    });
  }

  // Images in lanes (detail/lanes.hpp), scattered: each output-gradient
  // position adds W's taps times itself onto the padded input pixels its
  // window read, then the border is dropped. Unlike direct(), which
  // gathers over dY in a zero border, no term reads a zero; the sums are
  // formed in another order (the same for any thread count).
  template <class T>
  void lanes(const ConstView<T>& dy, const ConstView<T>& w, View<T> out) const {
    constexpr Dim P = detail::lanes<T>();
    const Dim k = g_.kernel, p = g_.padding, h = g_.in.height, wd = g_.in.width;
    const Dim hp = g_.out_height + k - 1, wp = g_.out_width + k - 1;  // H + 2p, W + 2p at stride 1
    detail::image_blocks(dy.rows(), P, [&](Dim, Dim first, Dim count) {
      detail::Scratch scratch;
      const T* d = detail::pad_lanes(dy.row(first).data(), dy.cols(), count, g_.out(), 0, scratch);
      T* dxp = scratch.take<T>(g_.in.channels * hp * wp * P);
      std::fill(dxp, dxp + g_.in.channels * hp * wp * P, T(0));
      detail::lanes_scatter(w.data(), w.cols(), g_.out_channels, g_.in.channels, k, d, g_.out_height,
                            g_.out_width, dxp);
      T* dx = dxp;
      if (p > 0) {
        dx = scratch.take<T>(g_.in_size() * P);
        for (Dim c = 0; c < g_.in.channels; ++c) {
          for (Dim y = 0; y < h; ++y) {
            const T* from = dxp + ((c * hp + y + p) * wp + p) * P;
            std::copy(from, from + wd * P, dx + (c * h + y) * wd * P);
          }
        }
      }
      detail::from_lanes(dx, g_.in_size(), out.row(first).data(), out.cols(), count);
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node g = ctx.grad();
    std::vector<Node> d(2);
    if (ctx.needs(0)) d[0] = conv2d(g, ctx.input(1), options_);
    if (ctx.needs(1)) d[1] = conv2d_grad_filter(g, ctx.input(0), options_);
    return d;
  }

};

}  // namespace

Node conv2d_grad_input(Node dy, Node w, Conv2dOptions options) {
  dy.graph().check_owns(w, "conv2d_grad_input");
  return dy.graph().apply(std::make_shared<Conv2dGradInput>(options), {dy, w});
}

OpEntry detail::registry_entry_conv2d_grad_input() {
  const Conv2dOptions o{.in = {2, 4, 4}, .out_channels = 3, .kernel = 3, .padding = 1};
  return {"conv2d_grad_input", Differentiable::twice,
          {{.inputs = {{{2, 48}}, {{3, 18}}},
            .build = [o](const auto& in) { return conv2d_grad_input(in[0], in[1], o); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            return conv2d_grad_input(in[0], in[1], detail::conv2d_options_of(a));
          }};
}

}  // namespace dagrad
