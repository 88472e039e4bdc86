// ops/attention.cpp and ops/attention_grad.cpp: values and gradients against
// attention written head by head with slice, matmul and softmax (a hand-made
// mask added before the softmax), causality, bad input when built and when
// run, and the same bits at 1 and 2 threads. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>
#include <string>

using namespace dagrad;
using M = Matrix<double>;

namespace {

M spread(Eigen::Index rows, Eigen::Index cols, unsigned seed) { return op_checks::uniform(rows, cols, seed, -2, 2); }

struct Case {
  Dim sequences, context, heads, size;
  bool causal;
  Dim width() const { return heads * size; }
  Dim rows() const { return sequences * context; }
  AttentionOptions options() const { return {.heads = heads, .context = context, .causal = causal}; }
};

// One sequence's attention, head by head: softmax(Q Kᵀ / sqrt(d) + mask) V,
// the mask a constant of -1e30 above the diagonal, the heads side by side.
Node reference(Graph& g, Node qkv, const Case& c) {
  const Dim d = c.size, t = c.context;
  M mask = M::Zero(t, t);
  for (Dim i = 0; i < t; ++i) {
    for (Dim j = i + 1; j < t; ++j) mask(i, j) = -1e30;
  }
  std::vector<Node> heads;
  for (Dim h = 0; h < c.heads; ++h) {
    const Node q = slice(qkv, h * d, d), k = slice(qkv, c.width() + h * d, d), v = slice(qkv, 2 * c.width() + h * d, d);
    Node s = scale(matmul(q, k, {.transpose_b = true}), 1 / std::sqrt(double(d)));
    if (c.causal) s = add(s, g.constant(mask));
    heads.push_back(matmul(softmax(s), v));
  }
  return heads.size() == 1 ? heads[0] : concat(heads);
}

double max_difference(const M& a, const M& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return (a - b).cwiseAbs().maxCoeff();
}

// attention and its gradient on all sequences at once, against the
// reference on each sequence alone; the loss weighs each output by w.
void check_against_reference(const Case& c) {
  CAPTURE(c.sequences);
  CAPTURE(c.context);
  CAPTURE(c.heads);
  CAPTURE(c.size);
  CAPTURE(c.causal);
  Graph g;
  const Node qkv = g.parameter("qkv", {c.rows(), 3 * c.width()});
  const Node w = g.input("w", {c.rows(), c.width()});
  const Node y = attention(qkv, c.options());
  std::vector<Node> fetches = {y, gradients(sum(mul(y, w)), {qkv})[0]};
  std::vector<Node> pieces, weights;
  for (Dim s = 0; s < c.sequences; ++s) {
    std::string qkv_s = "qkv", w_s = "w";  // (not "qkv" + ..., which GCC 12 warns of wrongly)
    qkv_s += std::to_string(s);
    w_s += std::to_string(s);
    pieces.push_back(g.parameter(qkv_s, {c.context, 3 * c.width()}));
    weights.push_back(g.input(w_s, {c.context, c.width()}));
    const Node o = reference(g, pieces.back(), c);
    fetches.push_back(o);
    fetches.push_back(gradients(sum(mul(o, weights.back())), {pieces.back()})[0]);
  }

  const M qkv_values = spread(c.rows(), 3 * c.width(), 1), w_values = spread(c.rows(), c.width(), 2);
  Executor<double> ex(g);
  ex.set(qkv, qkv_values);
  std::vector<Feed<double>> feeds = {{w, w_values}};
  for (Dim s = 0; s < c.sequences; ++s) {
    ex.set(pieces[s], qkv_values.middleRows(s * c.context, c.context));
    feeds.push_back({weights[s], w_values.middleRows(s * c.context, c.context)});
  }
  const std::vector<M> out = ex.run(feeds, fetches);
  for (Dim s = 0; s < c.sequences; ++s) {
    CAPTURE(s);
    CHECK(max_difference(out[0].middleRows(s * c.context, c.context), out[2 + 2 * s]) < 1e-12);
    CHECK(max_difference(out[1].middleRows(s * c.context, c.context), out[3 + 2 * s]) < 1e-12);
  }
}

}  // namespace

TEST_CASE("attention gives each sequence and head softmax(Q Kᵀ / sqrt(d) + mask) V, and its gradient") {
  for (const bool causal : {true, false}) {
    check_against_reference({.sequences = 2, .context = 3, .heads = 2, .size = 2, .causal = causal});
    check_against_reference({.sequences = 2, .context = 5, .heads = 2, .size = 3, .causal = causal});
    check_against_reference({.sequences = 3, .context = 1, .heads = 2, .size = 2, .causal = causal});
    // Several tiles of rows, the last one short, and a context of whole tiles.
    check_against_reference({.sequences = 2, .context = 37, .heads = 3, .size = 4, .causal = causal});
    check_against_reference({.sequences = 2, .context = 32, .heads = 1, .size = 5, .causal = causal});
  }
}

TEST_CASE("a causal attention's output at step t does not change when later steps or other sequences change") {
  const Case c{.sequences = 2, .context = 20, .heads = 2, .size = 3, .causal = true};
  const Dim t = 7;
  for (const bool causal : {true, false}) {
    CAPTURE(causal);
    Graph g;
    const Node qkv = g.input("qkv", {batch, 3 * c.width()});
    const Node y = attention(qkv, {.heads = c.heads, .context = c.context, .causal = causal});
    Executor<double> ex(g);
    const M before = spread(c.rows(), 3 * c.width(), 3);
    M after = before;
    after.middleRows(t + 1, c.context - t - 1) = spread(c.context - t - 1, 3 * c.width(), 4);
    const M a = ex.run({{qkv, before}}, {y})[0], b = ex.run({{qkv, after}}, {y})[0];
    // Steps 0..t of the changed sequence, and all of the other one.
    CHECK((a.topRows(t + 1).array() == b.topRows(t + 1).array()).all() == causal);
    CHECK(a.bottomRows(c.context) == b.bottomRows(c.context));
    CHECK(a.middleRows(t + 1, c.context - t - 1) != b.middleRows(t + 1, c.context - t - 1));
  }
}

TEST_CASE("attention shows its heads and context, and refuses bad options and shapes when built") {
  Graph g;
  const Node qkv = g.input("qkv", {6, 12});
  CHECK(attention(qkv, {.heads = 2, .context = 3}).op()->label() == "attention 2 heads, context 3, causal");
  CHECK(attention(qkv, {.heads = 1, .context = 6, .causal = false}).op()->label() == "attention 1 head, context 6");
  CHECK(attention(qkv, {.heads = 2, .context = 3}).shape() == Shape{6, 4});
  CHECK(attention_grad(qkv, g.input("dy", {6, 4}), {.heads = 2, .context = 3}).op()->label() ==
        "attention_grad 2 heads, context 3, causal");

  CHECK_THROWS_WITH_AS(attention(qkv, {.heads = 0, .context = 3}),
                       "attention: 'qkv' (6x12) do not fit: attention needs at least 1 head and a context from 1 to "
                       "32768; got heads 0, context 3",
                       ShapeError);
  CHECK_THROWS_WITH_AS(attention(qkv, {.heads = 2, .context = 0}), doctest::Contains("got heads 2, context 0"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(attention(qkv, {.heads = 3, .context = 3}),
                       doctest::Contains("qkv rows hold 12 columns, not [Q | K | V] of 3 heads: a positive "
                                         "multiple of 3 x 3"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(attention(g.input("odd", {6, 13}), {.heads = 1, .context = 3}),
                       doctest::Contains("'odd' (6x13) do not fit: qkv rows hold 13 columns"), ShapeError);
  CHECK_THROWS_WITH_AS(attention(qkv, {.heads = 2, .context = 4}),
                       doctest::Contains("6 rows are not a whole number of sequences of context 4"), ShapeError);
  CHECK_THROWS_WITH_AS(attention_grad(qkv, g.input("wide", {6, 5}), {.heads = 2, .context = 3}),
                       doctest::Contains("dy must be 6x4, the attention's output, not 6x5"), ShapeError);
  CHECK_THROWS_WITH_AS(attention_grad(qkv, g.input("long", {9, 4}), {.heads = 2, .context = 3}),
                       doctest::Contains("not 9x4"), ShapeError);
}

TEST_CASE("an open batch that is not a whole number of sequences stops the run, naming the node, rows and context") {
  Graph g;
  const Node qkv = g.input("qkv", {batch, 12});
  const Node y = attention(qkv, {.heads = 2, .context = 3});
  g.rename(y, "block0/attention");
  Executor<double> ex(g);
  CHECK_THROWS_WITH_AS(ex.run({{qkv, spread(7, 12, 5)}}, {y}),
                       "attention node 'block0/attention' at run time: 'qkv' (7x12) do not fit: 7 rows are not a "
                       "whole number of sequences of context 3",
                       ShapeError);
  CHECK(ex.run({{qkv, spread(9, 12, 5)}}, {y})[0].rows() == 9);
}

TEST_CASE("attention and its gradient give the same bits at 1 and 2 threads") {
  // The character GPT's shapes: 12 sequences of 64 steps, 4 heads, C = 128.
  const Dim rows = 12 * 64, width = 128;
  Graph g;
  const Node qkv = g.parameter("qkv", {rows, 3 * width});
  const Node w = g.input("w", {batch, width});
  const Node y = attention(qkv, {.heads = 4, .context = 64});
  const Node dqkv = gradients(sum(mul(y, w)), {qkv})[0];
  const Matrix<float> qkv_values = spread(rows, 3 * width, 6).cast<float>();
  const Matrix<float> w_values = spread(rows, width, 7).cast<float>();
  std::vector<std::vector<Matrix<float>>> runs;
  for (int threads : {1, 2}) {
    Executor<float> ex(g, {.threads = threads});
    ex.set(qkv, qkv_values);
    runs.push_back(ex.run({{w, w_values}}, {y, dqkv}));
  }
  CHECK(runs[0][0].allFinite());
  CHECK(runs[0][0] == runs[1][0]);
  CHECK(runs[0][1] == runs[1][1]);
}
