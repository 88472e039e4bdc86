// ops/transpose.cpp: y = xᵀ; values by hand over batch rows, its infix form.
// Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "check_near.hpp"

#include <string>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("transpose swaps rows and columns, batch rows becoming batch columns") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = transpose(x);
  CHECK(y.shape() == Shape{3, batch});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{1, 2, 3}}}}, {y})[0], M{{1}, {2}, {3}});
  check_near(ex.run({{x, M{{1, 2, 3}, {4, 5, 6}}}}, {y})[0], M{{1, 4}, {2, 5}, {3, 6}});
}

TEST_CASE("transpose writes itself with a ᵀ mark") {
  Graph g;
  Node x = g.input("x", {2, 3});
  const std::string args[] = {"w"};
  CHECK(transpose(x).op()->expression(args) == "wᵀ");
}
