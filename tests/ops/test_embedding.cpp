// ops/embedding.cpp and ops/embedding_grad.cpp: rows picked by id, shapes
// checked when built, bad ids named when run, ids refused a gradient, and a
// table gradient that sums rows in row order, bit for bit at 1 and 2 threads.
// Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;
using op_checks::uniform;

namespace {

M whole_ids(Eigen::Index rows, unsigned seed, int count) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> d(0, count - 1);
  M m(rows, 1);
  for (Eigen::Index r = 0; r < rows; ++r) m(r, 0) = d(gen);
  return m;
}

}  // namespace

TEST_CASE("embedding picks the table's row for each id") {
  op_checks::Applied<> y(embedding, {{"ids", {batch, 1}}, {"table", {3, 2}}});
  CHECK(y.out.shape() == Shape{batch, 2});
  CHECK(y.out.op()->label() == "embedding");
  check_near(y.run({M{{2}, {0}, {2}, {1}}, M{{1, 2}, {3, 4}, {5, 6}}}), M{{5, 6}, {1, 2}, {5, 6}, {3, 4}});
}

TEST_CASE("embedding refuses ids that are not one column, and a table of open row count, when built") {
  Graph g;
  Node wide = g.input("wide", {4, 2});
  Node ids = g.input("ids", {4, 1});
  Node table = g.input("table", {3, 2});
  Node open = g.input("open", {batch, 2});
  CHECK_THROWS_WITH_AS(embedding(wide, table), doctest::Contains("the ids must be one column"), ShapeError);
  CHECK_THROWS_WITH_AS(embedding(ids, open), doctest::Contains("row count must be known"), ShapeError);
  CHECK_THROWS_AS(embedding_grad(ids, table, 0), GraphError);
}

TEST_CASE("an id out of range or not a whole number stops the run, naming the node, the row and the value") {
  Graph g;
  Node ids = g.input("ids", {3, 1});
  Node table = g.input("table", {4, 2});
  Node y = embedding(ids, table);
  g.rename(y, "lookup");
  Executor<double> ex(g);
  const M t = uniform(4, 2, 1, -1, 1);
  CHECK_THROWS_WITH_AS(ex.run({{ids, M{{0}, {2.5}, {1}}}, {table, t}}, {y}),
                       "embedding node 'lookup' failed: row 1 of the ids holds 2.5, which is not a whole number",
                       ExecutionError);
  CHECK_THROWS_WITH_AS(ex.run({{ids, M{{0}, {3}, {4}}}, {table, t}}, {y}),
                       "embedding node 'lookup' failed: row 2 of the ids holds 4, outside the table's rows [0, 4)",
                       ExecutionError);
  CHECK_THROWS_WITH_AS(ex.run({{ids, M{{-1}, {3}, {0}}}, {table, t}}, {y}),
                       doctest::Contains("row 0 of the ids holds -1, outside"), ExecutionError);
  // A good run after the bad ones.
  CHECK(ex.run({{ids, M{{3}, {3}, {0}}}, {table, t}}, {y})[0].row(1) == t.row(3));
}

TEST_CASE("embedding declares no gradient for its ids") {
  Graph g;
  Node ids = g.parameter("ids", {2, 1});
  Node table = g.parameter("table", {3, 2});
  CHECK_THROWS_WITH_AS(gradients(sum(embedding(ids, table)), {ids}), doctest::Contains("ids"), GraphError);
}

TEST_CASE("embedding's table gradient adds the rows of each id in row order, the same bits at 1 and 2 threads") {
  const Eigen::Index n = 3000, vocabulary = 7, width = 16;
  Graph g;
  Node ids = g.input("ids", {batch, 1});
  Node dy = g.input("dy", {batch, width});
  Node table = g.parameter("table", {vocabulary, width});
  Node w = g.input("w", {batch, width});
  Node scattered = embedding_grad(ids, dy, vocabulary);
  Node through_gradients = gradients(sum(mul(embedding(ids, table), w)), {table})[0];
  CHECK(scattered.op()->label() == "embedding_grad rows 7");

  const M id_values = whole_ids(n, 2, static_cast<int>(vocabulary));
  const M dy_values = uniform(n, width, 3, -1e3, 1e3), w_values = uniform(n, width, 4, -1, 1);
  // The sum in row order, written out.
  M want = M::Zero(vocabulary, width);
  for (Eigen::Index r = 0; r < n; ++r) want.row(static_cast<Eigen::Index>(id_values(r, 0))) += dy_values.row(r);

  std::vector<M> grads;
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    Executor<double> ex(g, {.threads = threads});
    ex.set(table, uniform(vocabulary, width, 5, -1, 1));
    const auto out = ex.run({{ids, id_values}, {dy, dy_values}, {w, w_values}}, {scattered, through_gradients});
    CHECK(out[0] == want);
    grads.push_back(out[1]);
  }
  CHECK(grads[0] == grads[1]);
}
