// ops/scale.cpp: y = c x; values by hand over batch rows, its gradient c,
// its label, and the operators that build it. Gradient checks:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

namespace {
Node by_minus_2_5(Node x) { return scale(x, -2.5); }
}  // namespace

TEST_CASE("scale multiplies each element by the factor") {
  op_checks::check_rowwise(by_minus_2_5, "scale", M{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}},
                           M{{3.75, 1.25, -0.625}, {-1.875, -3.0, -5.0}});
}

TEST_CASE("scale's gradient is the factor times dL/dy") {
  check_near(op_checks::gradient(by_minus_2_5, M{{1.0, -2.0}}, M{{1.0, 0.5}}), M{{-2.5, -1.25}});
}

TEST_CASE("scale labels itself with its factor") {
  Graph g;
  Node x = g.input("x", {1, 1});
  CHECK(scale(x, 0.5).op()->label() == "scale ×0.5");
  CHECK(scale(x, -2).op()->label() == "scale ×-2");
}

TEST_CASE("scale is what the number-times-node operators build") {
  Graph g;
  Node x = g.input("x", {1, 2});
  Node y = 3.0 * x;
  Node z = -x;
  CHECK(y.op()->key() == "scale");
  Executor<double> ex(g);
  auto out = ex.run({{x, M{{1.5, -2.0}}}}, {y, z});
  check_near(out[0], M{{4.5, -6.0}});
  check_near(out[1], M{{-1.5, 2.0}});
}
