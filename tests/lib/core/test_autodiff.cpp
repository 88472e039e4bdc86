#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <string>

#include "contains.hpp"
#include "thrown.hpp"

using namespace dagrad;

namespace {
Matrix<double> mat(Eigen::Index r, Eigen::Index c, std::initializer_list<double> v) {
  Matrix<double> m(r, c);
  auto it = v.begin();
  for (Eigen::Index i = 0; i < r; ++i)
    for (Eigen::Index j = 0; j < c; ++j) m(i, j) = *it++;
  return m;
}
}  // namespace

TEST_CASE("the gradient of sum(x * w) with respect to w is x") {
  Graph g;
  Node x = g.input("x", {2, 2});
  Node w = g.parameter("w", {2, 2});
  Node loss = sum(mul(x, w));
  Node gw = gradients(loss, {w})[0];
  Executor<double> ex(g, {.threads = 1});
  Matrix<double> X = mat(2, 2, {1, 2, 3, 4});
  ex.set(w, mat(2, 2, {5, 6, 7, 8}));
  auto out = ex.run({{x, X}}, {gw});
  CHECK(out[0] == X);
  CHECK(gw.name() == "grad(w)");
  CHECK(g.info(gw.id()).grad_of == w.id());
}

TEST_CASE("backward nodes are marked backward and forward nodes stay forward") {
  Graph g;
  Node x = g.input("x", {2, 2});
  Node w = g.parameter("w", {2, 2});
  Node y = tanh(matmul(x, w));
  Node loss = mean(y);
  const std::size_t forward_count = g.size();
  gradients(loss, {w});
  CHECK(g.size() > forward_count);
  for (NodeId n = 0; n < g.size(); ++n) {
    CHECK((g.info(n).role == Role::forward) == (n < forward_count));
  }
}

TEST_CASE("a non-scalar y is an error naming it and its shape") {
  Graph g;
  Node x = g.parameter("x", {2, 3});
  Node y = sigmoid(x);
  const std::string what = thrown<GraphError>([&] { gradients(y, {x}); });
  check_contains(what, {y.name(), "2x3", "1x1"});
}

TEST_CASE("an x that does not reach y is an error, or zeros when asked") {
  Graph g;
  Node a = g.parameter("a", {2, 2});
  Node b = g.parameter("b", {3, 1});
  Node loss = sum(square(a));
  const std::string what = thrown<GraphError>([&] { gradients(loss, {a, b}); });
  check_contains(what, {"'b'", "does not reach"});
  auto grads = gradients(loss, {a, b}, {.allow_unconnected = true});
  Executor<double> ex(g, {.threads = 1});
  ex.set(a, mat(2, 2, {1, 2, 3, 4}));
  ex.set(b, mat(3, 1, {1, 1, 1}));
  auto out = ex.run({}, grads);
  CHECK(out[0] == mat(2, 2, {2, 4, 6, 8}));
  CHECK(out[1] == Matrix<double>::Zero(3, 1));
}

TEST_CASE("a node with several consumers gets one add_n node with its terms in consumer order") {
  Graph g;
  Node x = g.parameter("x", {1, 1});
  Node a = sigmoid(x);
  Node b = tanh(x);
  Node c = exp(x);
  Node loss = sum(add(add(a, b), c));
  Node gx = gradients(loss, {x})[0];
  REQUIRE(gx.op() != nullptr);
  CHECK(gx.op()->key() == "add_n");
  CHECK(gx.name() == "grad(x)");
  REQUIRE(gx.num_inputs() == 3);
  // Terms come from sigmoid, tanh, exp: the order their consumers were built.
  CHECK(gx.input(0).op()->key() == "sigmoid_grad");
  CHECK(gx.input(1).op()->key() == "tanh_grad");
  CHECK(gx.input(2).op()->key() == "mul");

  Executor<double> ex(g, {.threads = 1});
  const double v = 0.3;
  ex.set(x, mat(1, 1, {v}));
  const double s = 1 / (1 + std::exp(-v)), t = std::tanh(v);
  const double expected = s * (1 - s) + (1 - t * t) + std::exp(v);
  CHECK(ex.run({}, {gx})[0](0, 0) == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("only nodes on a path from x to y get gradients") {
  Graph g;
  Node x = g.input("x", {2, 2});
  Node w = g.parameter("w", {2, 2});
  Node u = g.parameter("u", {2, 2});
  Node side = sigmoid(u);  // on no path from w
  Node loss = sum(add(mul(x, w), side));
  gradients(loss, {w});
  for (NodeId n = 0; n < g.size(); ++n) {
    auto of = g.info(n).grad_of;
    if (of) CHECK((*of == w.id() || *of == loss.id() || g.info(*of).role == Role::forward));
    CHECK(of != std::optional<NodeId>(x.id()));
    CHECK(of != std::optional<NodeId>(u.id()));
    CHECK(of != std::optional<NodeId>(side.id()));
  }
}

TEST_CASE("asking again for the same gradients reuses the nodes already built") {
  Graph g;
  Node w = g.parameter("w", {2, 2});
  Node loss = mean(square(w));
  Node first = gradients(loss, {w})[0];
  const std::size_t size = g.size();
  Node second = gradients(loss, {w})[0];
  CHECK(first == second);
  CHECK(g.size() == size);
}

TEST_CASE("a rule that cannot differentiate an input says so") {
  Graph g;
  Node logits = g.parameter("logits", {2, 3});
  Node labels = g.parameter("labels", {2, 3});
  Node loss = softmax_cross_entropy(logits, labels);
  const std::string what = thrown<GraphError>([&] { gradients(loss, {labels}); });
  check_contains(what, {"softmax_cross_entropy", "labels"});
}

namespace {
// The gradient of the gradient, checked against finite differences of the
// first gradient: builds h = sum(grad(x) * c2), whose gradient in x is a
// second derivative.
void check_second_order(Node (*f)(Node, Node), bool matrix_shapes) {
  Graph g;
  Node x = g.parameter("x", {2, 3});
  Node w = g.parameter("w", matrix_shapes ? Shape{3, 2} : Shape{2, 3});
  Matrix<double> c1(2, matrix_shapes ? 2 : 3);
  c1.setRandom();
  Node y = f(x, w);
  Node loss = sum(mul(y, g.constant(c1)));
  std::vector<Node> first = gradients(loss, {x, w});
  Matrix<double> c2(2, 3);
  c2.setRandom();
  Matrix<double> c3(matrix_shapes ? 3 : 2, matrix_shapes ? 2 : 3);
  c3.setRandom();
  Node h = add(sum(mul(first[0], g.constant(c2))), sum(mul(first[1], g.constant(c3))));
  Matrix<double> X(2, 3), W(matrix_shapes ? 3 : 2, matrix_shapes ? 2 : 3);
  X.setRandom();
  W.setRandom();
  GradcheckResult r = gradcheck(g, h, {{x, X}, {w, W}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}
}  // namespace

TEST_CASE("second-order gradients match finite differences for tanh, sigmoid, mul and matmul") {
  std::srand(7);
  SUBCASE("tanh") { check_second_order([](Node x, Node w) { return tanh(mul(x, w)); }, false); }
  SUBCASE("sigmoid") { check_second_order([](Node x, Node w) { return sigmoid(mul(x, w)); }, false); }
  SUBCASE("mul") { check_second_order([](Node x, Node w) { return mul(mul(x, w), x); }, false); }
  SUBCASE("matmul") { check_second_order([](Node x, Node w) { return tanh(matmul(x, w)); }, true); }
}
