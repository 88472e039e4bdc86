// ops/softmax_cross_entropy.cpp: mean cross-entropy of softmax(logits)
// against labels; values by hand, one-hot labels' gradcheck, batch rows,
// float, thread counts. Other gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <cmath>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("softmax_cross_entropy averages -log softmax at the labels over the rows") {
  op_checks::Applied<> loss(softmax_cross_entropy, {{"logits", {2, 3}}, {"labels", {2, 3}}});
  CHECK(loss.out.shape() == Shape{1, 1});
  // Row 0: -log(e^3 / (e + e^2 + e^3)); row 1: -log(1/3).
  const double row0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3;
  const double row1 = std::log(3.0);
  check_near(loss.run({M{{1, 2, 3}, {1, 1, 1}}, M{{0, 0, 1}, {1, 0, 0}}}), M{{(row0 + row1) / 2}});
}

TEST_CASE("softmax_cross_entropy stays finite for huge logits") {
  op_checks::Applied<> loss(softmax_cross_entropy, {{"logits", {1, 2}}, {"labels", {1, 2}}});
  // softmax(1000, 0) puts e^-1000 on the second class: the loss is 1000.
  const M out = loss.run({M{{1000, 0}}, M{{0, 1}}});
  REQUIRE(out.allFinite());
  CHECK(out(0, 0) == doctest::Approx(1000.0));
  const M right = loss.run({M{{1000, 0}}, M{{1, 0}}});
  CHECK(right(0, 0) == doctest::Approx(0.0));
}

TEST_CASE("softmax_cross_entropy's gradient is (softmax - labels) / rows") {
  Graph g;
  Node z = g.parameter("logits", {2, 2});
  Node t = g.input("labels", {2, 2});
  std::vector<Node> d = gradients(softmax_cross_entropy(z, t), {z});
  Executor<double> ex(g);
  ex.set(z, M{{0, 1}, {2, 2}});
  const double a = 1 / (1 + std::exp(1.0));  // softmax(0, 1) = (a, 1 - a)
  check_near(ex.run({{t, M{{1, 0}, {0, 1}}}}, {d[0]})[0],
             M{{(a - 1) / 2, (1 - a) / 2}, {0.5 / 2, (0.5 - 1) / 2}});
}

// The registry's example has soft labels; one-hot rows, mostly exact zeros,
// are the case training meets.
TEST_CASE("softmax_cross_entropy passes gradcheck with one-hot labels") {
  Graph g;
  Node z = g.parameter("logits", {3, 4});
  Node t = g.input("labels", {3, 4});
  // Scaled so that the incoming gradient is not 1.
  Node loss = scale(softmax_cross_entropy(z, t), 2.5);
  const M hard{{0, 1, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 1}};
  GradcheckResult r = gradcheck(g, loss, {{z, op_checks::values(3, 4, 0.2)}}, {{t, hard}});
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("softmax_cross_entropy has no gradient with respect to its labels") {
  Graph g;
  Node z = g.input("logits", {2, 3});
  Node t = g.parameter("labels", {2, 3});
  Node loss = softmax_cross_entropy(z, t);
  CHECK_THROWS_AS(gradients(loss, {t}), GraphError);
}

TEST_CASE("softmax_cross_entropy of 2x3 logits and 2x4 labels throws a ShapeError naming both") {
  Graph g;
  Node z = g.input("logits", {2, 3});
  Node t = g.input("labels", {2, 4});
  op_checks::check_shape_error([&] { softmax_cross_entropy(z, t); }, {"logits", "labels", "2x3", "2x4"});
}

TEST_CASE("softmax_cross_entropy of batch rows averages over the rows fed") {
  op_checks::Applied<> loss(softmax_cross_entropy, {{"logits", {batch, 2}}, {"labels", {batch, 2}}});
  CHECK(loss.out.shape() == Shape{1, 1});
  const double l = std::log(1 + std::exp(1.0));  // -log softmax(0, 1)_0
  check_near(loss.run({M{{0, 1}}, M{{1, 0}}}), M{{l}});
  // Rows: l, log 2, l - 1 (the second class of (0, 1)); mean of three.
  check_near(loss.run({M{{0, 1}, {4, 4}, {0, 1}}, M{{1, 0}, {0, 1}, {0, 1}}}), M{{(l + std::log(2.0) + l - 1) / 3}});
}

TEST_CASE("softmax_cross_entropy runs in float and stays finite for huge logits") {
  op_checks::Applied<float> loss(softmax_cross_entropy, {{"logits", {2, 2}}, {"labels", {2, 2}}});
  const Matrix<float> out =
      loss.run({Matrix<float>{{100.0f, 0.0f}, {0.0f, 0.0f}}, Matrix<float>{{0.0f, 1.0f}, {1.0f, 0.0f}}});
  REQUIRE(out.allFinite());
  // Rows: 100 (the wrong class, e^-100 away) and log 2; their mean.
  CHECK(out(0, 0) == doctest::Approx((100.0 + std::log(2.0)) / 2).epsilon(1e-5));
}

TEST_CASE("softmax_cross_entropy and its gradient give the same bits on 1, 2 and 8 threads") {
  // 300 rows: shared among threads in blocks, so every thread count takes a
  // different path through the kernels. The loss adds the rows' terms in
  // row order whoever computed them; the reference below does the same on
  // one thread, with the kernels' own expressions.
  const Eigen::Index rows = 300, classes = 10;
  Matrix<float> logits(rows, classes), labels = Matrix<float>::Zero(rows, classes);
  for (Eigen::Index k = 0; k < logits.size(); ++k) logits(k / classes, k % classes) = float(std::sin(0.7 * double(k)) * 4);
  for (Eigen::Index r = 0; r < rows; ++r) labels(r, (r * 7) % classes) = 1;
  float total = 0;
  for (Eigen::Index r = 0; r < rows; ++r) {
    const float m = logits.row(r).maxCoeff();
    const float lse = m + std::log((logits.row(r).array() - m).exp().sum());
    total += (labels.row(r).array() * (logits.row(r).array() - lse)).sum();
  }
  const float want = -total / float(rows);

  Graph g;
  Node z = g.parameter("logits", {rows, classes});
  Node t = g.input("labels", {batch, classes});
  Node loss = softmax_cross_entropy(z, t);
  Node dz = gradients(loss, {z})[0];
  std::vector<Matrix<float>> first;
  for (const int threads : {1, 2, 8}) {
    CAPTURE(threads);
    Executor<float> ex(g, {.threads = threads});
    ex.set(z, logits);
    std::vector<Matrix<float>> out = ex.run({{t, labels}}, {loss, dz});
    CHECK(out[0](0, 0) == want);
    if (first.empty()) {
      first = out;
    } else {
      CHECK(out[1] == first[1]);
    }
  }
}
