// Random graphs mixing the ops, with shared subexpressions and nodes of
// several consumers, must all pass gradcheck.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <oneapi/tbb/global_control.h>

#include <random>

using namespace dagrad;

// Lets arenas of 8 threads really get that many on a 2-core machine.
static tbb::global_control allow_threads(tbb::global_control::max_allowed_parallelism, 8);

namespace {

struct Builder {
  std::mt19937& rng;
  Graph& g;
  std::vector<Node> pool;  // every node here is rows x cols
  Eigen::Index rows = 3, cols = 4;

  Node pick() { return pool[rng() % pool.size()]; }
  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
  Matrix<double> random(Eigen::Index r, Eigen::Index c) {
    Matrix<double> m(r, c);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = uniform(-1, 1);
    return m;
  }
  // Keeps values in a moderate range so finite differences stay accurate.
  Node bounded(Node x) { return tanh(x); }

  Node step() {
    Node a = pick(), b = pick(), c = pick();
    switch (rng() % 22) {
      case 0: return sigmoid(a);
      case 1: return tanh(a);
      case 2: return relu(a);
      case 3: return identity(a);
      case 4: return square(bounded(a));
      case 5: return scale(a, uniform(-2, 2));
      case 6: return shift(a, uniform(-1, 1));
      case 7: return exp(bounded(a));
      case 8: return log(shift(square(a), 1.0));
      case 9: return softmax(a);
      case 10: return add(a, b);
      case 11: return sub(a, b);
      case 12: return mul(bounded(a), b);
      case 13: return div(a, shift(square(b), 1.0));
      case 14: return add(a, sum_rows(b));            // 1 x cols row broadcast
      case 15: return mul(a, bounded(sum_cols(b)));   // rows x 1 column broadcast
      case 16: return sub(a, mean(b));                // 1x1 broadcast
      case 17: return scale(matmul(matmul(a, b, {.transpose_b = true}), c), 0.3 / double(cols));
      case 18: return scale(matmul(c, matmul(a, b, {.transpose_a = true})), 0.3 / double(rows));
      case 19: return transpose(transpose(a));
      case 20: return add_n({a, b, c, a});
      default: return mul(a, scale(broadcast(sum(b), a), 0.1));
    }
  }
};

}  // namespace

TEST_CASE("200 random graphs pass gradcheck") {
  std::mt19937 rng(2024);
  int passed = 0;
  for (int trial = 0; trial < 200; ++trial) {
    Graph g;
    Builder b{rng, g, {}};
    Node p1 = g.parameter("p1", {3, 4});
    Node p2 = g.parameter("p2", {3, 4});
    Node x = g.input("x", {3, 4});
    b.pool = {p1, p2, x};
    const int steps = 3 + static_cast<int>(rng() % 10);
    for (int i = 0; i < steps; ++i) b.pool.push_back(b.step());

    // The loss reads several nodes, so many have more than one consumer.
    // A term over every leaf, so each checked node reaches the loss.
    std::vector<Node> terms{sum(mul(add_n({p1, p2, x}), g.constant(b.random(3, 4))))};
    for (int k = 0; k < 3; ++k) terms.push_back(sum(mul(b.pick(), g.constant(b.random(3, 4)))));
    if (rng() % 2) {
      Matrix<double> labels = Matrix<double>::Zero(3, 4);
      for (int r = 0; r < 3; ++r) labels(r, rng() % 4) = 1;
      terms.push_back(softmax_cross_entropy(b.pool.back(), g.constant(labels)));
    }
    Node loss = add_n(terms);

    GradcheckResult r =
        gradcheck(g, loss, {{p1, b.random(3, 4)}, {p2, b.random(3, 4)}, {x, b.random(3, 4)}}, {});
    CHECK_MESSAGE(r.ok, "trial " << trial << "\n" << r.report());
    passed += r.ok;
  }
  CHECK(passed == 200);
}

TEST_CASE("1000 random graphs: the same bits with memory planned, in place, fused, repeats merged and constants folded") {
  // Each graph against itself run node by node as built (plan_memory,
  // optimize and fuse off): every fetched value, at 1, 2 and 8 threads and
  // for a second fetch set, the same bits; every other node either the
  // same bits or reported reused. Most graphs are small; some are large
  // enough for several parallel blocks and fused tiles, with ragged tails.
  std::mt19937 rng(77);
  std::size_t merged = 0, folded = 0, in_place = 0, fused = 0, large = 0;
  const Shape shapes[] = {{3, 4}, {1, 5}, {6, 1}, {7, 13}, {129, 257}, {300, 40}};
  for (int trial = 0; trial < 1000; ++trial) {
    CAPTURE(trial);
    Graph g;
    Builder b{rng, g, {}};
    const std::size_t pick_shape = trial % 10 == 9 ? 4 + rng() % 2 : rng() % 4;
    b.rows = shapes[pick_shape].rows;
    b.cols = shapes[pick_shape].cols;
    large += pick_shape >= 4;
    CAPTURE(b.rows);
    CAPTURE(b.cols);
    const Shape shape{b.rows, b.cols};
    Node p1 = g.parameter("p1", shape);
    Node p2 = g.parameter("p2", shape);
    Node x = g.input("x", shape);
    Node c = g.constant(b.random(b.rows, b.cols));
    b.pool = {p1, p2, x, c};
    const int steps = 3 + static_cast<int>(rng() % 12);
    for (int i = 0; i < steps; ++i) {
      b.pool.push_back(b.step());
      if (rng() % 4 == 0) b.pool.push_back(tanh(b.pool[b.pool.size() - 2]));  // a repeat, often
      if (rng() % 4 == 0) b.pool.push_back(b.pool.back().op() ? tanh(b.pool[b.pool.size() - 2]) : b.pool.back());
    }
    std::vector<Node> terms{sum(mul(add_n({p1, p2, x}), c))};
    for (int k = 0; k < 3; ++k) terms.push_back(sum(b.pick()));
    Node loss = add_n(terms);
    std::vector<Node> fetches = gradients(loss, {p1, p2, x});
    fetches.push_back(loss);
    fetches.push_back(b.pick());

    const std::vector<std::pair<Node, Matrix<double>>> params{{p1, b.random(b.rows, b.cols)},
                                                              {p2, b.random(b.rows, b.cols)}};
    const Matrix<double> X = b.random(b.rows, b.cols);
    const std::vector<Node> others{loss, b.pick()};
    Executor<double> plain(g, {.threads = 1, .plan_memory = false, .optimize = false, .fuse = false});
    for (const auto& [p, v] : params) plain.set(p, v);
    const std::vector<Matrix<double>> want_others = plain.run({{x, X}}, others);
    const std::vector<Matrix<double>> want = plain.run({{x, X}}, fetches);
    for (const int threads : {1, 2, 8}) {
      Executor<double> ex(g, {.threads = threads});
      for (const auto& [p, v] : params) ex.set(p, v);
      CHECK(ex.run({{x, X}}, others) == want_others);
      const std::vector<Matrix<double>> got = ex.run({{x, X}}, fetches);
      REQUIRE(got.size() == want.size());
      for (std::size_t k = 0; k < got.size(); ++k) CHECK(got[k] == want[k]);
      for (NodeId id = 0; id < g.size(); ++id) {
        const Node n = g.node(id);
        if (!plain.has_value(n)) continue;
        CHECK(ex.has_value(n));
        if (ex.value_reused(n)) continue;
        CHECK(ex.value(n) == plain.value(n));
      }
      if (threads == 1) {
        std::size_t ran = 0;
        for (const PlacedValue& v : ex.memory_plan().values) {
          in_place += v.over.valid();
          fused += v.fused_into.valid();
          ++ran;
        }
        std::size_t ops = 0;
        for (NodeId id = 0; id < g.size(); ++id) ops += g.info(id).kind == NodeKind::op && plain.has_value(g.node(id));
        // Each op computed by the plain run was run, merged or folded.
        merged += ops - ran;
      }
    }
    // Ops of the constant alone are folded: computed once, not by a run.
    for (NodeId id = 0; id < g.size(); ++id) {
      const NodeInfo& info = g.info(id);
      bool constant_inputs = info.kind == NodeKind::op && !info.inputs.empty();
      for (NodeId in : info.inputs) constant_inputs = constant_inputs && in == c.id();
      folded += constant_inputs && plain.has_value(g.node(id));
    }
  }
  // The passes were exercised, not only skipped.
  CHECK(merged > 100);
  CHECK(folded > 50);
  CHECK(in_place > 500);
  CHECK(fused > 500);
  CHECK(large == 100);
}
