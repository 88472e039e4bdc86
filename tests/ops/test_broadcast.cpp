// ops/broadcast.cpp: x repeated to like's shape; values by hand, the gradient
// summed back by hand, batch rows. Gradient checks and shape errors:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("broadcast repeats a 1x1, a row or a column to the shape of like") {
  Graph g;
  Node like = g.input("like", {2, 3});
  Node s = g.input("s", {1, 1});
  Node r = g.input("r", {1, 3});
  Node c = g.input("c", {2, 1});
  Node same = g.input("same", {2, 3});
  Node bs = broadcast(s, like), br = broadcast(r, like), bc = broadcast(c, like);
  Node bsame = broadcast(same, like);
  for (Node n : {bs, br, bc, bsame}) CHECK(n.shape() == Shape{2, 3});
  Executor<double> ex(g);
  const M L = M::Constant(2, 3, 99.0);  // only its shape may matter
  auto out = ex.run({{like, L}, {s, M{{7}}}, {r, M{{1, 2, 3}}}, {c, M{{4}, {5}}},
                     {same, M{{1, 2, 3}, {4, 5, 6}}}},
                    {bs, br, bc, bsame});
  check_near(out[0], M{{7, 7, 7}, {7, 7, 7}});
  check_near(out[1], M{{1, 2, 3}, {1, 2, 3}});
  check_near(out[2], M{{4, 4, 4}, {5, 5, 5}});
  check_near(out[3], M{{1, 2, 3}, {4, 5, 6}});
}

TEST_CASE("broadcast sums the gradient back over the repeated axes") {
  Graph g;
  Node r = g.parameter("r", {1, 2});
  Node c = g.parameter("c", {3, 1});
  Node like = g.input("like", {3, 2});
  const M W{{1, 2}, {3, 4}, {5, 6}};
  Node loss = add(sum(mul(broadcast(r, like), g.constant(W))), sum(mul(broadcast(c, like), g.constant(W))));
  std::vector<Node> d = gradients(loss, {r, c});
  Executor<double> ex(g);
  ex.set(r, M{{0, 0}});
  ex.set(c, M{{0}, {0}, {0}});
  auto out = ex.run({{like, M::Zero(3, 2)}}, {d[0], d[1]});
  check_near(out[0], M{{9, 12}});
  check_near(out[1], M{{3}, {7}, {11}});
}

TEST_CASE("broadcast of a row over batch rows runs with any row count") {
  op_checks::Applied<> y(broadcast, {{"r", {1, 3}}, {"like", {batch, 3}}});
  CHECK(y.out.shape() == Shape{batch, 3});
  const M R{{1, 2, 3}};
  check_near(y.run({R, M::Zero(1, 3)}), R);
  check_near(y.run({R, M::Zero(4, 3)}), M{{1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {1, 2, 3}});
}
