// What the op tests share beyond the registry's generic checks
// (test_registry.cpp): varied values, an op's values over batch rows, its
// gradient worked by hand, and the message of the ShapeError a build throws.
//   op_checks::check_rowwise(exp, "exp", X, want);
#pragma once

#include "check_near.hpp"
#include "contains.hpp"
#include "thrown.hpp"

#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <oneapi/tbb/global_control.h>

#include <cmath>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>

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

// op(x) for x fed as batch rows holding X.
inline M apply(UnaryOp op, const M& X) {
  dagrad::Graph g;
  const dagrad::Node x = g.input("x", {dagrad::batch, X.cols()});
  dagrad::Executor<double> ex(g);
  return ex.run({{x, X}}, {op(x)})[0];
}

// An op that works row by row, on batch rows: its key, its shape when built
// (batch rows, want's columns), and its values for X's first row alone and
// for all of X, against want row by row.
inline void check_rowwise(UnaryOp op, std::string_view key, const M& X, const M& want) {
  dagrad::Graph g;
  const dagrad::Node x = g.input("x", {dagrad::batch, X.cols()});
  const dagrad::Node y = op(x);
  CHECK(y.op()->key() == key);
  CHECK(y.shape() == dagrad::Shape{dagrad::batch, want.cols()});
  dagrad::Executor<double> ex(g);
  check_near(ex.run({{x, M(X.topRows(1))}}, {y})[0], want.topRows(1));
  check_near(ex.run({{x, X}}, {y})[0], want);
}

// An op that reduces batch rows to a shape fixed when built: its key, that
// shape, and its values for X's first row alone and for all of X.
inline void check_reduction(UnaryOp op, std::string_view key, dagrad::Shape out, const M& X, const M& want_first,
                            const M& want_all) {
  dagrad::Graph g;
  const dagrad::Node x = g.input("x", {dagrad::batch, X.cols()});
  const dagrad::Node y = op(x);
  CHECK(y.op()->key() == key);
  CHECK(y.shape() == out);
  dagrad::Executor<double> ex(g);
  check_near(ex.run({{x, M(X.topRows(1))}}, {y})[0], want_first);
  check_near(ex.run({{x, X}}, {y})[0], want_all);
}

// The same for an op of two inputs of batch rows, A and B.
inline void check_rowwise(BinaryOp op, std::string_view key, const M& A, const M& B, const M& want) {
  dagrad::Graph g;
  const dagrad::Node a = g.input("a", {dagrad::batch, A.cols()});
  const dagrad::Node b = g.input("b", {dagrad::batch, B.cols()});
  const dagrad::Node y = op(a, b);
  CHECK(y.op()->key() == key);
  CHECK(y.shape() == dagrad::Shape{dagrad::batch, want.cols()});
  dagrad::Executor<double> ex(g);
  check_near(ex.run({{a, M(A.topRows(1))}, {b, M(B.topRows(1))}}, {y})[0], want.topRows(1));
  check_near(ex.run({{a, A}, {b, B}}, {y})[0], want);
}

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
