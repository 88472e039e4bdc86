// What batch_norm, batch_norm_running and batch_norm_grad_input share: the
// channel layout of x, the build-time checks, and each channel's statistics.
//   const detail::ChannelStats s = detail::channel_stats(x, mean, var, training, options, "batch_norm");
#pragma once

#include <dagrad/core/error.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/core/registry.hpp>
#include <dagrad/core/tensor.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace dagrad::detail {

// A channel is a column of x (dense), or a channel's height x width block of
// each row (image): channel c of row n holds x(n, c * pixels + p).
struct ChannelLayout {
  Dim channels = 1;
  Dim pixels = 1;
};

inline ChannelLayout channel_layout(const BatchNormOptions& o, Dim cols) {
  if (!o.image) return {cols, 1};
  return {o.image->channels, o.image->height * o.image->width};
}

// The op's inputs: x, then 1 x C rows (gain, bias, the running statistics),
// each checked against the channels; the 1x1 step. ShapeError with the
// reason; Graph::apply adds the op and the nodes.
inline Dim check_channels(const BatchNormOptions& o, Shape x) {
  if (!o.image) {
    if (x.cols == batch) throw ShapeError("the width of x must be known, not " + to_string(x));
    return x.cols;
  }
  const ImageShape& im = *o.image;
  if (x.cols != batch && x.cols != im.channels * im.height * im.width) {
    throw ShapeError("rows of " + std::to_string(x.cols) + " values are not images of " +
                     std::to_string(im.channels) + "x" + std::to_string(im.height) + "x" + std::to_string(im.width) +
                     " (" + std::to_string(im.channels * im.height * im.width) + " values)");
  }
  return im.channels;
}

inline void check_channel_row(Shape s, Dim channels, std::string_view what) {
  if (s != Shape{1, channels}) {
    throw ShapeError(std::string(what) + " must be 1x" + std::to_string(channels) + ", one value a channel, not " +
                     to_string(s));
  }
}

inline void check_step(Shape s) {
  if (!(s == Shape{1, 1}) && s.known()) throw ShapeError("the step must be 1x1, not " + to_string(s));
}

// GraphError unless eps is positive, momentum in [0, 1] and the image's
// sides positive: the op of `key` on x.
inline void check_batch_norm_options(const BatchNormOptions& o, std::string_view key, const Node& x) {
  std::ostringstream s;
  s << key << " of '" << x.name() << "': ";
  if (!(o.eps > 0 && std::isfinite(o.eps))) {
    s << "eps must be a positive number, not " << o.eps;
  } else if (!(o.momentum >= 0 && o.momentum <= 1)) {
    s << "momentum must be in [0, 1], not " << o.momentum;
  } else if (o.image && (o.image->channels < 1 || o.image->height < 1 || o.image->width < 1)) {
    s << "the image " << o.image->channels << "x" << o.image->height << "x" << o.image->width
      << " must have positive sides";
  } else {
    return;
  }
  throw GraphError(s.str());
}

// Each channel's mean and 1/sqrt(var + eps), in double: the batch's (biased
// variance) while training, running's at inference. `variance` keeps the
// batch's biased variance (for the running average's unbiased one).
struct ChannelStats {
  std::vector<double> mean, rstd, variance;
  Dim count = 0;  // values per channel: rows x pixels
};

// The batch's moments, two passes (no large squares cancel), each channel's
// values added row by row in one fixed order on one thread: the same bits at
// any thread count. Training on one value a channel is refused, as PyTorch
// refuses it: its variance is 0 and its unbiased variance 0/0.
template <class T>
ChannelStats batch_moments(const ConstView<T>& x, ChannelLayout l, std::string_view key) {
  ChannelStats s;
  s.count = x.rows() * l.pixels;
  if (s.count < 2) {
    throw Error(std::string(key) + ": training needs more than one value a channel, got " + std::to_string(s.count) +
                " (" + std::to_string(x.rows()) + " rows)");
  }
  const auto channels = static_cast<std::size_t>(l.channels);
  s.mean.assign(channels, 0.0);
  s.variance.assign(channels, 0.0);
  auto each = [&](auto&& f) {
    for (Dim n = 0; n < x.rows(); ++n) {
      const T* row = x.row(n).data();
      for (Dim c = 0; c < l.channels; ++c) {
        for (Dim p = 0; p < l.pixels; ++p) f(static_cast<std::size_t>(c), double(row[c * l.pixels + p]));
      }
    }
  };
  each([&](std::size_t c, double v) { s.mean[c] += v; });
  for (double& m : s.mean) m /= double(s.count);
  each([&](std::size_t c, double v) { s.variance[c] += (v - s.mean[c]) * (v - s.mean[c]); });
  for (double& v : s.variance) v /= double(s.count);
  return s;
}

// The statistics y is normalized with: the batch's when training, else the running ones.
template <class T>
ChannelStats channel_stats(const ConstView<T>& x, const ConstView<T>& running_mean, const ConstView<T>& running_var,
                           bool training, const BatchNormOptions& o, std::string_view key) {
  const ChannelLayout l = channel_layout(o, x.cols());
  ChannelStats s;
  if (training) {
    s = batch_moments(x, l, key);
  } else {
    s.count = x.rows() * l.pixels;
    for (Dim c = 0; c < l.channels; ++c) {
      s.mean.push_back(double(running_mean(0, c)));
      s.variance.push_back(double(running_var(0, c)));
    }
  }
  for (double v : s.variance) s.rstd.push_back(1.0 / std::sqrt(v + o.eps));
  return s;
}

// The options as attributes (an image's sides 0 for dense rows), and back.
inline Attributes batch_norm_attributes(const BatchNormOptions& o) {
  const ImageShape im = o.image.value_or(ImageShape{0, 0, 0});
  return {{"eps", o.eps}, {"momentum", o.momentum}, {"channels", im.channels}, {"height", im.height},
          {"width", im.width}};
}

inline BatchNormOptions batch_norm_options_of(AttributeReader& a) {
  BatchNormOptions o{.eps = a.real("eps"), .momentum = a.real("momentum")};
  const ImageShape im{a.integer("channels", 0), a.integer("height", 0), a.integer("width", 0)};
  if (im.channels != 0 || im.height != 0 || im.width != 0) o.image = im;
  return o;
}

inline std::string batch_norm_label(std::string_view key, const BatchNormOptions& o) {
  std::ostringstream s;
  s << key;
  if (o.image) s << " " << o.image->channels << "×" << o.image->height << "×" << o.image->width;
  return s.str();
}

// The step input's mode: step >= 0 trains.
template <class T>
bool training(const ConstView<T>& step) {
  return !(double(step(0, 0)) < 0);
}

}  // namespace dagrad::detail
