// What the op tests share beyond the registry's generic checks
// (test_registry.cpp): an op built over inputs of a graph of its own and run
// (Applied), varied values, an op's values over batch rows, its gradient
// worked by hand, how it writes itself, and the message of the ShapeError a
// build throws.
//   op_checks::check_rowwise(exp, "exp", X, want);
//   check_near(op_checks::Applied<>(mse_loss, {{"p", {batch, 2}}, {"t", {batch, 2}}}).run({P, T}), M{{3.5}});
#pragma once

#include "check_near.hpp"
#include "contains.hpp"
#include "thrown.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <oneapi/tbb/global_control.h>

#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace op_checks {

// Tests that compare 1, 2 and 8 threads need oneTBB to allow 8 on any
// machine (it caps a process at its core count otherwise). One object for
// the whole program.
inline tbb::global_control allow_eight_threads(tbb::global_control::max_allowed_parallelism, 8);

using M = dagrad::Matrix<double>;
using UnaryOp = dagrad::Node (*)(dagrad::Node);
using BinaryOp = dagrad::Node (*)(dagrad::Node, dagrad::Node);

// Values in [low, low + 1.3), varied so no two elements are alike: by
// default [0.6, 1.9), away from 0.
inline M values(Eigen::Index rows, Eigen::Index cols, double start, double low = 0.6) {
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = low + std::fmod(start + 0.37 * k, 1.3);
  return m;
}

// Values drawn uniformly from [low, high), the same for the same seed.
inline M uniform(Eigen::Index rows, Eigen::Index cols, unsigned seed, double low = -1.0, double high = 1.0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(low, high);
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = d(gen);
  return m;
}

// An input of a graph built for a test: its name and shape.
struct Input {
  std::string name;
  dagrad::Shape shape;
};

// op over inputs of a graph of its own, named and shaped as given: `out` to
// check as built, run() to feed values to the inputs in their order and
// get op's value. Every run is on one executor, as a program runs.
//   op_checks::Applied y([](Node z, Node t) { return softmax_cross_entropy(z, t); },
//                        {{"logits", {2, 3}}, {"labels", {2, 3}}});
//   CHECK(y.out.shape() == Shape{1, 1});
//   check_near(y.run({Z, T}), M{{want}});
template <class T = double>
struct Applied {
  template <class Op, std::size_t N>
  Applied(Op op, const Input (&inputs)[N]) {
    for (const Input& i : inputs) in.push_back(g.input(i.name, i.shape));
    out = [&]<std::size_t... I>(std::index_sequence<I...>) { return op(in[I]...); }(std::make_index_sequence<N>{});
  }
  // For an op named by an overloaded name (abs, sqrt, pow...).
  Applied(UnaryOp op, const Input (&inputs)[1]) : Applied([op](dagrad::Node x) { return op(x); }, inputs) {}
  Applied(BinaryOp op, const Input (&inputs)[2])
      : Applied([op](dagrad::Node a, dagrad::Node b) { return op(a, b); }, inputs) {}

  dagrad::Matrix<T> run(const std::vector<dagrad::Matrix<T>>& values) {
    REQUIRE(values.size() == in.size());
    std::vector<dagrad::Feed<T>> feeds;
    for (std::size_t i = 0; i < in.size(); ++i) feeds.emplace_back(in[i], values[i]);
    if (!ex) ex.emplace(g);
    return ex->run(feeds, {out})[0];
  }

  dagrad::Graph g;
  std::vector<dagrad::Node> in;
  dagrad::Node out;
  std::optional<dagrad::Executor<T>> ex;
};

// op(x) for x fed as batch rows holding X.
inline M apply(UnaryOp op, const M& X) { return Applied<>(op, {{"x", {dagrad::batch, X.cols()}}}).run({X}); }

// An op that reduces batch rows to a shape fixed when built: its key, that
// shape, and its values for X's first row alone and for all of X.
inline void check_reduction(UnaryOp op, std::string_view key, dagrad::Shape out, const M& X, const M& want_first,
                            const M& want_all) {
  Applied<> y(op, {{"x", {dagrad::batch, X.cols()}}});
  CHECK(y.out.op()->key() == key);
  CHECK(y.out.shape() == out);
  check_near(y.run({X.topRows(1)}), want_first);
  check_near(y.run({X}), want_all);
}

// An op that works row by row, on batch rows: its key, its shape when built
// (batch rows, want's columns), and its values for X's first row alone and
// for all of X, against want row by row.
inline void check_rowwise(UnaryOp op, std::string_view key, const M& X, const M& want) {
  check_reduction(op, key, {dagrad::batch, want.cols()}, X, want.topRows(1), want);
}

// The same for an op of two inputs of batch rows, A and B.
inline void check_rowwise(BinaryOp op, std::string_view key, const M& A, const M& B, const M& want) {
  Applied<> y(op, {{"a", {dagrad::batch, A.cols()}}, {"b", {dagrad::batch, B.cols()}}});
  CHECK(y.out.op()->key() == key);
  CHECK(y.out.shape() == dagrad::Shape{dagrad::batch, want.cols()});
  check_near(y.run({A.topRows(1), B.topRows(1)}), want.topRows(1));
  check_near(y.run({A, B}), want);
}

// How y's op writes itself with args for its inputs.
inline std::string written(dagrad::Node y, const std::vector<std::string>& args) { return y.op()->expression(args); }

// dL/dp at P for L = sum(W ∘ op(p)), or L = sum(op(p)) when W is empty:
// what a test compares with the derivative worked by hand.
inline M gradient(UnaryOp op, const M& P, const M& W = M()) {
  dagrad::Graph g;
  const dagrad::Node p = g.parameter("p", {P.rows(), P.cols()});
  const dagrad::Node y = op(p);
  const dagrad::Node loss = W.size() == 0 ? sum(y) : sum(mul(y, g.constant(W)));
  const dagrad::Node d = dagrad::gradients(loss, {p})[0];
  dagrad::Executor<double> ex(g);
  ex.set(p, P);
  return ex.run({}, {d})[0];
}

// f throws a ShapeError whose message names each of `parts` (the op, the
// nodes, their shapes).
template <class F>
void check_shape_error(F&& f, std::initializer_list<std::string_view> parts) {
  check_contains(thrown<dagrad::ShapeError>(f), parts);
}

}  // namespace op_checks
