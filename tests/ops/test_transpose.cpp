// ops/transpose.cpp: y = xᵀ; values by hand over batch rows, its infix form.
// Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("transpose swaps rows and columns, batch rows becoming batch columns") {
  op_checks::Applied<> y(transpose, {{"x", {batch, 3}}});
  CHECK(y.out.shape() == Shape{3, batch});
  check_near(y.run({M{{1, 2, 3}}}), M{{1}, {2}, {3}});
  check_near(y.run({M{{1, 2, 3}, {4, 5, 6}}}), M{{1, 4}, {2, 5}, {3, 6}});
}

TEST_CASE("transpose writes itself with a ᵀ mark") {
  Graph g;
  CHECK(op_checks::written(transpose(g.input("x", {2, 3})), {"w"}) == "wᵀ");
}
