#include <doctest/doctest.h>

#include <dagrad/core/error.hpp>
#include <dagrad/io/features.hpp>

#include <limits>
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

TEST_CASE("one_hot puts each row's 1 in its label's column, and names a label out of range by row") {
  const std::vector<std::uint8_t> digits = {3, 0, 9};
  const Matrix<float> y = one_hot(digits, 10);
  REQUIRE(y.rows() == 3);
  REQUIRE(y.cols() == 10);
  CHECK(y.sum() == 3);
  CHECK(y(0, 3) == 1);
  CHECK(y(1, 0) == 1);
  CHECK(y(2, 9) == 1);
  const std::vector<std::int32_t> ids = {1, 2};
  CHECK(one_hot(ids, 3) == (Matrix<float>(2, 3) << 0, 1, 0, 0, 0, 1).finished());

  CHECK_THROWS_WITH_AS(one_hot(digits, 9), "one_hot: the label at row 2 is 9, not one of the 9 classes 0 to 8",
                       DataError);
  const std::vector<std::int32_t> negative = {0, -1};
  CHECK_THROWS_WITH_AS(one_hot(negative, 2), "one_hot: the label at row 1 is -1, not one of the 2 classes 0 to 1",
                       DataError);
  CHECK_THROWS_WITH_AS(one_hot(ids, 0), "one_hot: classes must be at least 1, got 0", DataError);
}

TEST_CASE("a subset of features shows the rows it picks, in its order, without copying the data") {
  Matrix<double> m(5, 2);
  m << 0, 1, 10, 11, 20, 21, 30, 31, 40, 41;
  const Features all(m);
  const std::vector<std::size_t> picked = {4, 1, 1, 3};
  const Features some = all.subset(picked);
  CHECK(some.rows() == 4);
  CHECK(some.cols() == 2);
  Matrix<float> out;
  some.slice(1, 2, out);
  CHECK(out == (Matrix<float>(2, 2) << 10, 11, 10, 11).finished());
  const std::vector<std::size_t> batch = {3, 0};
  some.gather(batch, out);
  CHECK(out == (Matrix<float>(2, 2) << 30, 31, 40, 41).finished());
  // A subset of a subset picks through both.
  const std::vector<std::size_t> again = {3, 0};
  Matrix<double> twice;
  some.subset(again).slice(0, 2, twice);
  CHECK(twice == (Matrix<double>(2, 2) << 30, 31, 40, 41).finished());
  // The view reads the matrix itself.
  m(3, 0) = std::numeric_limits<double>::quiet_NaN();
  std::size_t row = 99, col = 99;
  REQUIRE(some.find_nonfinite(row, col));
  CHECK(row == 3);
  CHECK(col == 0);
  const std::vector<std::size_t> bad = {0, 5};
  CHECK_THROWS_WITH_AS(all.subset(bad), "features: subset index 1 is row 5, out of range (5 rows)", DataError);
  CHECK_THROWS_AS(some.gather(std::vector<std::size_t>{4}, out), Error);

  // Images too: a subset's rows are the picked images, scaled.
  Images im;
  im.count = 3;
  im.rows = 1;
  im.cols = 2;
  im.pixels = {0, 255, 51, 102, 255, 0};
  const std::vector<std::size_t> last_first = {2, 0};
  Features(im).subset(last_first).slice(0, 2, out);
  CHECK(out == (Matrix<float>(2, 2) << 1, 0, 0, 1).finished());
}
