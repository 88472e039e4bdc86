// ops/sub.cpp: values by hand with and without broadcasting; gradcheck for
// every broadcast pattern, shape errors and batch rows, as for add, sub, mul
// and div alike (elementwise_binary.hpp).
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "check_near.hpp"
#include "elementwise_binary.hpp"

#include <string>

using namespace dagrad;
using M = Matrix<double>;

using elementwise_binary::A;
using elementwise_binary::Cc;
using elementwise_binary::R;
using elementwise_binary::S;

TEST_CASE("sub subtracts two matrices of one shape elementwise") {
  Graph g;
  Node a = g.input("a", {2, 3});
  Node b = g.input("b", {2, 3});
  Node y = sub(a, b);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  const M B = 10 * A;
  check_near(ex.run({{a, A}, {b, B}}, {y})[0], M{{-9, -18, -27}, {-36, -45, -54}});
}

TEST_CASE("sub broadcasts a 1xN row over the rows, on either side") {
  Graph g;
  Node a = g.input("a", {2, 3});
  Node r = g.input("r", {1, 3});
  Node ar = sub(a, r);
  Node ra = sub(r, a);
  CHECK(ar.shape() == Shape{2, 3});
  CHECK(ra.shape() == Shape{2, 3});
  Executor<double> ex(g);
  auto out = ex.run({{a, A}, {r, R}}, {ar, ra});
  check_near(out[0], M{{-9, -18, -27}, {-6, -15, -24}});
  check_near(out[1], M{{9, 18, 27}, {6, 15, 24}});
}

TEST_CASE("sub broadcasts an Mx1 column over the columns") {
  Graph g;
  Node a = g.input("a", {2, 3});
  Node c = g.input("c", {2, 1});
  Node y = sub(a, c);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  check_near(ex.run({{a, A}, {c, Cc}}, {y})[0], M{{-1, 0, 1}, {0, 1, 2}});
}

TEST_CASE("sub broadcasts a 1x1 over the whole matrix") {
  Graph g;
  Node a = g.input("a", {2, 3});
  Node s = g.input("s", {1, 1});
  Node y = sub(s, a);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  check_near(ex.run({{a, A}, {s, S}}, {y})[0], M{{4, 3, 2}, {1, 0, -1}});
}

TEST_CASE("sub of an Mx1 column and a 1xN row broadcasts both to MxN") {
  Graph g;
  Node c = g.input("c", {2, 1});
  Node r = g.input("r", {1, 3});
  Node y = sub(c, r);
  CHECK(y.shape() == Shape{2, 3});
  Executor<double> ex(g);
  check_near(ex.run({{c, Cc}, {r, R}}, {y})[0], M{{-8, -18, -28}, {-6, -16, -26}});
}

TEST_CASE("sub passes gradcheck for every broadcast pattern") { elementwise_binary::check_gradients(sub); }

TEST_CASE("sub of 2x3 and 3x2 throws a ShapeError naming both nodes and shapes") {
  elementwise_binary::check_shape_error(sub, "sub");
}

TEST_CASE("sub of batch rows and a 1xN row runs with any row count") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node r = g.parameter("r", {1, 3});
  Node y = sub(x, r);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  ex.set(r, R);
  check_near(ex.run({{x, M{{1, 2, 3}}}}, {y})[0], M{{-9, -18, -27}});
  check_near(ex.run({{x, M{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}}, {y})[0], M{{-9, -18, -27}, {-6, -15, -24}, {-3, -12, -21}});
}

TEST_CASE("sub of batch rows passes gradcheck for the broadcast row") {
  elementwise_binary::check_batch_gradients(sub);
}

TEST_CASE("sub writes itself infix") {
  Graph g;
  Node a = g.input("a", {1, 1});
  const std::string args[] = {"p", "q"};
  CHECK(sub(a, a).op()->expression(args) == "p - q");
}
