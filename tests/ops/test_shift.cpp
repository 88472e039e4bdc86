// ops/shift.cpp: y = x + c; values by hand over batch rows, its label, and
// its gradient passed through unchanged. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

namespace {
Node by_quarter(Node x) { return shift(x, 0.25); }
}  // namespace

TEST_CASE("shift adds the offset to each element") {
  op_checks::check_rowwise(by_quarter, "shift", M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}},
                           M{{-1.25, -0.25, 0.5}, {1.0, 1.45, 2.25}});
}

TEST_CASE("shift labels itself with its signed offset") {
  Graph g;
  Node x = g.input("x", {1, 1});
  CHECK(shift(x, 0.5).op()->label() == "shift +0.5");
  CHECK(shift(x, -2).op()->label() == "shift -2");
}

TEST_CASE("shift passes its gradient through unchanged") {
  check_near(op_checks::gradient(by_quarter, M{{1.0, 2.0, 3.0}}, M{{0.5, -1.0, 2.0}}), M{{0.5, -1.0, 2.0}});
}
