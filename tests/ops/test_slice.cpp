// ops/slice.cpp: a run of whole columns; values by hand, label, batch rows,
// shape errors. Gradients: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <limits>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("slice takes count columns from first on") {
  op_checks::Applied<> y([](Node x) { return slice(x, 1, 2); }, {{"x", {batch, 4}}});
  CHECK(y.out.shape() == Shape{batch, 2});
  CHECK(y.out.op()->label() == "slice [1, 3)");
  CHECK(op_checks::written(y.out, {"x"}) == "x[:, 1:3]");
  check_near(y.run({M{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}}), M{{2, 3}, {6, 7}, {10, 11}});
}

TEST_CASE("slice's gradient is the incoming gradient in its columns and 0 in the others") {
  Graph g;
  Node p = g.parameter("p", {1, 4});
  Node loss = sum(mul(slice(p, 2, 1), g.constant(M{{5}})));
  Node d = gradients(loss, {p})[0];
  Executor<double> ex(g);
  ex.set(p, M{{1, 2, 3, 4}});
  check_near(ex.run({}, {d})[0], M{{0, 0, 5, 0}});
}

TEST_CASE("slice of columns outside its input throws a ShapeError naming the node and the columns") {
  Graph g;
  Node x = g.input("features", {2, 4});
  op_checks::check_shape_error([&] { slice(x, 3, 2); }, {"slice", "features", "2x4", "[3, 5)"});
  CHECK_THROWS_AS(slice(x, -1, 2), ShapeError);
  CHECK_THROWS_AS(slice(x, 0, 0), ShapeError);
  // Numbers whose sum would overflow (a graph file may hold any).
  const Dim big = std::numeric_limits<Dim>::max();
  CHECK_THROWS_AS(slice(x, 2, big), ShapeError);
  CHECK_THROWS_AS(slice(x, std::numeric_limits<Dim>::min(), -1), ShapeError);
}
