// ops/strided_rows.cpp: one time step of every sequence; values against
// the rule row i = x's row i * stride + first, label, batch rows, the
// gradient scattered into zeros, shape errors. Gradients: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("strided_rows takes every stride-th row from first on") {
  op_checks::Applied<> y([](Node x) { return strided_rows(x, 1, 3); }, {{"x", {batch, 2}}});
  CHECK(y.out.shape() == Shape{batch, 2});
  CHECK(y.out.op()->label() == "strided_rows [1::3]");
  CHECK(op_checks::written(y.out, {"x"}) == "x[1::3, :]");
  const M X = op_checks::values(9, 2, 0.1);
  const M Y = y.run({X});
  REQUIRE(Y.rows() == 3);
  for (Eigen::Index i = 0; i < 3; ++i) check_near(M(Y.row(i)), M(X.row(i * 3 + 1)));
}

TEST_CASE("strided_rows of known rows has rows / stride rows") {
  Graph g;
  Node x = g.input("x", {8, 3});
  CHECK(strided_rows(x, 3, 4).shape() == Shape{2, 3});
  CHECK(strided_rows(x, 0, 1).shape() == Shape{8, 3});
}

TEST_CASE("strided_rows' gradient is the incoming gradient in its rows and 0 in the others") {
  Graph g;
  Node p = g.parameter("p", {6, 1});
  Node loss = sum(mul(strided_rows(p, 2, 3), g.constant(M{{5}, {7}})));
  Node d = gradients(loss, {p})[0];
  Executor<double> ex(g);
  ex.set(p, op_checks::values(6, 1, 0.2));
  check_near(ex.run({}, {d})[0], M{{0}, {0}, {5}, {0}, {0}, {7}});
}

TEST_CASE("strided_rows refuses a row outside the stride and rows that are not whole runs") {
  Graph g;
  Node x = g.input("steps", {6, 2});
  op_checks::check_shape_error([&] { strided_rows(x, 0, 4); }, {"strided_rows", "steps", "6x2", "6 rows", "4"});
  op_checks::check_shape_error([&] { strided_rows(x, 3, 3); }, {"strided_rows", "steps", "row 3 of every 3"});
  CHECK_THROWS_AS(strided_rows(x, -1, 3), ShapeError);
  CHECK_THROWS_AS(strided_rows(x, 0, 0), ShapeError);
}

TEST_CASE("strided_rows over batch rows refuses, when run, rows that are not whole runs") {
  op_checks::Applied<> y([](Node x) { return strided_rows(x, 0, 3); }, {{"x", {batch, 2}}});
  CHECK_THROWS_AS(y.run({op_checks::values(7, 2, 0.3)}), ShapeError);
}
