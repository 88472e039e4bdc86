// Image rows for conv2d and the pooling ops: their geometry, its checks, the
// grid conv2d's kernels work on, and the im2col / col2im maps that turn a
// strided convolution into one matrix product.
//   ConvGeometry g = ConvGeometry::of(options);  check(g);  im2col(x_row, g, col, g.out_pixels());
#pragma once

#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/detail/scratch.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/core/ops.hpp>

#include <algorithm>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace dagrad::detail {

inline std::string dims(Dim a, Dim b) { return std::to_string(a) + "×" + std::to_string(b); }
inline std::string dims(const ImageShape& s) {
  return std::to_string(s.channels) + "×" + dims(s.height, s.width);
}

// How many positions a window of `size` takes along `extent` (padded both
// sides by `padding`) moving by `stride`: floor((extent + 2p - size) / stride) + 1,
// or 0 when the window does not fit.
// Sizes beyond any memory are refused by check() before their products
// are formed: no image, patch or weight matrix holds more values than this.
inline constexpr Dim max_image_values = Dim{1} << 40;

// Whether the product of `factors` is at most max_image_values (all positive).
inline bool fits(std::initializer_list<Dim> factors) {
  Dim product = 1;
  for (const Dim f : factors) {
    if (f < 0 || f > max_image_values || __builtin_mul_overflow(product, f, &product) ||
        product > max_image_values) {
      return false;
    }
  }
  return true;
}

inline Dim positions(Dim extent, Dim size, Dim stride, Dim padding) {
  if (!fits({extent}) || !fits({size}) || !fits({padding})) return 0;  // check() refuses these
  const Dim room = extent + 2 * padding - size;
  return room < 0 || stride < 1 ? 0 : room / stride + 1;
}

struct ConvGeometry {
  ImageShape in;
  Dim out_channels = 0, kernel = 0, stride = 0, padding = 0;
  Dim out_height = 0, out_width = 0;

  static ConvGeometry of(const Conv2dOptions& o) {
    return {o.in, o.out_channels, o.kernel, o.stride, o.padding,
            positions(o.in.height, o.kernel, o.stride, o.padding),
            positions(o.in.width, o.kernel, o.stride, o.padding)};
  }
  Dim in_size() const { return in.channels * in.height * in.width; }
  Dim out_pixels() const { return out_height * out_width; }
  Dim out_size() const { return out_channels * out_pixels(); }
  Dim patch_size() const { return in.channels * kernel * kernel; }  // one weight row
  ImageShape out() const { return {out_channels, out_height, out_width}; }

  // "1×28×28 → 6×28×28, 5×5 kernel, stride 1, padding 2" for labels.
  std::string describe() const {
    return dims(in) + " → " + dims(out()) + ", " + dims(kernel, kernel) + " kernel, stride " +
           std::to_string(stride) + ", padding " + std::to_string(padding);
  }
};

inline std::string describe_sizes(const ConvGeometry& g) {
  return "in " + dims(g.in) + ", out_channels " + std::to_string(g.out_channels) + ", kernel " +
         std::to_string(g.kernel) + ", stride " + std::to_string(g.stride) + ", padding " +
         std::to_string(g.padding);
}

// The options alone: positive sizes that fit in memory, and a kernel that
// fits the padded image.
inline void check(const ConvGeometry& g) {
  if (g.in.channels < 1 || g.in.height < 1 || g.in.width < 1 || g.out_channels < 1 ||
      g.kernel < 1 || g.stride < 1 || g.padding < 0) {
    throw ShapeError("the geometry needs positive channels, height, width, out_channels, kernel "
                     "and stride and a padding of 0 or more; got " + describe_sizes(g));
  }
  // The image and the padding alone first: each then fits in 2^40, so the
  // padded sizes below cannot overflow.
  if (!fits({g.padding}) || !fits({g.in.channels, g.in.height, g.in.width}) ||
      !fits({g.in.channels, g.in.height + 2 * g.padding, g.in.width + 2 * g.padding}) ||
      !fits({g.out_channels, g.in.channels, g.kernel, g.kernel}) ||
      !fits({g.out_channels, g.out_height, g.out_width})) {
    throw ShapeError("the geometry is too large (" + describe_sizes(g) + "): an image, its padded planes, "
                     "the weights or the output would hold more than 2^40 values");
  }
  if (g.kernel > g.in.height + 2 * g.padding || g.kernel > g.in.width + 2 * g.padding) {
    throw ShapeError("the " + dims(g.kernel, g.kernel) + " kernel is larger than the " +
                     dims(g.in.height + 2 * g.padding, g.in.width + 2 * g.padding) +
                     " padded image (" + dims(g.in.height, g.in.width) + " with padding " +
                     std::to_string(g.padding) + ")");
  }
}

// `what`'s rows must hold one image each: `expected` = channels × height × width.
inline void check_row_width(const char* what, Dim cols, const ImageShape& s) {
  const Dim expected = s.channels * s.height * s.width;
  if (cols != batch && cols != expected) {
    throw ShapeError(std::string(what) + " rows hold " + std::to_string(cols) +
                     " values, not channels × height × width = " + dims(s) + " = " +
                     std::to_string(expected));
  }
}

inline void check_weights(Shape w, const ConvGeometry& g) {
  if (w.rows != g.out_channels || w.cols != g.patch_size()) {
    throw ShapeError("the weights are " + to_string(w) +
                     ", not out_channels × (in_channels × kernel × kernel) = " +
                     std::to_string(g.out_channels) + "×(" + std::to_string(g.in.channels) + "×" +
                     dims(g.kernel, g.kernel) + ") = " + dims(g.out_channels, g.patch_size()));
  }
}

inline Dim same_rows(Dim a, Dim b) {
  if (a == batch) return b;
  if (b == batch || a == b) return a;
  throw ShapeError("row counts (images) differ (" + std::to_string(a) + " and " +
                   std::to_string(b) + ")");
}

// The output positions o in [first, last) whose input position
// o * stride - padding + offset lies inside [0, extent).
struct Span {
  Dim first, last;
};
inline Span inside(Dim offset, Dim extent, Dim stride, Dim padding, Dim outputs) {
  // o * s >= p - offset  and  o * s <= extent - 1 + p - offset
  const Dim low = padding - offset, high = extent - 1 + padding - offset;
  const Dim first = low <= 0 ? 0 : (low + stride - 1) / stride;
  const Dim last = high < 0 ? 0 : std::min(outputs, high / stride + 1);
  return {std::min(first, last), last};
}

// col(r, p) = the image's value under kernel element r = (c, ki, kj) when the
// kernel sits at output pixel p = (oh, ow); 0 in the padding. col's rows are
// `ld` apart, so several images' columns can sit side by side.
template <class T>
void im2col(const T* image, const ConvGeometry& g, T* col, Dim ld) {
  const Dim k = g.kernel, s = g.stride, p = g.padding, ow_count = g.out_width;
  for (Dim c = 0; c < g.in.channels; ++c) {
    for (Dim ki = 0; ki < k; ++ki) {
      const Span rows = inside(ki, g.in.height, s, p, g.out_height);
      for (Dim kj = 0; kj < k; ++kj) {
        T* dst = col + ((c * k + ki) * k + kj) * ld;
        const Span cols = inside(kj, g.in.width, s, p, ow_count);
        for (Dim oh = 0; oh < g.out_height; ++oh) {
          T* d = dst + oh * ow_count;
          if (oh < rows.first || oh >= rows.last) {
            std::fill(d, d + ow_count, T(0));
            continue;
          }
          // Input pixel (oh * s - p + ki, ow * s - p + kj) of channel c.
          const T* line = image + (c * g.in.height + oh * s - p + ki) * g.in.width;
          std::fill(d, d + cols.first, T(0));
          if (s == 1) {
            std::copy(line + cols.first - p + kj, line + cols.last - p + kj, d + cols.first);
          } else {
            for (Dim ow = cols.first; ow < cols.last; ++ow) d[ow] = line[ow * s - p + kj];
          }
          std::fill(d + cols.last, d + ow_count, T(0));
        }
      }
    }
  }
}

// The adjoint of im2col: image += each col(r, p) at the pixel it was read
// from (padding positions dropped), in one fixed order: r, then p.
template <class T>
void col2im(const T* col, const ConvGeometry& g, T* image, Dim ld) {
  const Dim k = g.kernel, s = g.stride, p = g.padding, ow_count = g.out_width;
  for (Dim c = 0; c < g.in.channels; ++c) {
    for (Dim ki = 0; ki < k; ++ki) {
      const Span rows = inside(ki, g.in.height, s, p, g.out_height);
      for (Dim kj = 0; kj < k; ++kj) {
        const T* src = col + ((c * k + ki) * k + kj) * ld;
        const Span cols = inside(kj, g.in.width, s, p, ow_count);
        for (Dim oh = rows.first; oh < rows.last; ++oh) {
          T* line = image + (c * g.in.height + oh * s - p + ki) * g.in.width;
          const T* from = src + oh * ow_count;
          for (Dim ow = cols.first; ow < cols.last; ++ow) line[ow * s - p + kj] += from[ow];
        }
      }
    }
  }
}

// Where conv2d's kernels put an image's output pixels.
//
// (A stride-1 batch of at least one SIMD packet of images works with the
// images in lanes instead: detail/lanes.hpp.) At stride 1 the rest work on
// a wide grid: each output row keeps all
// Wp = W + 2p positions of the padded width, of which the first OW are
// real. The patch value under kernel element r = (c, ki, kj) at output
// position t = oh·Wp + ow is then padded[c][ki·Wp + kj + t]: one shifted
// run of the padded image per r, which the direct correlations of
// detail/correlate.hpp read in place (no im2col copy). They compute Wp/OW
// more outputs (1.14x for LeNet's first layer); the extra ones are dropped
// by to_output(), and from_output() gives them a zero gradient, so they add
// nothing to dW or dX (unless an image or weight holds an infinity: 0·inf).
// Other strides use the plain grid (Wp = OW), im2col and a GEMM.
inline bool wide_grid(const ConvGeometry& g) { return g.stride == 1; }
inline Dim grid_width(const ConvGeometry& g) {
  return wide_grid(g) ? g.in.width + 2 * g.padding : g.out_width;
}
// Output positions per image: OH·Wp on the wide grid, OH·OW otherwise.
inline Dim columns_per_image(const ConvGeometry& g) { return g.out_height * grid_width(g); }
// One padded channel on the wide grid: Hp·Wp.
inline Dim padded_plane(const ConvGeometry& g) { return (g.in.height + 2 * g.padding) * grid_width(g); }

// Where each kernel element's run starts in the padded image: r = (c, ki, kj)
// at c·plane + ki·Wp + kj, in the weights' column order; `extra` more
// entries, 0, for callers that pad the taps to a multiple.
inline std::span<Dim> tap_offsets(const ConvGeometry& g, Scratch& scratch, Dim extra = 0) {
  const Dim taps = g.patch_size();
  Dim* offset = scratch.take<Dim>(taps + extra);
  Dim r = 0;
  for (Dim c = 0; c < g.in.channels; ++c) {
    for (Dim ki = 0; ki < g.kernel; ++ki) {
      for (Dim kj = 0; kj < g.kernel; ++kj) offset[r++] = c * padded_plane(g) + ki * grid_width(g) + kj;
    }
  }
  std::fill(offset + taps, offset + taps + extra, Dim{0});
  return {offset, static_cast<std::size_t>(taps + extra)};
}

// One task's scratch for moving images and outputs on and off the grid,
// taken from the task's scratch frame.
template <class T>
class ImageGrid {
 public:
  ImageGrid(const ConvGeometry& g, Scratch& scratch)
      : g_(g), width_(grid_width(g)), plane_(padded_plane(g)) {
    if (!wide_grid(g)) return;
    // The last rows' runs read up to k - 1 values past the last plane,
    // and a direct correlation up to a tile (at most 64) more.
    padded_ = scratch.take<T>(padded_size());
    std::fill(padded_, padded_ + padded_size(), T(0));
  }

  // The image in the middle of zero-bordered planes, each Hp·Wp (wide grid
  // only; the borders and the slack stay zero); valid until the next call.
  // What pad() returns holds this many values, the slack included.
  Dim padded_size() const { return g_.in.channels * plane_ + g_.kernel - 1 + 64; }

  const T* pad(const T* image) {
    const Dim p = g_.padding, h = g_.in.height, w = g_.in.width;
    for (Dim c = 0; c < g_.in.channels; ++c) {
      for (Dim i = 0; i < h; ++i) {
        const T* from = image + (c * h + i) * w;
        std::copy(from, from + w, padded_ + c * plane_ + (i + p) * width_ + p);
      }
    }
    return padded_;
  }

  // The reverse: an image's pixels from padded planes `plane_ld` apart.
  void unpad(const T* padded, Dim plane_ld, T* image) const {
    const Dim p = g_.padding, h = g_.in.height, w = g_.in.width;
    for (Dim c = 0; c < g_.in.channels; ++c) {
      for (Dim i = 0; i < h; ++i) {
        const T* from = padded + c * plane_ld + (i + p) * width_ + p;
        std::copy(from, from + w, image + (c * h + i) * w);
      }
    }
  }

  // A row of conv2d's output (out_channels × OH × OW) from an image's
  // outputs on the grid (out_channels rows, `ld` apart).
  void to_output(const T* y, Dim ld, T* out_row) const {
    for (Dim o = 0; o < g_.out_channels; ++o) {
      for (Dim oh = 0; oh < g_.out_height; ++oh) {
        const T* from = y + o * ld + oh * width_;
        std::copy(from, from + g_.out_width, out_row + (o * g_.out_height + oh) * g_.out_width);
      }
    }
  }

  // The reverse, with zeros in the wide grid's extra columns (one fill
  // per channel: a call per row's few extra columns costs more).
  void from_output(const T* dy_row, T* dys, Dim ld) const {
    for (Dim o = 0; o < g_.out_channels; ++o) {
      if (wide_grid(g_)) std::fill(dys + o * ld, dys + o * ld + columns_per_image(g_), T(0));
      for (Dim oh = 0; oh < g_.out_height; ++oh) {
        const T* from = dy_row + (o * g_.out_height + oh) * g_.out_width;
        std::copy(from, from + g_.out_width, dys + o * ld + oh * width_);
      }
    }
  }

 private:
  ConvGeometry g_;
  Dim width_;  // positions per output row: Wp on the wide grid, else OW
  Dim plane_;  // one padded channel
  T* padded_ = nullptr;  // the zero-bordered planes (wide grid only)
};

// Images handled together in one task: enough that one block's working
// set fills about 64K elements (256 KiB of floats, which stay in L2; 4x
// that measured slower for im2col + GEMM at LeNet's shapes), at most 8 and
// at least 1. Fixed by the geometry alone, never by the thread count, so
// sums over a block are formed the same way on any number of threads.
inline Dim images_per_block(Dim per_image_elements) {
  return std::clamp<Dim>((Dim{1} << 16) / std::max<Dim>(per_image_elements, 1), 1, 8);
}

inline Dim block_count(Dim images, Dim per_block) { return (images + per_block - 1) / per_block; }

// f(block, first_image, count) for each block of `per_block` images (the
// last may be shorter), the blocks shared among the arena's threads.
template <class F>
void image_blocks(Dim images, Dim per_block, const F& f) {
  parallel_chunks(block_count(images, per_block), [&](std::int64_t b) {
    const Dim first = b * per_block;
    f(b, first, std::min(per_block, images - first));
  });
}

struct PoolGeometry {
  ImageShape in;
  Dim size = 0, stride = 0;
  Dim out_height = 0, out_width = 0;

  static PoolGeometry of(const Pool2dOptions& o) {
    const Dim stride = o.stride == 0 ? o.size : o.stride;
    return {o.in, o.size, stride, positions(o.in.height, o.size, stride, 0),
            positions(o.in.width, o.size, stride, 0)};
  }
  Dim in_size() const { return in.channels * in.height * in.width; }
  Dim out_size() const { return in.channels * out_height * out_width; }
  ImageShape out() const { return {in.channels, out_height, out_width}; }

  // "6×28×28 → 6×14×14, 2×2 window, stride 2" for labels.
  std::string describe() const {
    return dims(in) + " → " + dims(out()) + ", " + dims(size, size) + " window, stride " +
           std::to_string(stride);
  }
};

// Positive sizes, and windows that tile the image: side by side or
// overlapping, never leaving a gap, the last one ending at the edge.
inline void check(const PoolGeometry& g) {
  if (g.in.channels < 1 || g.in.height < 1 || g.in.width < 1 || g.size < 1 || g.stride < 1) {
    throw ShapeError("the geometry needs positive channels, height, width, size and stride; got in " +
                     dims(g.in) + ", size " + std::to_string(g.size) + ", stride " +
                     std::to_string(g.stride));
  }
  if (!fits({g.in.channels, g.in.height, g.in.width})) {
    throw ShapeError("the images are too large (" + dims(g.in) + "): more than 2^40 values each");
  }
  const auto tiles = [&](Dim extent) {
    return g.size <= extent && g.stride <= g.size && (extent - g.size) % g.stride == 0;
  };
  if (!tiles(g.in.height) || !tiles(g.in.width)) {
    throw ShapeError("a " + dims(g.size, g.size) + " pool with stride " + std::to_string(g.stride) +
                     " does not tile a " + dims(g.in.height, g.in.width) +
                     " image (windows must fit, leave no gap and end at the edge: extent - size "
                     "a multiple of the stride, stride at most the size)");
  }
}

// For each image n of a batch: start(n), then f(n, plane, k, top_left) for
// each window of each channel, where `plane` is the offset of the window's
// channel in a row of images, k the window's index in a row of the pooled
// output and top_left the window's first pixel within its plane. Images
// are shared among threads in blocks; each image is one thread's.
template <class Start, class F>
void each_window(Dim images, const PoolGeometry& g, const Start& start, const F& f) {
  const Dim plane_size = g.in.height * g.in.width;
  image_blocks(images, images_per_block(g.in_size() * 8), [&](Dim, Dim first, Dim count) {
    for (Dim n = first; n < first + count; ++n) {
      start(n);
      Dim k = 0;
      for (Dim c = 0; c < g.in.channels; ++c) {
        for (Dim oh = 0; oh < g.out_height; ++oh) {
          for (Dim ow = 0; ow < g.out_width; ++ow) {
            f(n, c * plane_size, k++, oh * g.stride * g.in.width + ow * g.stride);
          }
        }
      }
    }
  });
}

inline bool side_by_side_2x2(const PoolGeometry& g) { return g.size == 2 && g.stride == 2; }

// The offset in `plane` (one channel) of the first maximum of the window
// whose first pixel is at top_left, scanning the window row by row: max_pool2d and its gradient
// agree on it, ties included. A NaN in the window is never picked after
// the first element (no comparison with it is true).
template <class T>
Dim window_max(const T* plane, const PoolGeometry& g, Dim top_left) {
  const Dim size = g.size;
  Dim best = top_left;
  T best_value = plane[top_left];
  for (Dim i = 0; i < size; ++i) {
    for (Dim j = 0; j < size; ++j) {
      // Arithmetic, not a branch: which pixel wins is data, and a branch on
      // it mispredicted about half the time (max_pool2d_grad took several
      // times the forward: docs/benchmarks.md). std::max(b, v) is
      // (b < v ? v : b), the same test as v > b.
      const Dim at = top_left + i * g.in.width + j;
      const T v = plane[at];
      best += (at - best) * Dim(v > best_value);
      best_value = std::max(best_value, v);
    }
  }
  return best;
}

}  // namespace dagrad::detail
