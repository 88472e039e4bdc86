// ops/identity.cpp: y = x; values over batch rows, and the gradient passed
// through unchanged. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("identity returns its input unchanged") {
  const M X{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}};
  op_checks::check_rowwise(identity, "identity", X, X);
}

TEST_CASE("identity passes its gradient through unchanged") {
  check_near(op_checks::gradient(identity, M{{1.0, 2.0, 3.0}}, M{{0.5, -1.0, 2.0}}), M{{0.5, -1.0, 2.0}});
}
