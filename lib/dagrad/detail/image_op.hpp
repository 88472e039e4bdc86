// What conv2d, the pools and their backward ops share: the options they
// were built with (for the nodes their gradient rules add), the geometry
// derived from them, and a label showing it.
//   class Conv2d final : public detail::ConvOp<Conv2d> { using ImageOp::ImageOp; ... };
#pragma once

#include <dagrad/detail/conv.hpp>
#include <dagrad/op.hpp>

#include <string>

namespace dagrad::detail {

template <class Derived, class Options, class Geometry>
class ImageOp : public OpBase<Derived> {
 public:
  explicit ImageOp(const Options& o) : options_(o), g_(Geometry::of(o)) {}

  // "conv2d 1×28×28 → 6×28×28, 5×5 kernel, stride 1, padding 2"
  std::string label() const override { return std::string(this->key()) + " " + g_.describe(); }

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

}  // namespace dagrad::detail
