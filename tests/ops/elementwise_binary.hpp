// What add, sub, mul and div share, checked the same way for each: their
// values for every broadcast pattern, worked by hand in each op's test, over
// fixed and batch rows, and the gradient case the registry's examples lack.
//   elementwise_binary::check_values(add, {.same = ..., .a_row = ..., ...});
#pragma once

#include "op_checks.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <iterator>
#include <string>
#include <utility>

namespace elementwise_binary {

using M = dagrad::Matrix<double>;
using BinaryOp = dagrad::Node (*)(dagrad::Node, dagrad::Node);

inline const M A{{1, 2, 3}, {4, 5, 6}};
inline const M B{{10, 20, 30}, {40, 50, 60}};
inline const M R{{10, 20, 30}};  // a 1x3 row
inline const M Cc{{2}, {4}};     // a 2x1 column
inline const M S{{5}};           // a 1x1

// What op gives for each pair, all 2x3.
struct Expected {
  M same;        // op(A, B)
  M a_row;       // op(A, R): the row repeated down the rows
  M row_a;       // op(R, A)
  M a_column;    // op(A, Cc): the column repeated across the columns
  M scalar_a;    // op(S, A)
  M column_row;  // op(Cc, R): both broadcast
};

// op on each pair: the 2x3 shape when built and the values by hand; then
// op(x, R) with x batch rows holding A's first row, and all of A.
inline void check_values(BinaryOp op, const Expected& want) {
  using namespace dagrad;
  const std::pair<M, M> pairs[] = {{A, B}, {A, R}, {R, A}, {A, Cc}, {S, A}, {Cc, R}};
  const M* wants[] = {&want.same, &want.a_row, &want.row_a, &want.a_column, &want.scalar_a, &want.column_row};
  for (std::size_t i = 0; i < std::size(pairs); ++i) {
    CAPTURE(i);
    const auto& [av, bv] = pairs[i];
    Graph g;
    const Node a = g.input("a", {av.rows(), av.cols()});
    const Node b = g.input("b", {bv.rows(), bv.cols()});
    const Node y = op(a, b);
    CHECK(y.shape() == Shape{2, 3});
    Executor<double> ex(g);
    check_near(ex.run({{a, av}, {b, bv}}, {y})[0], *wants[i]);
  }
  Graph g;
  const Node x = g.input("x", {batch, 3});
  const Node r = g.input("r", {1, 3});
  const Node y = op(x, r);
  CHECK(y.shape() == Shape{batch, 3});
  Executor<double> ex(g);
  check_near(ex.run({{x, M(A.topRows(1))}, {r, R}}, {y})[0], want.a_row.topRows(1));
  check_near(ex.run({{x, A}, {r, R}}, {y})[0], want.a_row);
}

// op(column, matrix): the one broadcast pattern the registry's examples
// (broadcast_examples in ops/) do not hold, the column on the left, whose
// gradient sums across the columns for the first input.
inline void check_column_left_gradients(BinaryOp op) {
  using namespace dagrad;
  Graph g;
  const Node a = g.parameter("a", {2, 1});
  const Node b = g.parameter("b", {2, 3});
  const Node loss = sum(mul(op(a, b), g.constant(M{{0.5, -1.0, 0.3}, {-0.7, 0.9, 1.1}})));
  const GradcheckResult r = gradcheck(g, loss, {{a, op_checks::values(2, 1, 0.1)}, {b, op_checks::values(2, 3, 0.75)}}, {});
  CHECK_MESSAGE(r.ok, r.report());
}

// How op(p, q) writes itself in a trace: "p + q".
inline void check_infix(BinaryOp op, const std::string& want) {
  dagrad::Graph g;
  const dagrad::Node a = g.input("a", {1, 1});
  CHECK(op_checks::written(op(a, a), {"p", "q"}) == want);
}

}  // namespace elementwise_binary
