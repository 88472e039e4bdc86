// ops/cross_entropy.cpp and ops/cross_entropy_grad.cpp: the loss by hand,
// with and without ignored rows, the same bits as softmax_cross_entropy with
// one-hot labels, all rows ignored (NaN, zero gradient), bad shapes refused
// when built, bad ids named when run, and the same bits at 1 and 2 threads.
// Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;

namespace {

// -log softmax(row)_k, written out.
double nll(const M& row, Eigen::Index k) {
  double s = 0;
  for (Eigen::Index j = 0; j < row.cols(); ++j) s += std::exp(row(0, j));
  return std::log(s) - row(0, k);
}

// softmax(row) - onehot(k), written out.
M softmax_minus_onehot(const M& row, Eigen::Index k) {
  M p = row.array().exp();
  p /= p.sum();
  p(0, k) -= 1;
  return p;
}

Matrix<float> one_hot(const Matrix<float>& ids, Eigen::Index classes) {
  Matrix<float> t = Matrix<float>::Zero(ids.rows(), classes);
  for (Eigen::Index r = 0; r < ids.rows(); ++r) t(r, static_cast<Eigen::Index>(ids(r, 0))) = 1;
  return t;
}

Matrix<float> wavy(Eigen::Index rows, Eigen::Index cols) {
  Matrix<float> m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = float(std::sin(0.7 * double(k)) * 4);
  return m;
}

// The loss by the ids, the default options.
Node by_ids(Node logits, Node ids) { return cross_entropy(logits, ids); }

}  // namespace

TEST_CASE("cross_entropy averages -log softmax at each row's id over the rows") {
  op_checks::Applied<> loss(by_ids, {{"logits", {batch, 3}}, {"ids", {batch, 1}}});
  CHECK(loss.out.shape() == Shape{1, 1});
  CHECK(loss.out.op()->label() == "cross_entropy");
  const M Z{{1, 2, 3}, {1, 1, 1}, {0.5, -2, 4}};
  const double want = (nll(Z.row(0), 2) + nll(Z.row(1), 0) + nll(Z.row(2), 1)) / 3;
  check_near(loss.run({Z, M{{2}, {0}, {1}}}), M{{want}});
  // Row 0 by hand: log(e + e^2 + e^3) - 3.
  check_near(loss.run({Z.topRows(1), M{{2}}}), M{{std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3}});
}

TEST_CASE("cross_entropy leaves the rows whose id is the ignore index out of the sum and the count") {
  Graph g;
  Node z = g.parameter("logits", {4, 3});
  Node ids = g.input("ids", {4, 1});
  Node loss = cross_entropy(z, ids, {.ignore_index = -100});
  CHECK(loss.op()->label() == "cross_entropy ignore -100");
  Node dz = gradients(scale(loss, 2.0), {z})[0];
  CHECK(dz.op()->label() == "cross_entropy_grad ignore -100");
  Executor<double> ex(g);
  const M Z{{1, 2, 3}, {9, 9, 0}, {0.5, -2, 4}, {-1, 0, 1}};
  ex.set(z, Z);
  const auto out = ex.run({{ids, M{{2}, {-100}, {1}, {-100}}}}, {loss, dz});
  check_near(out[0], M{{(nll(Z.row(0), 2) + nll(Z.row(2), 1)) / 2}});
  // dL/dz = 2 (softmax - onehot) / 2 on rows 0 and 2, zero on the ignored rows.
  M want = M::Zero(4, 3);
  want.row(0) = softmax_minus_onehot(Z.row(0), 2);
  want.row(2) = softmax_minus_onehot(Z.row(2), 1);
  check_near(out[1], want);

  // An ignore index inside [0, V) is a padding class: its rows drop out.
  op_checks::Applied<> padded([](Node z, Node ids) { return cross_entropy(z, ids, {.ignore_index = 0}); },
                              {{"logits", {3, 3}}, {"ids", {3, 1}}});
  check_near(padded.run({Z.topRows(3), M{{2}, {0}, {1}}}), M{{(nll(Z.row(0), 2) + nll(Z.row(2), 1)) / 2}});
}

TEST_CASE("cross_entropy of every row ignored is NaN, as PyTorch gives, with a zero gradient") {
  Graph g;
  Node z = g.parameter("logits", {2, 3});
  Node ids = g.input("ids", {2, 1});
  Node loss = cross_entropy(z, ids, {.ignore_index = -1});
  Node dz = gradients(loss, {z})[0];
  Executor<double> ex(g);
  ex.set(z, M{{1, 2, 3}, {4, 5, 6}});
  const auto out = ex.run({{ids, M{{-1}, {-1}}}}, {loss, dz});
  CHECK(std::isnan(out[0](0, 0)));
  CHECK(out[1] == M::Zero(2, 3));
}

TEST_CASE("cross_entropy gives the same bits as softmax_cross_entropy with one-hot labels, loss and gradient") {
  const Eigen::Index rows = 200, classes = 9;
  Matrix<float> id_values(rows, 1);
  for (Eigen::Index r = 0; r < rows; ++r) id_values(r, 0) = float((r * 5) % classes);
  Graph g;
  Node z = g.parameter("logits", {rows, classes});
  Node ids = g.input("ids", {batch, 1});
  Node labels = g.input("labels", {batch, classes});
  Node by_id = cross_entropy(z, ids);
  Node by_label = softmax_cross_entropy(z, labels);
  Node d_id = gradients(scale(by_id, 3.0), {z})[0];
  Node d_label = gradients(scale(by_label, 3.0), {z})[0];
  Executor<float> ex(g);
  ex.set(z, wavy(rows, classes));
  const auto out = ex.run({{ids, id_values}, {labels, one_hot(id_values, classes)}}, {by_id, by_label, d_id, d_label});
  CHECK(out[0](0, 0) == out[1](0, 0));
  CHECK(out[2] == out[3]);
}

TEST_CASE("cross_entropy stays finite for huge logits") {
  op_checks::Applied<float> loss(by_ids, {{"logits", {2, 2}}, {"ids", {2, 1}}});
  const Matrix<float> out = loss.run({Matrix<float>{{1000, 0}, {0, 0}}, Matrix<float>{{1}, {0}}});
  REQUIRE(out.allFinite());
  // Rows: 1000 (the wrong class, e^-1000 away) and log 2; their mean.
  CHECK(out(0, 0) == doctest::Approx((1000.0 + std::log(2.0)) / 2).epsilon(1e-6));
}

TEST_CASE("cross_entropy refuses ids that are not one column, row counts that differ and open classes, when built") {
  Graph g;
  Node z = g.input("logits", {4, 3});
  Node wide = g.input("wide", {4, 2});
  Node few = g.input("few", {3, 1});
  Node open = transpose(g.input("tall", {batch, 4}));  // 4 x ?: classes unknown until run
  Node ids = g.input("ids", {4, 1});
  Node dy = g.input("dy", {1, 2});
  CHECK_THROWS_WITH_AS(cross_entropy(z, wide), doctest::Contains("the ids must be one column"), ShapeError);
  CHECK_THROWS_WITH_AS(cross_entropy(z, few),
                       "cross_entropy: 'logits' (4x3) and 'few' (3x1) do not fit: the logits have 4 rows but the ids "
                       "have 3",
                       ShapeError);
  CHECK_THROWS_WITH_AS(cross_entropy(open, ids), doctest::Contains("class count"), ShapeError);
  CHECK_THROWS_WITH_AS(cross_entropy_grad(z, ids, dy), doctest::Contains("dy must be 1x1"), ShapeError);
}

TEST_CASE("an id out of range or not a whole number stops the run, naming the node, the row and the value") {
  Graph g;
  Node z = g.input("logits", {3, 4});
  Node ids = g.input("ids", {3, 1});
  Node loss = cross_entropy(z, ids, {.ignore_index = -100});
  g.rename(loss, "loss");
  Executor<double> ex(g);
  const M Z = M::Constant(3, 4, 0.5);
  CHECK_THROWS_WITH_AS(ex.run({{z, Z}, {ids, M{{0}, {4}, {1}}}}, {loss}),
                       "cross_entropy node 'loss' failed: row 1 of the ids holds 4, outside the classes [0, 4)",
                       ExecutionError);
  CHECK_THROWS_WITH_AS(ex.run({{z, Z}, {ids, M{{0}, {3}, {0.5}}}}, {loss}),
                       "cross_entropy node 'loss' failed: row 2 of the ids holds 0.5, which is not a whole number",
                       ExecutionError);
  CHECK_THROWS_WITH_AS(ex.run({{z, Z}, {ids, M{{-1}, {3}, {0}}}}, {loss}),
                       doctest::Contains("row 0 of the ids holds -1, outside the classes"), ExecutionError);
  // The ignore index itself is no error, and a good run follows the bad ones.
  CHECK(ex.run({{z, Z}, {ids, M{{-100}, {3}, {0}}}}, {loss})[0](0, 0) == doctest::Approx(std::log(4.0)));
}

TEST_CASE("cross_entropy declares no gradient for its ids") {
  Graph g;
  Node z = g.parameter("logits", {2, 3});
  Node ids = g.parameter("ids", {2, 1});
  CHECK_THROWS_WITH_AS(gradients(cross_entropy(z, ids), {ids}), doctest::Contains("ids"), GraphError);
}

TEST_CASE("cross_entropy and its gradient give the same bits at 1 and 2 threads") {
  // 3000 rows of 40 classes: two threads share the rows; the loss adds the
  // rows' terms in row order whoever computed them.
  const Eigen::Index rows = 3000, classes = 40;
  Matrix<float> id_values(rows, 1);
  for (Eigen::Index r = 0; r < rows; ++r) id_values(r, 0) = r % 7 == 3 ? -1.0f : float((r * 13) % classes);
  Graph g;
  Node z = g.parameter("logits", {rows, classes});
  Node ids = g.input("ids", {batch, 1});
  Node loss = cross_entropy(z, ids, {.ignore_index = -1});
  Node dz = gradients(loss, {z})[0];
  std::vector<std::vector<Matrix<float>>> runs;
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    Executor<float> ex(g, {.threads = threads});
    ex.set(z, wavy(rows, classes));
    runs.push_back(ex.run({{ids, id_values}}, {loss, dz}));
  }
  CHECK(runs[0][0] == runs[1][0]);
  CHECK(runs[0][1] == runs[1][1]);
  CHECK(runs[0][1].row(3).isZero());
}
