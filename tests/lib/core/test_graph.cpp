#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <string>

#include "contains.hpp"
#include "thrown.hpp"

using namespace dagrad;

TEST_CASE("inputs, parameters and constants record their kind, name and shape") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node w = g.parameter("w", {3, 2});
  Node c = g.constant(Matrix<double>::Ones(2, 2), "c");
  CHECK(x.kind() == NodeKind::input);
  CHECK(w.kind() == NodeKind::parameter);
  CHECK(c.kind() == NodeKind::constant);
  CHECK(x.name() == "x");
  CHECK(x.shape() == Shape{batch, 3});
  CHECK(w.shape() == Shape{3, 2});
  CHECK(c.shape() == Shape{2, 2});
  CHECK(to_string(x.shape()) == "?x3");
  CHECK(g.size() == 3);
}

TEST_CASE("an op node infers its shape when it is built, keeping the open batch dimension") {
  Graph g;
  Node x = g.input("x", {batch, 784});
  Node w = g.parameter("w", {784, 50});
  Node b = g.parameter("b", {1, 50});
  Node h = relu(add(matmul(x, w), b));
  CHECK(h.shape() == Shape{batch, 50});
  CHECK(mean(h).shape() == Shape{1, 1});
}

TEST_CASE("unnamed nodes print as node_N and scoped nodes as scope/op") {
  Graph g;
  Node x = g.input("x", {2, 2});
  Node a = sigmoid(x);
  CHECK(a.name() == "node_" + std::to_string(a.id()));
  {
    auto layer = g.scope("layer1");
    Node m = matmul(x, x);
    Node m2 = matmul(x, x);
    CHECK(m.name() == "layer1/matmul");
    CHECK(m2.name() == "layer1/matmul_1");
    auto inner = g.scope("inner");
    Node t = tanh(x);
    CHECK(t.name() == "layer1/inner/tanh");
    CHECK(g.info(t.id()).scope == "layer1/inner");
  }
  Node after = tanh(x);
  CHECK(g.info(after.id()).scope.empty());
  CHECK(g.find("layer1/matmul").has_value());
  CHECK(g.find("layer1/matmul")->id() != after.id());
  CHECK_FALSE(g.find("nothing").has_value());
}

TEST_CASE("a parameter name used twice is an error naming it") {
  Graph g;
  g.parameter("w", {2, 2});
  const std::string what = thrown<GraphError>([&] { g.parameter("w", {2, 2}); });
  check_contains(what, {"'w'", "already used"});
}

TEST_CASE("a shape mismatch names the op, both nodes and both shapes") {
  Graph g;
  Node x = g.input("x", {4, 3});
  Node w = g.parameter("w", {2, 2});
  const std::string m = thrown<ShapeError>([&] { matmul(x, w); });
  check_contains(m, {"matmul", "'x'", "'w'", "4x3", "2x2"});
  Node v = g.parameter("v", {4, 2});
  CHECK_THROWS_AS(add(x, v), ShapeError);
}

TEST_CASE("combining nodes of two graphs is an error") {
  Graph g1, g2;
  Node a = g1.input("a", {2, 2});
  Node b = g2.input("b", {2, 2});
  const std::string what = thrown<GraphError>([&] { add(a, b); });
  check_contains(what, {"'b'", "another graph"});
}

TEST_CASE("bad input and parameter shapes are rejected") {
  Graph g;
  CHECK_THROWS_AS(g.input("x", {3, batch}), ShapeError);
  CHECK_THROWS_AS(g.input("x", {0, 3}), ShapeError);
  CHECK_THROWS_AS(g.parameter("w", {batch, 3}), ShapeError);
}

TEST_CASE("the topological order puts every node after its inputs") {
  Graph g;
  Node x = g.input("x", {2, 2});
  Node a = sigmoid(x);
  Node b = tanh(x);
  Node c = add(a, b);
  Node d = mul(c, a);
  (void)d;
  std::vector<NodeId> order = g.topological_order();
  REQUIRE(order.size() == g.size());
  std::vector<int> pos(g.size());
  for (std::size_t i = 0; i < order.size(); ++i) pos[order[i]] = static_cast<int>(i);
  for (NodeId n = 0; n < g.size(); ++n) {
    for (NodeId in : g.info(n).inputs) CHECK(pos[in] < pos[n]);
  }
}

TEST_CASE("an empty Node is an error when used") {
  Node empty;
  CHECK_FALSE(empty.valid());
  CHECK_THROWS_AS(empty.shape(), GraphError);
  Graph g;
  Node x = g.input("x", {2, 2});
  CHECK_THROWS_AS(add(x, empty), GraphError);
}
