// ops/sign.cpp: y = -1, 0 or +1; values by hand and a zero gradient.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("sign is -1, 0 or +1 by each element's sign") {
  op_checks::Applied<> y(sign, {{"x", {batch, 3}}});
  CHECK(y.out.shape() == Shape{batch, 3});
  CHECK(y.out.op()->key() == "sign");
  CHECK(y.run({M{{-1.5, 0.0, 0.25}, {1e-300, -1e-300, 7.0}}}) == M{{-1.0, 0.0, 1.0}, {1.0, -1.0, 1.0}});
}

TEST_CASE("sign's gradient is an explicit zero, never a missing one") {
  Graph g;
  Node p = g.parameter("p", {1, 3});
  Node loss = sum(mul(sign(p), p));  // = sum |p|: the gradient flows through the second factor only
  Node dp = gradients(loss, {p})[0];
  Executor<double> ex(g);
  ex.set(p, M{{-2.0, 0.5, 3.0}});
  check_near(ex.run({}, {dp})[0], M{{-1.0, 1.0, 1.0}});
}
