#include <doctest/doctest.h>

#include <dagrad/io/features.hpp>

#include <vector>

using namespace dagrad;

TEST_CASE("image features are scaled to [0, 1] when rows are read") {
  Images im;
  im.count = 3;
  im.rows = 1;
  im.cols = 2;
  im.pixels = {0, 255, 51, 102, 7, 9};
  Features f(im);
  CHECK(f.rows() == 3);
  CHECK(f.cols() == 2);
  Matrix<float> out;
  f.slice(1, 2, out);
  REQUIRE(out.rows() == 2);
  CHECK(out(0, 0) == 51.0f / 255.0f);
  CHECK(out(1, 1) == 9.0f / 255.0f);
  const std::vector<std::size_t> rows{2, 0};
  Matrix<double> gathered;
  f.gather(rows, gathered);
  CHECK(gathered(0, 0) == 7.0 / 255.0);
  CHECK(gathered(1, 1) == 1.0);
  CHECK_THROWS_AS(f.slice(2, 2, out), Error);
  const std::vector<std::size_t> bad{3};
  CHECK_THROWS_AS(f.gather(bad, out), Error);
}

TEST_CASE("matrix features convert to the training scalar type and report non-finite values") {
  Matrix<double> m(2, 2);
  m << 1, 2, 3, 4;
  Features f(m);
  Matrix<float> out;
  const std::vector<std::size_t> rows{1};
  f.gather(rows, out);
  CHECK(out(0, 1) == 4.0f);
  std::size_t r = 9, c = 9;
  CHECK_FALSE(f.find_nonfinite(r, c));
  m(1, 0) = INFINITY;
  CHECK(f.find_nonfinite(r, c));
  CHECK(r == 1);
  CHECK(c == 0);
}

TEST_CASE("a gather of many image rows, shared among tasks, is exactly pixel / 255 in the given order") {
  Images im;
  im.count = 1000;
  im.rows = 3;
  im.cols = 5;
  im.pixels.resize(im.count * 15);
  for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<std::uint8_t>((i * 37) % 256);
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < 700; ++i) order.push_back((i * 389) % 1000);  // 389 is prime to 1000
  Matrix<float> got;
  Features(im).gather(std::span<const std::size_t>(order), got);
  REQUIRE(got.rows() == 700);
  REQUIRE(got.cols() == 15);
  for (std::size_t r = 0; r < order.size(); ++r) {
    for (std::size_t c = 0; c < 15; ++c) {
      const float want = static_cast<float>(im.pixels[order[r] * 15 + c]) / 255.0f;
      if (got(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) != want) {
        FAIL("row ", r, " column ", c, ": ", got(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)), " != ", want);
      }
    }
  }
}
