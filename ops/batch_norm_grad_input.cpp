// batch_norm_grad_input: dL/dx of batch_norm. Training, per channel over its
// N values (the statistics depend on x): dx = gain * rstd * (dy - mean(dy) -
// xhat * mean(dy * xhat)); at inference (fixed statistics) dx = dy * gain * rstd.
// No gradient (a backward op): fused for speed, and training needs no more.
#include <dagrad/core/detail/batch_norm.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class BatchNormGradInput final : public OpBase<BatchNormGradInput> {
 public:
  explicit BatchNormGradInput(BatchNormOptions options) : options_(options) {}
  std::string_view key() const override { return "batch_norm_grad_input"; }

  Shape infer(std::span<const Shape> in) const override {
    const Dim channels = detail::check_channels(options_, in[0]);
    detail::check_channel_row(in[1], channels, "the gain");
    detail::check_channel_row(in[2], channels, "the running mean");
    detail::check_channel_row(in[3], channels, "the running variance");
    detail::check_step(in[4]);
    return same_shape(in[0], in[5]);  // x and dy
  }

  // Each channel's mean(dy) and mean(dy * xhat), summed on one thread in a
  // fixed order (as the moments are); then rows in parallel.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const T* gain = in[1]->data();
    const ConstView<T>& dy = *in[5];
    const bool training = detail::training(*in[4]);
    const detail::ChannelStats s = detail::channel_stats(x, *in[2], *in[3], training, options_, key());
    const detail::ChannelLayout l = detail::channel_layout(options_, x.cols());
    const auto channels = static_cast<std::size_t>(l.channels);
    std::vector<double> mean_dy(channels, 0.0), mean_dy_xhat(channels, 0.0);
    if (training) {
      for (Dim n = 0; n < x.rows(); ++n) {
        for (Dim c = 0; c < l.channels; ++c) {
          const auto k = static_cast<std::size_t>(c);
          for (Dim p = c * l.pixels; p < (c + 1) * l.pixels; ++p) {
            const double g = double(dy(n, p));
            mean_dy[k] += g;
            mean_dy_xhat[k] += g * (double(x(n, p)) - s.mean[k]) * s.rstd[k];
          }
        }
      }
      for (std::size_t k = 0; k < channels; ++k) {
        mean_dy[k] /= double(s.count);
        mean_dy_xhat[k] /= double(s.count);
      }
    }
    detail::parallel_rows(x.rows(), x.cols(), [&](Dim first, Dim count) {
      for (Dim r = first; r < first + count; ++r) {
        for (Dim c = 0; c < l.channels; ++c) {
          const auto k = static_cast<std::size_t>(c);
          const T mean = T(s.mean[k]), rstd = T(s.rstd[k]), factor = gain[c] * rstd;
          const T shift = T(mean_dy[k]), slope = T(mean_dy_xhat[k]);
          for (Dim p = c * l.pixels; p < (c + 1) * l.pixels; ++p) {
            const T xhat = (x(r, p) - mean) * rstd;
            out(r, p) = factor * (dy(r, p) - shift - xhat * slope);
          }
        }
      }
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    for (std::size_t i = 0; i < 6; ++i) {
      if (ctx.needs(i)) no_gradient(ctx, i);
    }
    return std::vector<Node>(6);
  }

  Attributes attributes() const override { return detail::batch_norm_attributes(options_); }
  std::string label() const override { return detail::batch_norm_label(key(), options_); }

 private:
  BatchNormOptions options_;
};

}  // namespace

Node batch_norm_grad_input(Node x, Node gain, Node running_mean, Node running_var, Node step, Node dy,
                           BatchNormOptions options) {
  detail::check_batch_norm_options(options, "batch_norm_grad_input", x);
  for (const Node& n : {gain, running_mean, running_var, step, dy}) x.graph().check_owns(n, "batch_norm_grad_input");
  return x.graph().apply(std::make_shared<BatchNormGradInput>(options), {x, gain, running_mean, running_var, step, dy});
}

OpEntry detail::registry_entry_batch_norm_grad_input() {
  auto example = [](double step) {
    return OpExample{.inputs = {{{4, 3}, {}, false},
                                {{1, 3}, {.low = 0.5, .high = 1.5}, false},
                                {{1, 3}, {}, false},
                                {{1, 3}, {.low = 0.5, .high = 1.5}, false},
                                {{1, 1}, {.low = step, .high = step}, false},
                                {{4, 3}, {}, false}},
                     .build = [](const auto& in) { return batch_norm_grad_input(in[0], in[1], in[2], in[3], in[4], in[5]); }};
  };
  return {"batch_norm_grad_input", Differentiable::no, {example(1), example(-1)},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 6);
            return batch_norm_grad_input(in[0], in[1], in[2], in[3], in[4], in[5], detail::batch_norm_options_of(a));
          }};
}

}  // namespace dagrad
