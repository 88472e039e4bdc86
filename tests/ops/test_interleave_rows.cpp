// ops/interleave_rows.cpp: steps put back as sequences; values against the
// rule row i * n + k = row i of input k, strided_rows undoing it, shape
// errors. Gradients: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("interleave_rows puts row i of input k at row i * n + k") {
  Graph g;
  const Node xs[] = {g.input("a", {batch, 2}), g.input("b", {batch, 2}), g.input("c", {batch, 2})};
  Node y = interleave_rows({xs[0], xs[1], xs[2]});
  CHECK(y.shape() == Shape{batch, 2});
  CHECK(y.op()->label() == "interleave_rows");
  const M X[] = {op_checks::values(4, 2, 0.1), op_checks::values(4, 2, 0.5), op_checks::values(4, 2, 0.9)};
  const M Y = Executor<double>(g).run({{xs[0], X[0]}, {xs[1], X[1]}, {xs[2], X[2]}}, {y})[0];
  REQUIRE(Y.rows() == 12);
  for (Eigen::Index i = 0; i < 4; ++i) {
    for (Eigen::Index k = 0; k < 3; ++k) check_near(M(Y.row(i * 3 + k)), M(X[k].row(i)));
  }
}

TEST_CASE("strided_rows takes back each input of interleave_rows") {
  Graph g;
  Node a = g.input("a", {2, 3}), b = g.input("b", {2, 3});
  Node y = interleave_rows({a, b});
  CHECK(y.shape() == Shape{4, 3});
  const M A = op_checks::values(2, 3, 0.1), B = op_checks::values(2, 3, 0.7);
  Executor<double> ex(g);
  const auto out = ex.run({{a, A}, {b, B}}, {strided_rows(y, 0, 2), strided_rows(y, 1, 2)});
  check_near(out[0], A);
  check_near(out[1], B);
}

TEST_CASE("interleave_rows' gradient for each input is its rows of the incoming gradient") {
  Graph g;
  Node p = g.parameter("p", {2, 1}), q = g.parameter("q", {2, 1});
  Node loss = sum(mul(interleave_rows({p, q}), g.constant(M{{1}, {2}, {3}, {4}})));
  const auto d = gradients(loss, {p, q});
  Executor<double> ex(g);
  ex.set(p, M{{0.5}, {0.25}});
  ex.set(q, M{{1.5}, {2.5}});
  const auto out = ex.run({}, {d[0], d[1]});
  check_near(out[0], M{{1}, {3}});
  check_near(out[1], M{{2}, {4}});
}

TEST_CASE("a node given to interleave_rows twice gets the sum of both runs of rows as its gradient") {
  Graph g;
  Node p = g.parameter("p", {2, 1}), q = g.parameter("q", {2, 1});
  Node loss = sum(mul(interleave_rows({p, q, p}), g.constant(M{{1}, {2}, {3}, {4}, {5}, {6}})));
  Node d = gradients(loss, {p})[0];
  Executor<double> ex(g);
  ex.set(p, M{{0.5}, {0.25}});
  ex.set(q, M{{1.5}, {2.5}});
  check_near(ex.run({}, {d})[0], M{{1 + 3}, {4 + 6}});
}

TEST_CASE("interleave_rows refuses inputs of different shapes, naming them") {
  Graph g;
  Node a = g.input("first", {2, 3}), b = g.input("second", {3, 3});
  op_checks::check_shape_error([&] { interleave_rows({a, b}); }, {"interleave_rows", "first", "second", "2x3", "3x3"});
  CHECK_THROWS_AS(interleave_rows({}), GraphError);
}
