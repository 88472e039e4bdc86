#include <doctest/doctest.h>

#include <dagrad/features.hpp>

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
