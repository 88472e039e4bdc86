#include <dagrad/io/atomic_file.hpp>
#include <dagrad/io/image.hpp>
#include "file_problem.hpp"

#include <png.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace dagrad {

namespace {

using io_files::fail;

std::string hex_bytes(const std::vector<std::uint8_t>& bytes, std::size_t n) {
  std::string s;
  char buf[8];
  for (std::size_t i = 0; i < std::min(n, bytes.size()); ++i) {
    std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", bytes[i]);
    s += buf;
  }
  return s.empty() ? "nothing" : s;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) fail(path, "cannot read its size");
  // An ASCII PNM spends at most a few characters per byte of image.
  if (static_cast<std::uint64_t>(size) > 8 * max_image_bytes) {
    fail(path, "the file is " + std::to_string(size) + " bytes, more than any image dagrad reads");
  }
  in.seekg(0);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (in.gcount() != size) fail(path, "cannot read the whole file");
  return bytes;
}

void check_size(const std::string& path, std::uint64_t height, std::uint64_t width, std::uint64_t channels) {
  if (height == 0 || width == 0) {
    fail(path, "the image is " + std::to_string(width) + "x" + std::to_string(height) + " pixels (zero)");
  }
  // Each factor is below 2^32, so two products cannot overflow before the check.
  if (width > max_image_bytes || height > max_image_bytes || width * height > max_image_bytes ||
      width * height * channels > max_image_bytes) {
    fail(path, "the image is " + std::to_string(width) + "x" + std::to_string(height) + " pixels of " +
                   std::to_string(channels) + " channels, over the limit of " +
                   std::to_string(max_image_bytes) + " bytes");
  }
}

// ---- PNG, through libpng. Its errors longjmp back to the setjmp in the
// function that called libpng; those functions hold only trivially
// destructible locals, so the jump skips no destructor.

struct PngContext {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0, pos = 0;
  std::string* out = nullptr;  // writing
  char message[256] = {};
};

void png_on_error(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(ctx->message, sizeof ctx->message, "%s", message);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}  // a warning leaves the image readable

void png_read_memory(png_structp png, png_bytep out, png_size_t n) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (n > ctx->size - ctx->pos) png_error(png, "truncated: the file ends in the middle of the image");
  std::memcpy(out, ctx->data + ctx->pos, n);
  ctx->pos += n;
}

void png_write_memory(png_structp png, png_bytep data, png_size_t n) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  ctx->out->append(reinterpret_cast<const char*>(data), n);
}

void png_flush_memory(png_structp) {}

struct PngHeader {
  png_uint_32 width, height;
  int channels;
  std::size_t rowbytes;
};

bool png_read_header(png_structp png, png_infop info, PngHeader* h) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  png_set_expand(png);  // palette -> RGB, gray below 8 bits -> 8, tRNS -> alpha
  png_set_scale_16(png);  // 16 -> 8 bits, rounded
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  h->width = png_get_image_width(png, info);
  h->height = png_get_image_height(png, info);
  h->channels = png_get_channels(png, info);
  h->rowbytes = png_get_rowbytes(png, info);
  return true;
}

bool png_read_body(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, info);
  return true;
}

Image read_png(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  PngContext ctx;
  ctx.data = bytes.data();
  ctx.size = bytes.size();
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
  if (!png) fail(path, "libpng cannot start");
  png_infop info = png_create_info_struct(png);
  struct Guard {
    png_structp* png;
    png_infop* info;
    ~Guard() { png_destroy_read_struct(png, info, nullptr); }
  } guard{&png, &info};
  if (!info) fail(path, "libpng cannot start");
  png_set_read_fn(png, &ctx, png_read_memory);
  // Refuse absurd headers in libpng, before it allocates rows for them.
  png_set_user_limits(png, 1u << 20, 1u << 20);

  PngHeader h{};
  if (!png_read_header(png, info, &h)) fail(path, std::string("corrupt PNG: ") + ctx.message);
  check_size(path, h.height, h.width, static_cast<std::uint64_t>(h.channels));
  if (h.rowbytes != std::size_t{h.width} * static_cast<std::size_t>(h.channels)) {
    fail(path, "corrupt PNG: unexpected row size after expanding to 8 bits");
  }
  Image image = make_image(h.height, h.width, static_cast<std::size_t>(h.channels));
  std::vector<png_bytep> rows(h.height);
  for (std::size_t r = 0; r < h.height; ++r) rows[r] = image.pixels.data() + r * h.rowbytes;
  if (!png_read_body(png, info, rows.data())) fail(path, std::string("corrupt PNG: ") + ctx.message);
  return image;
}

bool png_write_all(png_structp png, png_infop info, const Image* image, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  static const int color_types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                    PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_IHDR(png, info, static_cast<png_uint_32>(image->width), static_cast<png_uint_32>(image->height), 8,
               color_types[image->channels - 1], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

// ---- PGM and PPM (netpbm): a text header, then binary or ASCII samples.

struct PnmParser {
  const std::string& path;
  const std::vector<std::uint8_t>& bytes;
  std::size_t pos = 2;

  void skip_space_and_comments() {
    while (pos < bytes.size()) {
      if (bytes[pos] == '#') {
        while (pos < bytes.size() && bytes[pos] != '\n' && bytes[pos] != '\r') ++pos;
      } else if (std::isspace(bytes[pos])) {
        ++pos;
      } else {
        break;
      }
    }
  }

  std::uint64_t number(const char* what) {
    skip_space_and_comments();
    if (pos >= bytes.size()) fail(path, std::string("truncated: the file ends before the ") + what);
    if (!std::isdigit(bytes[pos])) {
      fail(path, std::string("corrupt: expected the ") + what + " as a number at byte " + std::to_string(pos));
    }
    std::uint64_t v = 0;
    while (pos < bytes.size() && std::isdigit(bytes[pos])) {
      v = v * 10 + (bytes[pos++] - '0');
      if (v > (std::uint64_t{1} << 40)) fail(path, std::string("corrupt: the ") + what + " is absurdly large");
    }
    return v;
  }
};

Image read_pnm(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const char kind = static_cast<char>(bytes[1]);
  const bool ascii = kind == '2' || kind == '3';
  const std::size_t channels = (kind == '3' || kind == '6') ? 3 : 1;
  PnmParser p{path, bytes};
  const std::uint64_t width = p.number("width");
  const std::uint64_t height = p.number("height");
  const std::uint64_t maxval = p.number("maximum value");
  if (maxval == 0 || maxval > 65535) {
    fail(path, "corrupt: the maximum value is " + std::to_string(maxval) + ", not 1 to 65535");
  }
  check_size(path, height, width, channels);
  const std::size_t count = height * width * channels;
  auto scale = [maxval](std::uint64_t v) {
    return static_cast<std::uint8_t>((v * 255 + maxval / 2) / maxval);
  };

  Image image;
  image.height = height;
  image.width = width;
  image.channels = channels;
  if (ascii) {
    image.pixels.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      p.skip_space_and_comments();
      if (p.pos >= bytes.size()) {
        fail(path, "truncated: " + std::to_string(i) + " of " + std::to_string(count) + " samples");
      }
      const std::uint64_t v = p.number("sample");
      if (v > maxval) {
        fail(path, "corrupt: sample " + std::to_string(i) + " is " + std::to_string(v) + ", over the maximum " +
                       std::to_string(maxval));
      }
      image.pixels[i] = scale(v);
    }
    return image;
  }
  // Exactly one whitespace byte separates the header from binary samples.
  if (p.pos >= bytes.size() || !std::isspace(bytes[p.pos])) {
    fail(path, "truncated: no image data after the header");
  }
  ++p.pos;
  const std::size_t bytes_per_sample = maxval > 255 ? 2 : 1;
  const std::size_t needed = count * bytes_per_sample;
  const std::size_t have = bytes.size() - p.pos;
  if (have < needed) {
    fail(path, "truncated: the header declares " + std::to_string(width) + "x" + std::to_string(height) +
                   " pixels (" + std::to_string(needed) + " bytes of data) but " + std::to_string(have) +
                   " bytes follow");
  }
  image.pixels.resize(count);
  const std::uint8_t* d = bytes.data() + p.pos;
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t v = bytes_per_sample == 2 ? (std::uint64_t{d[2 * i]} << 8 | d[2 * i + 1]) : d[i];
    if (v > maxval) v = maxval;
    image.pixels[i] = maxval == 255 ? static_cast<std::uint8_t>(v) : scale(v);
  }
  return image;
}

std::uint8_t to_byte(double v) {
  return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
}

template <class T>
Image roll_impl(const Matrix<T>& row, std::size_t height, std::size_t width, std::size_t channels) {
  const std::size_t n = height * width * channels;
  if (static_cast<std::size_t>(row.size()) != n) {
    throw ShapeError("roll: a " + to_string(shape_of(row)) + " row holds " + std::to_string(row.size()) +
                     " values, but a " + std::to_string(height) + "x" + std::to_string(width) + "x" +
                     std::to_string(channels) + " image needs " + std::to_string(n));
  }
  Image image = make_image(height, width, channels);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(row.data()[i]);
    image.pixels[i] = to_byte(std::isnan(v) ? 0.0 : std::clamp(v, 0.0, 1.0) * 255.0);
  }
  return image;
}

// Resamples n_in values along one axis to n_out by area averaging: output k
// covers input [k*n_in/n_out, (k+1)*n_in/n_out), each input weighted by overlap.
std::vector<double> resample(const std::vector<double>& in, std::size_t rows, std::size_t cols,
                             std::size_t out_rows, std::size_t out_cols) {
  auto axis = [](std::size_t n_in, std::size_t n_out) {
    std::vector<std::vector<std::pair<std::size_t, double>>> w(n_out);
    const double step = double(n_in) / double(n_out);
    for (std::size_t k = 0; k < n_out; ++k) {
      const double a = k * step, b = (k + 1) * step;
      for (std::size_t i = static_cast<std::size_t>(a); i < n_in && double(i) < b; ++i) {
        const double overlap = std::min(b, double(i + 1)) - std::max(a, double(i));
        if (overlap > 0) w[k].push_back({i, overlap / step});
      }
    }
    return w;
  };
  const auto wr = axis(rows, out_rows), wc = axis(cols, out_cols);
  std::vector<double> tmp(rows * out_cols, 0.0), out(out_rows * out_cols, 0.0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t k = 0; k < out_cols; ++k) {
      for (const auto& [i, f] : wc[k]) tmp[r * out_cols + k] += f * in[r * cols + i];
    }
  }
  for (std::size_t k = 0; k < out_rows; ++k) {
    for (const auto& [i, f] : wr[k]) {
      for (std::size_t c = 0; c < out_cols; ++c) out[k * out_cols + c] += f * tmp[i * out_cols + c];
    }
  }
  return out;
}

}  // namespace

Image make_image(std::size_t height, std::size_t width, std::size_t channels, std::uint8_t fill) {
  Image image;
  image.height = height;
  image.width = width;
  image.channels = channels;
  image.pixels.assign(height * width * channels, fill);
  return image;
}

Image read_image(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_bytes(path);
  static const std::uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 4 && std::equal(png_magic, png_magic + 4, bytes.begin())) {
    if (bytes.size() < 8 || !std::equal(png_magic, png_magic + 8, bytes.begin())) {
      fail(path, "truncated or corrupt PNG signature");
    }
    return read_png(path, bytes);
  }
  if (bytes.size() >= 2 && bytes[0] == 'P' && std::string_view("2356").find(char(bytes[1])) != std::string_view::npos) {
    return read_pnm(path, bytes);
  }
  fail(path, "unknown image format: PNG, PGM (P2, P5) or PPM (P3, P6) expected, but the file starts with " +
                 hex_bytes(bytes, 8));
}

void write_png(const Image& image, const std::string& path) {
  if (image.channels < 1 || image.channels > 4 || image.height == 0 || image.width == 0 ||
      image.pixels.size() != image.size()) {
    throw Error(path + ": cannot write a " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                " image of " + std::to_string(image.channels) + " channels and " +
                std::to_string(image.pixels.size()) + " bytes as PNG");
  }
  std::string encoded;
  PngContext ctx;
  ctx.out = &encoded;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
  if (!png) throw Error(path + ": libpng cannot start");
  png_infop info = png_create_info_struct(png);
  struct Guard {
    png_structp* png;
    png_infop* info;
    ~Guard() { png_destroy_write_struct(png, info); }
  } guard{&png, &info};
  if (!info) throw Error(path + ": libpng cannot start");
  png_set_write_fn(png, &ctx, png_write_memory, png_flush_memory);
  std::vector<png_bytep> rows(image.height);
  const std::size_t stride = image.width * image.channels;
  for (std::size_t r = 0; r < image.height; ++r) {
    rows[r] = const_cast<png_bytep>(image.pixels.data() + r * stride);  // libpng only reads them
  }
  if (!png_write_all(png, info, &image, rows.data())) throw Error(path + ": cannot encode PNG: " + ctx.message);
  write_file_atomically(path, encoded);
}

Matrix<float> unroll(const Image& image) {
  Matrix<float> row(1, static_cast<Eigen::Index>(image.pixels.size()));
  for (std::size_t i = 0; i < image.pixels.size(); ++i) {
    row(0, static_cast<Eigen::Index>(i)) = static_cast<float>(image.pixels[i]) / 255.0f;
  }
  return row;
}

Image roll(const Matrix<float>& row, std::size_t height, std::size_t width, std::size_t channels) {
  return roll_impl(row, height, width, channels);
}

Image roll(const Matrix<double>& row, std::size_t height, std::size_t width, std::size_t channels) {
  return roll_impl(row, height, width, channels);
}

Image to_grayscale(const Image& image) {
  if (image.channels < 1 || image.channels > 4 || image.pixels.size() != image.size()) {
    throw Error("to_grayscale: an image of " + std::to_string(image.channels) + " channels and " +
                std::to_string(image.pixels.size()) + " bytes for " + std::to_string(image.width) + "x" +
                std::to_string(image.height) + " pixels");
  }
  if (image.channels == 1) return image;
  Image gray = make_image(image.height, image.width, 1);
  const std::size_t n = image.height * image.width;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = image.pixels.data() + i * image.channels;
    double v = image.channels >= 3 ? 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] : double(p[0]);
    if (image.channels == 2 || image.channels == 4) {
      const double alpha = p[image.channels - 1] / 255.0;
      v = alpha * v + (1.0 - alpha) * 255.0;  // over white paper
    }
    gray.pixels[i] = to_byte(v);
  }
  return gray;
}

Image to_mnist_digit(const Image& image) {
  constexpr std::size_t field = 28, box = 20;
  const Image gray = to_grayscale(image);
  const std::size_t h = gray.height, w = gray.width;
  if (h == 0 || w == 0) throw DataError("to_mnist_digit: the image is empty");

  double border = 0;
  std::size_t border_count = 0;
  for (std::size_t r = 0; r < h; ++r) {
    for (std::size_t c = 0; c < w; ++c) {
      if (r == 0 || c == 0 || r + 1 == h || c + 1 == w) {
        border += gray.at(r, c);
        ++border_count;
      }
    }
  }
  border /= double(border_count);
  // MNIST digits are light ink on black; dark ink on light paper is inverted.
  const bool invert = border > 127;
  std::vector<double> v(h * w);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = invert ? 255.0 - gray.pixels[i] : gray.pixels[i];
  const double background = invert ? 255.0 - border : border;
  const double ink = *std::max_element(v.begin(), v.end());
  if (ink - background < 8.0) {
    throw DataError("to_mnist_digit: the " + std::to_string(w) + "x" + std::to_string(h) +
                    " image holds no ink: no pixel stands out from the background");
  }
  // Background to 0, the darkest ink to 255.
  for (double& x : v) x = std::clamp((x - background) * 255.0 / (ink - background), 0.0, 255.0);

  // The ink's bounding box: pixels at least a quarter of full ink.
  std::size_t top = h, bottom = 0, left = w, right = 0;
  for (std::size_t r = 0; r < h; ++r) {
    for (std::size_t c = 0; c < w; ++c) {
      if (v[r * w + c] >= 64.0) {
        top = std::min(top, r);
        bottom = std::max(bottom, r);
        left = std::min(left, c);
        right = std::max(right, c);
      }
    }
  }
  const std::size_t ch = bottom - top + 1, cw = right - left + 1;
  std::vector<double> crop(ch * cw);
  for (std::size_t r = 0; r < ch; ++r) {
    for (std::size_t c = 0; c < cw; ++c) crop[r * cw + c] = v[(top + r) * w + left + c];
  }

  // The longer side to 20 pixels, the aspect ratio kept.
  const double s = double(box) / double(std::max(ch, cw));
  const std::size_t nh = std::clamp<std::size_t>(std::lround(ch * s), 1, box);
  const std::size_t nw = std::clamp<std::size_t>(std::lround(cw * s), 1, box);
  const std::vector<double> digit = resample(crop, ch, cw, nh, nw);

  // Center of mass, pixel (r, c) covering [r, r+1) x [c, c+1), moved to (14, 14).
  double mass = 0, cy = 0, cx = 0;
  for (std::size_t r = 0; r < nh; ++r) {
    for (std::size_t c = 0; c < nw; ++c) {
      const double m = digit[r * nw + c];
      mass += m;
      cy += m * (r + 0.5);
      cx += m * (c + 0.5);
    }
  }
  cy /= mass;
  cx /= mass;
  const long dy = std::clamp<long>(std::lround(field / 2.0 - cy), 0, long(field - nh));
  const long dx = std::clamp<long>(std::lround(field / 2.0 - cx), 0, long(field - nw));

  Image out = make_image(field, field, 1);
  for (std::size_t r = 0; r < nh; ++r) {
    for (std::size_t c = 0; c < nw; ++c) out.at(r + dy, c + dx) = to_byte(digit[r * nw + c]);
  }
  return out;
}

}  // namespace dagrad
