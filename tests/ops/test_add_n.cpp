// ops/add_n.cpp: sum of several nodes of one shape; values by hand, order of
// the sum, batch rows, no nodes, gradcheck with an input repeated. Other
// gradient checks, and shape errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>
#include <string>

using namespace dagrad;
using M = Matrix<double>;

namespace {

Node add_three(Node a, Node b, Node c) { return add_n({a, b, c}); }

}  // namespace

TEST_CASE("add_n adds its inputs elementwise") {
  op_checks::Applied<> y(add_three, {{"a", {2, 2}}, {"b", {2, 2}}, {"c", {2, 2}}});
  CHECK(y.out.shape() == Shape{2, 2});
  const M B{{10, 20}, {30, 40}};
  check_near(y.run({M{{1, 2}, {3, 4}}, B, M{{0.5, -2}, {0, 1}}}), M{{11.5, 20}, {33, 45}});
  check_near(op_checks::Applied<>([](Node b) { return add_n({b}); }, {{"b", {2, 2}}}).run({B}), B);
}

TEST_CASE("add_n adds left to right in input order") {
  op_checks::Applied<> y(add_three, {{"a", {1, 1}}, {"b", {1, 1}}, {"c", {1, 1}}});
  // (1e16 - 1e16) + 1 is 1; 1e16 + (-1e16 + 1) would be 0 in double.
  const M out = y.run({M{{1e16}}, M{{-1e16}}, M{{1}}});
  CHECK(out(0, 0) == 1.0);
}

TEST_CASE("add_n of no nodes throws a GraphError") {
  CHECK_THROWS_WITH_AS(add_n({}), "add_n needs at least one node", GraphError);
}

// The registry's examples hold distinct inputs; one node twice is a case of
// its own, its gradient the sum of both places.
TEST_CASE("add_n passes gradcheck, with an input repeated") {
  Graph g;
  Node p = g.parameter("p", {2, 3});
  Node q = g.parameter("q", {2, 3});
  Node loss = sum(mul(square(add_n({p, q, p})), g.constant(M{{0.5, -1.0, 0.3}, {-0.7, 0.9, 1.1}})));
  GradcheckResult r = gradcheck(g, loss, {{p, op_checks::values(2, 3, 0.1)}, {q, op_checks::values(2, 3, 0.8)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("add_n of batch rows runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 2});
  Node w = g.parameter("w", {3, 2});
  Node y = add_n({x, w});
  CHECK(y.shape() == Shape{3, 2});
  Node z = add_n({x, x});
  CHECK(z.shape() == Shape{batch, 2});
  Executor<double> ex(g);
  check_near(ex.run({{x, M{{1, 2}}}}, {z})[0], M{{2, 4}});
  check_near(ex.run({{x, M{{1, 2}, {3, 4}, {5, 6}}}}, {z})[0], M{{2, 4}, {6, 8}, {10, 12}});
}

TEST_CASE("add_n writes itself as a chain of sums") {
  Graph g;
  Node a = g.input("a", {1, 1});
  CHECK(op_checks::written(add_n({a, a, a}), {"a", "b", "c"}) == "a + b + c");
}

// The planner may write add_n's output over its first or second input (of
// two) and fuse an elementwise term into it; a node given again as a third
// input is read after the output is written, so with three inputs it writes
// over none. Every value is the bits of the graph run node by node.
TEST_CASE("add_n written in place, fused, and with a node repeated: the bits of running each op alone") {
  Graph g;
  Node x = g.input("x", {batch, 300});
  Node w = g.parameter("w", {300, 300});
  Node e = exp(x), s = sigmoid(x);
  Node two = add_n({e, s});                  // over e or s, the last reader of both
  Node three = add_n({exp(two), s, exp(two)});  // the first input again as the third
  Node penalty = add_n({matmul(x, w), scale(x, 0.5)});  // the scale a tile at a time inside the sum
  Node y = add_n({three, penalty});
  Matrix<double> X(64, 300), W(300, 300);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = std::sin(0.37 * double(i));
  for (Eigen::Index i = 0; i < W.size(); ++i) W.data()[i] = std::cos(0.11 * double(i)) / 300;
  Executor<double> plain(g, {.threads = 2, .plan_memory = false, .optimize = false});
  Executor<double> planned(g, {.threads = 2});
  plain.set(w, W);
  planned.set(w, W);
  CHECK(planned.run({{x, X}}, {y}) == plain.run({{x, X}}, {y}));
  const MemoryReport report = planned.memory_plan();
  bool scale_fused = false, three_over_input = false;
  for (const PlacedValue& v : report.values) {
    if (v.node.op()->key() == "scale") scale_fused = v.fused_into.valid();
    if (v.node == three) three_over_input = v.over.valid();
  }
  CHECK(scale_fused);
  CHECK_FALSE(three_over_input);
}
