// Element-by-element comparison of two double matrices for the op tests:
// the shapes must match exactly, each element to doctest::Approx.
//   check_near(ex.run({{x, X}}, {y})[0], Matrix<double>{{1, 2}});
#pragma once

#include <doctest/doctest.h>
#include <dagrad/core/tensor.hpp>

inline void check_near(const dagrad::Matrix<double>& got, const dagrad::Matrix<double>& want) {
  REQUIRE(got.rows() == want.rows());
  REQUIRE(got.cols() == want.cols());
  for (Eigen::Index r = 0; r < got.rows(); ++r) {
    for (Eigen::Index c = 0; c < got.cols(); ++c) {
      INFO("element (", r, ", ", c, ")");
      CHECK(got(r, c) == doctest::Approx(want(r, c)));
    }
  }
}
