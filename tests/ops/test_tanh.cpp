// ops/tanh.cpp: y = tanh x; values over batch rows against std::tanh, its
// oddness and saturation. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("tanh takes the hyperbolic tangent of each element") {
  const M X{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}};
  op_checks::check_rowwise(dagrad::tanh, "tanh", X, X.array().tanh().matrix());
}

TEST_CASE("tanh's gradient is 1 - y^2") {
  const double y = std::tanh(0.6);
  check_near(op_checks::gradient(dagrad::tanh, M{{0.0, 0.6}}), M{{1.0, 1 - y * y}});
}

TEST_CASE("tanh is odd and saturates at large magnitudes") {
  const M out = op_checks::apply(dagrad::tanh, M{{-0.8, 0.8, -500.0, 500.0}});
  CHECK(out(0, 0) == doctest::Approx(-out(0, 1)));
  CHECK(out(0, 2) == doctest::Approx(-1.0));
  CHECK(out(0, 3) == doctest::Approx(1.0));
}
