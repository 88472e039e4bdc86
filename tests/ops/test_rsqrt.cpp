// ops/rsqrt.cpp: y = x^(-1/2); values by hand, its label, and its gradient
// -y^3/2. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("rsqrt takes one over the square root of each element") {
  op_checks::Applied<> y(rsqrt, {{"x", {batch, 3}}});
  CHECK(y.out.op()->label() == "rsqrt");
  check_near(y.run({M{{1, 4, 0.25}, {16, 100, 0.01}}}), M{{1, 0.5, 2}, {0.25, 0.1, 10}});
  const Matrix<float> f =
      op_checks::Applied<float>(rsqrt, {{"x", {batch, 3}}}).run({Matrix<float>{{4.0f, 0.25f, 1e-4f}}});
  CHECK(f(0, 0) == doctest::Approx(0.5));
  CHECK(f(0, 1) == doctest::Approx(2.0));
  CHECK(f(0, 2) == doctest::Approx(100.0));
}

TEST_CASE("rsqrt's gradient is minus half its output cubed") {
  check_near(op_checks::gradient(rsqrt, M{{1, 4, 0.25}}), M{{-0.5, -0.0625, -4}});
}
