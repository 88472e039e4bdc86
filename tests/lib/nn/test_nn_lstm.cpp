// nn::lstm: its parameters and PyTorch's initial bounds, its node count, the
// errors naming the layer, its hidden states against the equations worked
// with Eigen, its gradients against finite differences, and the same bits at
// 1 and 2 threads.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include <cmath>
#include <random>

using namespace dagrad;
using M = Matrix<double>;

namespace {

M random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed, double bound = 1.0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(-bound, bound);
  M m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m(k / cols, k % cols) = d(gen);
  return m;
}

M sigmoid_of(const M& z) { return (1.0 + (-z.array()).exp()).inverse().matrix(); }
M tanh_of(const M& z) { return z.array().tanh().matrix(); }

// The LSTM's equations written out: x (B*T) x D, row b*T + t; the hidden
// states in the same row order.
M lstm_by_hand(const M& x, Eigen::Index steps, const M& w_ih, const M& w_hh, const M& b_ih, const M& b_hh) {
  const Eigen::Index hidden = w_hh.rows(), sequences = x.rows() / steps;
  M out(x.rows(), hidden);
  for (Eigen::Index b = 0; b < sequences; ++b) {
    M h = M::Zero(1, hidden), c = M::Zero(1, hidden);
    for (Eigen::Index t = 0; t < steps; ++t) {
      const M z = x.row(b * steps + t) * w_ih + b_ih + b_hh + h * w_hh;
      const M i = sigmoid_of(z.middleCols(0, hidden)), f = sigmoid_of(z.middleCols(hidden, hidden));
      const M g = tanh_of(z.middleCols(2 * hidden, hidden)), o = sigmoid_of(z.middleCols(3 * hidden, hidden));
      c = (f.array() * c.array() + i.array() * g.array()).matrix();
      h = (o.array() * tanh_of(c).array()).matrix();
      out.row(b * steps + t) = h;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("lstm makes w_ih, w_hh, b_ih and b_hh under its scope, drawn from U(-1/sqrt(H), 1/sqrt(H))") {
  Graph g;
  Node x = g.input("x", {batch, 5});
  nn::Init init(7);
  const std::size_t before = g.size();
  Node h = nn::lstm(x, {.steps = 4, .hidden = 16}, init, "lstm1");
  CHECK(h.shape() == Shape{batch, 16});
  CHECK(h.name() == "lstm1/hidden");
  REQUIRE(init.parameters().size() == 4);
  const char* names[] = {"lstm1/w_ih", "lstm1/w_hh", "lstm1/b_ih", "lstm1/b_hh"};
  const Shape shapes[] = {{5, 64}, {16, 64}, {1, 64}, {1, 64}};
  const std::vector<M> values = init.values();
  for (std::size_t k = 0; k < 4; ++k) {
    CAPTURE(names[k]);
    CHECK(init.parameters()[k].name() == names[k]);
    CHECK(init.parameters()[k].shape() == shapes[k]);
    CHECK(values[k].cwiseAbs().maxCoeff() <= 0.25);
    CHECK(values[k].cwiseAbs().maxCoeff() > 0.2);
  }
  // 4 parameters, the projection's 3 nodes, 10 for the first step, 16 for
  // each later one, and the interleave, as the header says.
  CHECK(g.size() - before == 4 + 3 + 10 + 16 * 3 + 1);
  CHECK(g.find("lstm1/t2/h").has_value());
  CHECK(g.info(g.find("lstm1/t2/c")->id()).scope == "lstm1/t2");
}

TEST_CASE("a one-step lstm has no w_hh, since h_0 is 0") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  nn::Init init(1);
  nn::lstm(x, {.steps = 1, .hidden = 2}, init, "one");
  REQUIRE(init.parameters().size() == 3);
  CHECK(init.parameters()[1].name() == "one/b_ih");
}

TEST_CASE("lstm refuses steps or hidden below 1 and rows that are not whole sequences, naming the layer") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  nn::Init init(1);
  CHECK_THROWS_WITH_AS(nn::lstm(x, {.steps = 0, .hidden = 4}, init, "rnn"),
                       doctest::Contains("nn::lstm 'rnn'"), ShapeError);
  CHECK_THROWS_WITH_AS(nn::lstm(x, {.steps = 3, .hidden = 0}, init, "rnn"), doctest::Contains("hidden 0"),
                       ShapeError);
  Node seven = g.input("seven", {7, 3});
  CHECK_THROWS_WITH_AS(nn::lstm(seven, {.steps = 2, .hidden = 4}, init, "rnn"),
                       doctest::Contains("7 rows are not whole sequences of 2 steps"), ShapeError);
  CHECK(init.parameters().empty());  // nothing made for a refused layer
  Node h = nn::lstm(x, {.steps = 3, .hidden = 2}, init, "rnn");
  Executor<double> ex(g);
  init.apply(ex);
  CHECK_THROWS_AS(ex.run({{x, random_matrix(5, 3, 1)}}, {h}), ShapeError);  // 5 rows: not sequences of 3
}

TEST_CASE("lstm's hidden states are the LSTM equations over each sequence, in float64") {
  Graph g;
  Node x = g.input("x", {batch, 2});
  nn::Init init(11);
  Node h = nn::lstm(x, {.steps = 3, .hidden = 3}, init, "lstm");
  Executor<double> ex(g);
  init.apply(ex);
  const std::vector<M> p = init.values();
  const M X = random_matrix(2 * 3, 2, 5, 2.0);
  const M want = lstm_by_hand(X, 3, p[0], p[1], p[2], p[3]);
  const M got = ex.run({{x, X}}, {h})[0];
  REQUIRE(got.rows() == 6);
  REQUIRE(got.cols() == 3);
  CHECK((got - want).cwiseAbs().maxCoeff() < 1e-14);
  CHECK(want.cwiseAbs().minCoeff() > 1e-4);  // no state is trivially 0
}

TEST_CASE("lstm's gradients, through every step, match central differences") {
  Graph g;
  Node x = g.parameter("x", {2 * 4, 3});
  nn::Init init(3);
  Node h = nn::lstm(x, {.steps = 4, .hidden = 2}, init, "lstm");
  Node loss = sum(mul(h, g.constant(random_matrix(8, 2, 9))));
  const std::vector<M> p = init.values();
  std::vector<Feed<double>> values{{x, random_matrix(8, 3, 4)}};
  for (std::size_t k = 0; k < p.size(); ++k) values.push_back({init.parameters()[k], p[k]});
  const GradcheckResult r = gradcheck(g, loss, values, {});
  CAPTURE(r.report());
  CHECK(r.ok);
  REQUIRE(r.entries.size() == 5);
  for (const GradcheckEntry& e : r.entries) CHECK(e.failures == 0);
}

TEST_CASE("a stacked lstm's loss and gradients have the same bits on 1 and 2 threads") {
  Graph g;
  Node ids = g.input("ids", {batch, 1}), targets = g.input("targets", {batch, 1});
  nn::Init init(5);
  Node e = nn::embedding(ids, 9, 8, init, "embed");
  Node h = nn::lstm(nn::lstm(e, {.steps = 6, .hidden = 24}, init, "lstm1"), {.steps = 6, .hidden = 24}, init, "lstm2");
  Node loss = cross_entropy(nn::dense(h, 9, init, "head"), targets);
  const std::vector<Node> grads = gradients(loss, init.parameters());
  std::vector<Node> fetches{loss};
  fetches.insert(fetches.end(), grads.begin(), grads.end());
  std::mt19937 gen(2);
  M I(16 * 6, 1), Y(16 * 6, 1);
  for (Eigen::Index r = 0; r < I.rows(); ++r) I(r, 0) = double(gen() % 9), Y(r, 0) = double(gen() % 9);
  std::vector<std::vector<Matrix<float>>> out;
  for (int threads : {1, 2}) {
    Executor<float> ex(g, {.threads = threads});
    init.apply(ex);
    out.push_back(ex.run({{ids, I.cast<float>()}, {targets, Y.cast<float>()}}, fetches));
  }
  CHECK(std::isfinite(out[0][0](0, 0)));
  for (std::size_t k = 0; k < fetches.size(); ++k) {
    CAPTURE(k);
    CHECK(out[0][k] == out[1][k]);
  }
}
