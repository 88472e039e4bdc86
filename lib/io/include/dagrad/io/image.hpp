// Images as bytes, and vectorization: reading PNG/PGM/PPM files, unrolling an
// image into one row of features (the lesson's "784"), and turning a photo of
// a handwritten digit into an MNIST-style 28x28 image.
//   Image im = to_mnist_digit(read_image("my_seven.png"));
//   Matrix<float> x = unroll(im);   // 1 x 784, pixel / 255
#pragma once

#include <dagrad/core/error.hpp>
#include <dagrad/core/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dagrad {

// No image dagrad reads may hold more than this many bytes (256 MiB), checked
// against the header before anything is allocated.
inline constexpr std::uint64_t max_image_bytes = std::uint64_t{1} << 28;

struct Image {
  std::size_t height = 0, width = 0, channels = 0;  // channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  // Row-major, channels last: pixel (r, c, ch) is at (r*width + c)*channels + ch,
  // the order numpy's reshape gives an H x W x C array.
  std::vector<std::uint8_t> pixels;

  std::size_t size() const { return height * width * channels; }
  std::uint8_t& at(std::size_t r, std::size_t c, std::size_t ch = 0) {
    return pixels[(r * width + c) * channels + ch];
  }
  std::uint8_t at(std::size_t r, std::size_t c, std::size_t ch = 0) const {
    return pixels[(r * width + c) * channels + ch];
  }
  friend bool operator==(const Image&, const Image&) = default;
};

// A blank image (every byte `fill`) of the given size.
Image make_image(std::size_t height, std::size_t width, std::size_t channels, std::uint8_t fill = 0);

// Reads a PNG (any colour type and bit depth: palettes and low bit depths are
// expanded, transparency becomes an alpha channel, 16 bits become 8) or a
// binary or ASCII PGM/PPM (P5, P2, P6, P3; maxval up to 65535, scaled to 0-255),
// told apart by their first bytes whatever the name. Throws DataError naming
// the path and the problem: cannot open, unknown format, truncated, corrupt
// (with libpng's message), dimensions of zero or over max_image_bytes.
Image read_image(const std::string& path);

// Writes an 8-bit PNG (1-4 channels) to path atomically (a temporary file,
// then a rename). Throws Error naming the path.
void write_png(const Image& image, const std::string& path);

// The image as one row of height*width*channels features, in Image's order,
// each byte / 255: the lesson's x / 255. on an unrolled image.
Matrix<float> unroll(const Image& image);

// unroll's inverse, for display: values clamped to [0, 1], times 255, rounded.
// Throws ShapeError unless row holds height*width*channels values.
Image roll(const Matrix<float>& row, std::size_t height, std::size_t width, std::size_t channels);
Image roll(const Matrix<double>& row, std::size_t height, std::size_t width, std::size_t channels);

// Gray levels by luma (0.299 R + 0.587 G + 0.114 B); an alpha channel is
// composited over white first.
Image to_grayscale(const Image& image);

// What MNIST did to each scanned digit, for a picture of your own: grayscale;
// inverted when dark-on-light (the border's mean is over 127); contrast
// stretched so the background is 0; cropped to the ink's bounding box; scaled
// (area-averaged) so the longer side is 20 pixels, keeping the aspect ratio;
// and placed in a 28x28 field so its center of mass is at (14, 14).
// Returns a 28x28x1 image, light digit on black. Throws DataError when the
// image holds no ink (every pixel the same shade).
Image to_mnist_digit(const Image& image);

}  // namespace dagrad
