#include <dagrad/io/image.hpp>

#include <doctest/doctest.h>

#include <png.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace fs = std::filesystem;
using dagrad::testing::TempDir;
using dagrad::DataError;
using dagrad::Image;
using Bytes = std::vector<std::uint8_t>;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out.good());
}

Bytes read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Writes a PNG with libpng itself, independently of dagrad's writer.
// rows holds height rows of packed samples as libpng expects for color_type/bit_depth.
void write_png_with_libpng(const std::string& path, int width, int height, int color_type, int bit_depth,
                           const std::vector<Bytes>& rows, const std::vector<png_color>& palette = {},
                           const Bytes& trans = {}) {
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  REQUIRE(setjmp(png_jmpbuf(png)) == 0);
  png_init_io(png, f);
  png_set_IHDR(png, info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  if (!trans.empty()) png_set_tRNS(png, info, trans.data(), static_cast<int>(trans.size()), nullptr);
  png_write_info(png, info);
  for (const Bytes& row : rows) png_write_row(png, row.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

// A 2x3 RGB image whose every byte differs: pixel (r, c, ch) = 10*(r*3 + c) + ch + 1.
Image rgb_2x3() {
  Image im = dagrad::make_image(2, 3, 3);
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t c = 0; c < 3; ++c) {
      for (std::size_t ch = 0; ch < 3; ++ch) im.at(r, c, ch) = static_cast<std::uint8_t>(10 * (r * 3 + c) + ch + 1);
    }
  }
  return im;
}

}  // namespace

TEST_CASE("an unrolled 2x3 RGB image puts pixel (r, c) channel ch at (r*3 + c)*3 + ch, scaled to [0,1]") {
  const Image im = rgb_2x3();
  const dagrad::Matrix<float> x = dagrad::unroll(im);
  REQUIRE(x.rows() == 1);
  REQUIRE(x.cols() == 18);
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 3; ++c) {
      for (int ch = 0; ch < 3; ++ch) {
        CHECK(x(0, (r * 3 + c) * 3 + ch) == doctest::Approx((10 * (r * 3 + c) + ch + 1) / 255.0));
      }
    }
  }
  // Pixel (1, 2)'s green is element 16: the last pixel's middle channel.
  CHECK(x(0, 16) == doctest::Approx(52 / 255.0));
}

TEST_CASE("roll undoes unroll, and clamps values outside [0, 1]") {
  const Image im = rgb_2x3();
  CHECK(dagrad::roll(dagrad::unroll(im), 2, 3, 3) == im);
  dagrad::Matrix<double> row(1, 3);
  row << -0.5, 0.5, 2.0;
  const Image r = dagrad::roll(row, 1, 3, 1);
  CHECK(r.pixels == Bytes{0, 128, 255});
  CHECK_THROWS_AS(dagrad::roll(row, 2, 2, 1), dagrad::ShapeError);
}

TEST_CASE("PNGs of every colour type read back with the pixels libpng wrote") {
  const TempDir dir("image");
  SUBCASE("8-bit gray") {
    write_png_with_libpng(dir.file("g.png"), 3, 2, PNG_COLOR_TYPE_GRAY, 8, {{0, 100, 200}, {255, 7, 9}});
    const Image im = dagrad::read_image(dir.file("g.png"));
    CHECK(im.height == 2);
    CHECK(im.width == 3);
    CHECK(im.channels == 1);
    CHECK(im.pixels == Bytes{0, 100, 200, 255, 7, 9});
  }
  SUBCASE("1-bit gray expands to 0 and 255") {
    write_png_with_libpng(dir.file("g1.png"), 3, 1, PNG_COLOR_TYPE_GRAY, 1, {{0b10100000}});
    const Image im = dagrad::read_image(dir.file("g1.png"));
    CHECK(im.pixels == Bytes{255, 0, 255});
  }
  SUBCASE("16-bit gray scales to 8 bits") {
    write_png_with_libpng(dir.file("g16.png"), 2, 1, PNG_COLOR_TYPE_GRAY, 16, {{0xff, 0xff, 0x80, 0x00}});
    const Image im = dagrad::read_image(dir.file("g16.png"));
    CHECK(im.channels == 1);
    CHECK(im.pixels[0] == 255);
    CHECK(std::abs(int(im.pixels[1]) - 128) <= 1);
  }
  SUBCASE("gray + alpha") {
    write_png_with_libpng(dir.file("ga.png"), 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, {{10, 20, 30, 40}});
    const Image im = dagrad::read_image(dir.file("ga.png"));
    CHECK(im.channels == 2);
    CHECK(im.pixels == Bytes{10, 20, 30, 40});
  }
  SUBCASE("RGB, in the unrolled order") {
    const Image ref = rgb_2x3();
    std::vector<Bytes> rows{Bytes(ref.pixels.begin(), ref.pixels.begin() + 9), Bytes(ref.pixels.begin() + 9, ref.pixels.end())};
    write_png_with_libpng(dir.file("rgb.png"), 3, 2, PNG_COLOR_TYPE_RGB, 8, rows);
    const Image im = dagrad::read_image(dir.file("rgb.png"));
    CHECK(im == ref);
    const dagrad::Matrix<float> x = dagrad::unroll(im);
    CHECK(x(0, (1 * 3 + 0) * 3 + 2) == doctest::Approx(33 / 255.0));  // pixel (1, 0), blue
  }
  SUBCASE("RGBA") {
    write_png_with_libpng(dir.file("rgba.png"), 1, 2, PNG_COLOR_TYPE_RGB_ALPHA, 8, {{1, 2, 3, 4}, {5, 6, 7, 8}});
    const Image im = dagrad::read_image(dir.file("rgba.png"));
    CHECK(im.channels == 4);
    CHECK(im.pixels == Bytes{1, 2, 3, 4, 5, 6, 7, 8});
  }
  SUBCASE("a palette expands to RGB, and to RGBA with transparency") {
    const std::vector<png_color> palette{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
    write_png_with_libpng(dir.file("p.png"), 3, 1, PNG_COLOR_TYPE_PALETTE, 8, {{2, 0, 1}}, palette);
    Image im = dagrad::read_image(dir.file("p.png"));
    CHECK(im.channels == 3);
    CHECK(im.pixels == Bytes{0, 0, 255, 255, 0, 0, 0, 255, 0});
    write_png_with_libpng(dir.file("pt.png"), 2, 1, PNG_COLOR_TYPE_PALETTE, 8, {{0, 1}}, palette, {0});
    im = dagrad::read_image(dir.file("pt.png"));
    CHECK(im.channels == 4);
    CHECK(im.pixels == Bytes{255, 0, 0, 0, 0, 255, 0, 255});
  }
}

TEST_CASE("write_png writes what read_image reads, for 1 to 4 channels") {
  const TempDir dir("image");
  for (std::size_t channels = 1; channels <= 4; ++channels) {
    Image im = dagrad::make_image(5, 7, channels);
    for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<std::uint8_t>(i * 37 + channels);
    std::string name = "w";  // appended, not "w" + ...: GCC 12 warns falsely on that
    name += std::to_string(channels) + ".png";
    const std::string path = dir.file(name);
    dagrad::write_png(im, path);
    CHECK(dagrad::read_image(path) == im);
  }
  // No temporary file is left behind.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 4);
  CHECK_THROWS_AS(dagrad::write_png(Image{}, dir.file("empty.png")), dagrad::Error);
}

TEST_CASE("binary and ASCII PGM and PPM files read back, comments and maxval included") {
  const TempDir dir("image");
  write_bytes(dir.file("a.pgm"), "P2\n# a comment\n3 2\n255\n0 1 2\n3 4 255\n");
  CHECK(dagrad::read_image(dir.file("a.pgm")).pixels == Bytes{0, 1, 2, 3, 4, 255});
  write_bytes(dir.file("b.pgm"), std::string("P5 2 2 255\n") + std::string("\x00\x7f\x80\xff", 4));
  const Image b = dagrad::read_image(dir.file("b.pgm"));
  CHECK(b.channels == 1);
  CHECK(b.pixels == Bytes{0, 127, 128, 255});
  write_bytes(dir.file("c.ppm"), "P3 2 1 15\n15 0 0  0 15 0\n");
  const Image c = dagrad::read_image(dir.file("c.ppm"));
  CHECK(c.channels == 3);
  CHECK(c.pixels == Bytes{255, 0, 0, 0, 255, 0});
  const Image ref = rgb_2x3();
  write_bytes(dir.file("d.ppm"), "P6\n3 2\n255\n" + std::string(ref.pixels.begin(), ref.pixels.end()));
  CHECK(dagrad::read_image(dir.file("d.ppm")) == ref);
  // 16-bit samples, big-endian.
  write_bytes(dir.file("e.pgm"), std::string("P5 2 1 65535\n") + std::string("\xff\xff\x00\x00", 4));
  CHECK(dagrad::read_image(dir.file("e.pgm")).pixels == Bytes{255, 0});
}

TEST_CASE("malformed image files are rejected with messages naming the file and the problem") {
  const TempDir dir("image");
  auto message = [](const std::string& path) -> std::string {
    try {
      dagrad::read_image(path);
    } catch (const DataError& e) {
      return e.what();
    }
    return "no error";
  };
  auto expect = [&](const std::string& path, const std::string& problem) {
    const std::string m = message(path);
    INFO(m);
    CHECK(m.rfind(path + ": ", 0) == 0);
    CHECK(m.find(problem) != std::string::npos);
  };
  write_bytes(dir.file("x.gif"), "GIF89a....");
  expect(dir.file("x.gif"), "unknown image format");
  expect(dir.file("missing.png"), "cannot open");
  write_bytes(dir.file("empty.png"), "");
  expect(dir.file("empty.png"), "unknown image format");
  write_bytes(dir.file("short.pgm"), std::string("P5 4 4 255\n") + "abc");
  expect(dir.file("short.pgm"), "truncated");
  write_bytes(dir.file("huge.ppm"), "P6 100000 100000 255\n");
  expect(dir.file("huge.ppm"), "over the limit");
  write_bytes(dir.file("zero.pgm"), "P2 0 3 255\n");
  expect(dir.file("zero.pgm"), "zero");
  write_bytes(dir.file("big.pgm"), "P2 1 1 255\n300\n");
  expect(dir.file("big.pgm"), "over the maximum");

  // A good PNG cut short, and one with a corrupted byte in its image data.
  write_png_with_libpng(dir.file("good.png"), 16, 16, PNG_COLOR_TYPE_GRAY, 8, std::vector<Bytes>(16, Bytes(16, 77)));
  Bytes good = read_all(dir.file("good.png"));
  REQUIRE(good.size() > 60);
  write_bytes(dir.file("cut.png"), std::string(good.begin(), good.begin() + static_cast<long>(good.size() - 30)));
  expect(dir.file("cut.png"), "truncated");
  Bytes bad = good;
  bad[45] ^= 0x55;  // inside IDAT: its CRC no longer matches
  write_bytes(dir.file("bad.png"), std::string(bad.begin(), bad.end()));
  expect(dir.file("bad.png"), "corrupt PNG");
  write_bytes(dir.file("sig.png"), std::string("\x89PNG", 4));
  expect(dir.file("sig.png"), "PNG signature");
}

TEST_CASE("to_mnist_digit turns a dark stroke on white paper into a centred light 28x28 digit") {
  // A 60x40 white page with a thick black vertical bar off to the upper left.
  Image page = dagrad::make_image(60, 40, 3, 255);
  for (std::size_t r = 5; r < 35; ++r) {
    for (std::size_t c = 3; c < 9; ++c) {
      for (std::size_t ch = 0; ch < 3; ++ch) page.at(r, c, ch) = 20;
    }
  }
  const Image d = dagrad::to_mnist_digit(page);
  REQUIRE(d.height == 28);
  REQUIRE(d.width == 28);
  REQUIRE(d.channels == 1);
  double mass = 0, cy = 0, cx = 0;
  std::size_t top = 28, bottom = 0;
  for (std::size_t r = 0; r < 28; ++r) {
    for (std::size_t c = 0; c < 28; ++c) {
      const double m = d.at(r, c);
      mass += m;
      cy += m * (r + 0.5);
      cx += m * (c + 0.5);
      if (m > 0) {
        top = std::min(top, r);
        bottom = std::max(bottom, r);
      }
    }
  }
  REQUIRE(mass > 0);
  CHECK(std::abs(cy / mass - 14.0) < 1.0);
  CHECK(std::abs(cx / mass - 14.0) < 1.0);
  CHECK(bottom - top + 1 == 20);  // the longer side scaled to 20
  CHECK(d.at(0, 0) == 0);         // the background is black
  CHECK(d.at(14, 14) == 255);     // the ink is white
  // Light on dark is kept as it is, not inverted.
  Image dark = dagrad::make_image(30, 30, 1, 0);
  for (std::size_t r = 10; r < 20; ++r) dark.at(r, 12) = 200;
  CHECK(dagrad::to_mnist_digit(dark).at(14, 14) == 255);
  // A blank page holds no digit.
  CHECK_THROWS_AS(dagrad::to_mnist_digit(dagrad::make_image(10, 10, 1, 255)), DataError);
}
