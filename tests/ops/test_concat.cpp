// ops/concat.cpp: inputs' columns side by side; values by hand, batch rows,
// no nodes. Gradients and shape errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("concat puts its inputs' columns side by side in argument order") {
  op_checks::Applied<> y([](Node a, Node b, Node c) { return concat({a, b, c}); },
                         {{"a", {batch, 2}}, {"b", {batch, 1}}, {"c", {batch, 3}}});
  CHECK(y.out.shape() == Shape{batch, 6});
  check_near(y.run({M{{1, 2}, {3, 4}}, M{{5}, {6}}, M{{7, 8, 9}, {10, 11, 12}}}),
             M{{1, 2, 5, 7, 8, 9}, {3, 4, 6, 10, 11, 12}});
}

TEST_CASE("concat's gradient gives each input its own columns of the incoming gradient") {
  Graph g;
  Node a = g.parameter("a", {1, 2});
  Node b = g.parameter("b", {1, 1});
  Node loss = sum(mul(concat({a, b}), g.constant(M{{2, 3, 4}})));
  auto d = gradients(loss, {a, b});
  Executor<double> ex(g);
  ex.set(a, M{{1, 1}});
  ex.set(b, M{{1}});
  auto out = ex.run({}, {d[0], d[1]});
  check_near(out[0], M{{2, 3}});
  check_near(out[1], M{{4}});
}

TEST_CASE("concat of no nodes throws a GraphError") {
  CHECK_THROWS_WITH_AS(concat({}), "concat needs at least one node", GraphError);
}
