// ops/pow.cpp: y = x^p for a constant p; values by hand, label and
// attribute, its gradient p x^(p-1), a bad exponent. Gradient checks:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>
#include <limits>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("pow raises each element to its constant exponent, negative bases included for whole exponents") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node cube = pow(x, 3.0);
  Node half = pow(x, 0.5);
  CHECK(cube.op()->label() == "pow ^3");
  CHECK(half.op()->label() == "pow ^0.5");
  REQUIRE(half.op()->attributes().size() == 1);
  CHECK(half.op()->attributes()[0].name == "exponent");
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{-2, 0.5, 3}}}}, {cube})[0], M{{-8, 0.125, 27}});
  check_near(ex.run({{x, M{{4, 0.25, 9}}}}, {half})[0], M{{2, 0.5, 3}});
  // Outside the domain of a fractional exponent the value is NaN, as std::pow gives.
  CHECK(std::isnan(ex.run({{x, M{{-4, 1, 1}}}}, {half})[0](0, 0)));
}

TEST_CASE("pow's gradient is the exponent times x to one less") {
  check_near(op_checks::gradient([](Node p) { return pow(p, -2.0); }, M{{1, 2, -0.5}}), M{{-2, -0.25, 16}});
}

TEST_CASE("pow with an exponent that is not a finite number throws a GraphError naming the node") {
  Graph g;
  Node x = g.input("base", {1, 2});
  CHECK_THROWS_WITH_AS(pow(x, std::numeric_limits<double>::infinity()), doctest::Contains("pow of 'base'"),
                       GraphError);
  CHECK_THROWS_WITH_AS(pow(x, std::numeric_limits<double>::quiet_NaN()), doctest::Contains("finite"), GraphError);
}
