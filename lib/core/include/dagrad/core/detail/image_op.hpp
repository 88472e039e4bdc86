// What conv2d, the pools and their backward ops share: the options they
// were built with (for the nodes their gradient rules add), the geometry
// derived from them, and a label showing it.
//   class Conv2d final : public detail::ConvOp<Conv2d> { using ImageOp::ImageOp; ... };
#pragma once

#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/core/registry.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dagrad::detail {

// The options as attributes, and back (their ranges are checked by the op).
inline Attributes attributes_of(const Conv2dOptions& o) {
  return {{"in_channels", o.in.channels}, {"in_height", o.in.height}, {"in_width", o.in.width},
          {"out_channels", o.out_channels}, {"kernel", o.kernel}, {"stride", o.stride},
          {"padding", o.padding}};
}
inline Attributes attributes_of(const Pool2dOptions& o) {
  return {{"in_channels", o.in.channels}, {"in_height", o.in.height}, {"in_width", o.in.width},
          {"size", o.size}, {"stride", o.stride}};
}
inline ImageShape image_shape_of(AttributeReader& a) {
  return {.channels = a.integer("in_channels"), .height = a.integer("in_height"), .width = a.integer("in_width")};
}
inline Conv2dOptions conv2d_options_of(AttributeReader& a) {
  Conv2dOptions o{.in = image_shape_of(a)};
  o.out_channels = a.integer("out_channels");
  o.kernel = a.integer("kernel");
  o.stride = a.integer("stride");
  o.padding = a.integer("padding");
  return o;
}
inline Pool2dOptions pool2d_options_of(AttributeReader& a) {
  Pool2dOptions o{.in = image_shape_of(a)};
  o.size = a.integer("size");
  o.stride = a.integer("stride");
  return o;
}

template <class Derived, class Options, class Geometry>
class ImageOp : public OpBase<Derived> {
 public:
  explicit ImageOp(const Options& o) : options_(o), g_(Geometry::of(o)) {}

  // "conv2d 1×28×28 → 6×28×28, 5×5 kernel, stride 1, padding 2"
  std::string label() const override { return std::string(this->key()) + " " + g_.describe(); }
  Attributes attributes() const override { return attributes_of(options_); }

 protected:
  Options options_;
  Geometry g_;
};

template <class Derived>
using ConvOp = ImageOp<Derived, Conv2dOptions, ConvGeometry>;
template <class Derived>
using PoolOp = ImageOp<Derived, Pool2dOptions, PoolGeometry>;

// The pools' shape rule: rows of images in, rows of pooled images out.
inline Shape pooled_rows(const PoolGeometry& g, Shape in) {
  check(g);
  check_row_width("the images'", in.cols, g.in);
  return {in.rows, g.out_size()};
}

// How an ONNX export writes a pool (OpEntry::onnx): the rows of images as
// NCHW, pooled by ONNX operator `type`, and back to rows.
inline void write_onnx_pool2d(OnnxWriter& w, const std::string& type) {
  const Pool2dOptions o = pool2d_options_of(w.attributes());
  const ImageShape y = pool2d_output(o);
  const std::int64_t stride = o.stride == 0 ? o.size : o.stride;
  const std::string x = w.reshape(w.in()[0], "nchw", {-1, o.in.channels, o.in.height, o.in.width});
  const std::string pool = w.helper(w.out(), "pool");
  w.node(type, {x}, pool)
      .attr("kernel_shape", std::vector<std::int64_t>{o.size, o.size})
      .attr("strides", std::vector<std::int64_t>{stride, stride});
  w.node("Reshape", {pool, w.ints(w.out(), "rows", {-1, y.channels * y.height * y.width})}, w.out());
}

}  // namespace dagrad::detail
