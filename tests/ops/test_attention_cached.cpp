// ops/attention_cached.cpp: the new rows' output against causal attention
// over the whole sequence (the cached rows then the new ones), with and
// without a past, across row tiles and the parallel cut; the same bits at 1
// and 2 threads; no gradient; bad shapes when built. The registry's checks:
// test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

namespace {

// attention_cached of qkv's last n rows over its first p rows' K | V,
// against causal attention over all p + n rows as one sequence: the last n
// rows of that.
void check_against_whole(Dim p, Dim n, Dim heads, Dim size, int threads = 0) {
  CAPTURE(p);
  CAPTURE(n);
  CAPTURE(heads);
  CAPTURE(threads);
  const Dim width = heads * size;
  Graph g;
  const Node all = g.input("all", {p + n, 3 * width});
  const Node fresh = g.input("qkv", {batch, 3 * width});
  const Node whole = attention(all, {.heads = heads, .context = p + n, .causal = true});
  Node y;
  std::vector<Feed<double>> feeds;
  const M values = op_checks::uniform(p + n, 3 * width, 7, -2, 2);
  const M past_values = values.topRows(p).rightCols(2 * width);
  feeds.push_back({all, values});
  feeds.push_back({fresh, values.bottomRows(n)});
  if (p > 0) {
    const Node past = g.input("past", {batch, 2 * width});
    y = attention_cached(fresh, past, heads);
    feeds.push_back({past, past_values});
  } else {
    y = attention_cached(fresh, heads);
  }
  Executor<double> ex(g, {.threads = threads});
  const std::vector<M> out = ex.run(feeds, {whole, y});
  REQUIRE(out[1].rows() == n);
  REQUIRE(out[1].cols() == width);
  const M expected = out[0].bottomRows(n);
  CHECK((out[1] - expected).cwiseAbs().maxCoeff() <= 1e-12 * (1 + expected.cwiseAbs().maxCoeff()));
}

}  // namespace

TEST_CASE("attention_cached gives the new rows what causal attention over the whole sequence gives them") {
  check_against_whole(0, 1, 1, 3);
  check_against_whole(0, 5, 2, 2);
  check_against_whole(1, 1, 2, 2);
  check_against_whole(7, 1, 4, 8);
  check_against_whole(32, 32, 4, 8);  // a context shift's prefill after half a window
  check_against_whole(5, 37, 3, 4);   // row tiles, the last one short
  // Past the parallel cut, on 1 and 2 threads.
  check_against_whole(40, 300, 4, 8, 1);
  check_against_whole(40, 300, 4, 8, 2);
}

TEST_CASE("attention_cached computes the same bits on 1 and 2 threads past the parallel cut") {
  Graph g;
  const Node qkv = g.input("qkv", {batch, 24});
  const Node past = g.input("past", {batch, 16});
  const Node y = attention_cached(qkv, past, 2);
  const M q = op_checks::uniform(400, 24, 1, -2, 2), k = op_checks::uniform(60, 16, 2, -2, 2);
  std::vector<M> out;
  for (int threads : {1, 2}) {
    Executor<double> ex(g, {.threads = threads});
    out.push_back(ex.run({{qkv, q}, {past, k}}, {y})[0]);
  }
  CHECK(out[0] == out[1]);
}

TEST_CASE("attention_cached shows its heads, refuses bad shapes when built, and declares no gradient") {
  Graph g;
  const Node qkv = g.input("qkv", {batch, 12});
  const Node past = g.input("past", {batch, 8});
  CHECK(attention_cached(qkv, past, 2).op()->label() == "attention_cached 2 heads");
  CHECK(attention_cached(qkv, 1).op()->label() == "attention_cached 1 head");
  CHECK(attention_cached(qkv, past, 2).shape() == Shape{batch, 4});
  CHECK_THROWS_WITH_AS(attention_cached(qkv, past, 0), doctest::Contains("at least 1 head"), ShapeError);
  CHECK_THROWS_WITH_AS(attention_cached(qkv, past, 3), doctest::Contains("not [Q | K | V] of 3 heads"), ShapeError);
  CHECK_THROWS_WITH_AS(attention_cached(qkv, g.input("narrow", {batch, 4}), 2),
                       doctest::Contains("past holds ?x4, not the [K | V] rows"), ShapeError);
  const Node w = g.parameter("w", {3, 12});
  const Node loss = sum(attention_cached(matmul(g.input("x", {2, 3}), w), 2));
  CHECK_THROWS_AS(gradients(loss, {w}), GraphError);
}
