#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "thrown.hpp"

using namespace dagrad;

// Lets arenas of 4 and 8 threads really get that many on a 2-core machine,
// so interleavings at those counts are exercised.
static tbb::global_control allow_threads(tbb::global_control::max_allowed_parallelism, 8);

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Test ops: one that throws, and one that records when it ran.
class Fail final : public OpBase<Fail> {
 public:
  std::string_view key() const override { return "fail"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }
  template <class T>
  void kernel(Inputs<T>, View<T>) const {
    throw std::runtime_error("deliberate failure");
  }
  std::vector<Node> backward(const GradContext& ctx) const override { no_gradient(ctx, 0); }
};

// Each run stamps its output with a global sequence number and counts its
// runs; it checks that every input was stamped earlier.
struct Log {
  std::atomic<long> clock{0};
  std::vector<std::atomic<int>> runs;
  std::atomic<int> order_violations{0};
  explicit Log(std::size_t n) : runs(n) {}
};

class Record final : public OpBase<Record> {
 public:
  Record(Log* log, std::size_t slot) : log_(log), slot_(slot) {}
  std::string_view key() const override { return "record"; }
  Shape infer(std::span<const Shape>) const override { return {1, 1}; }
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    T latest = 0;
    for (const ConstView<T>* a : in) {
      if ((*a)(0, 0) <= T(0)) log_->order_violations++;
      latest = std::max(latest, (*a)(0, 0));
    }
    const long now = ++log_->clock;
    if (T(now) <= latest) log_->order_violations++;
    out(0, 0) = T(now);
    log_->runs[slot_]++;
  }
  std::vector<Node> backward(const GradContext& ctx) const override { no_gradient(ctx, 0); }

 private:
  Log* log_;
  std::size_t slot_;
};

Node record(Log& log, std::size_t slot, Graph& g, const std::vector<Node>& inputs) {
  return g.apply(std::make_shared<Record>(&log, slot), inputs);
}

// Passes its input on after sleeping a set time: a node of known cost.
class Sleep final : public OpBase<Sleep> {
 public:
  explicit Sleep(std::chrono::milliseconds d) : d_(d) {}
  std::string_view key() const override { return "sleep"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    std::this_thread::sleep_for(d_);
    out = *in[0];
  }
  std::vector<Node> backward(const GradContext& ctx) const override { no_gradient(ctx, 0); }

 private:
  std::chrono::milliseconds d_;
};

}  // namespace

TEST_CASE("the issue's example computes sigmoid(x w + b), its mean and gradients") {
  Graph g;
  Node x = g.input("x", {4, 3});
  Node w = g.parameter("w", {3, 2});
  Node b = g.parameter("b", {1, 2});
  Node y = sigmoid(add(matmul(x, w), b));
  Node loss = mean(y);
  std::vector<Node> grads = gradients(loss, {w, b});

  Matrix<double> X(4, 3), W(3, 2), B(1, 2);
  X << 1, 2, 3, 4, 5, 6, -1, 0, 1, 0.5, -0.5, 2;
  W << 0.1, -0.2, 0.3, 0.4, -0.5, 0.6;
  B << 0.01, -0.02;
  Executor<double> ex(g, {.threads = 2});
  ex.set(w, W);
  ex.set(b, B);
  std::vector<Matrix<double>> out = ex.run({{x, X}}, {loss, grads[0], grads[1]});

  Matrix<double> z = (X * W).rowwise() + B.row(0);
  Matrix<double> s = (1.0 + (-z.array()).exp()).inverse().matrix();
  CHECK(out[0](0, 0) == doctest::Approx(s.mean()).epsilon(1e-12));
  Matrix<double> dz = (s.array() * (1 - s.array()) / 8.0).matrix();
  Matrix<double> dw = X.transpose() * dz;
  Matrix<double> db = dz.colwise().sum();
  CHECK((out[1] - dw).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((out[2] - db).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("a feed reads a named matrix or its row block in place, and keeps temporaries and expressions") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = scale(x, 2.0);
  Matrix<double> X(4, 3);
  X << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12;
  Eigen::MatrixXd column_major = X;  // another layout: copied into the feed

  // Built from temporaries and expressions that are gone when the feeds are
  // used: each feed holds its own value, and so do its copies.
  // A temporary matrix of another Eigen type (a row block's eval(), a fixed
  // number of rows) is held too, not read in place.
  using Rows4 = Eigen::Matrix<double, 4, Eigen::Dynamic, Eigen::RowMajor>;
  std::vector<Feed<double>> feeds = {{x, Matrix<double>(X)}, {x, X.array() + 1.0}, {x, column_major},
                                     {x, X.cast<float>().cast<double>()}, {x, Rows4(X)}};
  std::vector<Feed<double>> copies = feeds;
  feeds.clear();
  std::vector<Matrix<double>> churn(64, Matrix<double>::Constant(4, 3, -7.0));  // reuse freed memory
  Executor<double> ex(g, {.threads = 1});
  for (const Feed<double>& f : copies) {
    CHECK(f.owned != nullptr);
    CHECK(f.value.data() == f.owned->data());
  }
  CHECK(ex.run({copies[0]}, {y})[0] == Matrix<double>(2.0 * X));
  CHECK(ex.run({copies[1]}, {y})[0] == Matrix<double>(2.0 * (X.array() + 1.0).matrix()));
  CHECK(ex.run({copies[2]}, {y})[0] == Matrix<double>(2.0 * X));
  CHECK(ex.run({copies[3]}, {y})[0] == Matrix<double>(2.0 * X));
  CHECK(ex.run({copies[4]}, {y})[0] == Matrix<double>(2.0 * X));

  // A named matrix, a block of its rows and a Ref are read where they are.
  const Feed<double> whole(x, X), rows(x, X.middleRows(1, 2)), ref(x, Eigen::Ref<const Matrix<double>>(X));
  CHECK(whole.owned == nullptr);
  CHECK(whole.value.data() == X.data());
  CHECK(rows.owned == nullptr);
  CHECK(rows.value.data() == X.data() + 3);
  CHECK(ref.value.data() == X.data());
  CHECK(ex.run({rows}, {y})[0] == Matrix<double>(2.0 * X.middleRows(1, 2)));
  // Some columns are still rows in memory, a stride apart: read in place. A
  // single column is not (its values are a row apart): copied.
  const Feed<double> right(x, X.rightCols(2)), column(x, X.col(1));
  CHECK(right.owned == nullptr);
  CHECK(right.value.data() == X.data() + 1);
  CHECK(right.value.outerStride() == 3);
  CHECK(column.owned != nullptr);
  CHECK(*column.owned == Matrix<double>(X.col(1)));
  X(0, 0) = 100;  // the in-place feeds see the change; the copies do not
  CHECK(ex.run({whole}, {y})[0](0, 0) == 200);
  CHECK(ex.run({copies[0]}, {y})[0](0, 0) == 2);
}

TEST_CASE("one graph with an open batch dimension serves batches of any size") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node w = g.parameter("w", {3, 2});
  Node y = matmul(x, w);
  Executor<float> ex(g, {.threads = 2});
  Matrix<float> W = Matrix<float>::Ones(3, 2);
  ex.set(w, W);
  for (int rows : {200, 10000, 1, 7}) {
    Matrix<float> X = Matrix<float>::Constant(rows, 3, 1.0f);
    auto out = ex.run({{x, X}}, {y});
    CHECK(out[0].rows() == rows);
    CHECK(out[0].cols() == 2);
    CHECK(out[0](rows - 1, 1) == 3.0f);
  }
}

TEST_CASE("feeds are checked and errors name the node and shapes") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node w = g.parameter("w", {3, 2});
  Node y = matmul(x, w);
  Executor<double> ex(g, {.threads = 1});
  Matrix<double> X = Matrix<double>::Ones(2, 3);

  SUBCASE("an unset parameter") {
    const std::string what = thrown<FeedError>([&] { ex.run({{x, X}}, {y}); });
    CHECK(contains(what, "'w'"));
    CHECK(contains(what, "no value"));
  }
  ex.set(w, Matrix<double>::Ones(3, 2));
  SUBCASE("a missing feed") {
    const std::string what = thrown<FeedError>([&] { ex.run({}, {y}); });
    CHECK(contains(what, "'x'"));
    CHECK(contains(what, "not fed"));
  }
  SUBCASE("a feed of the wrong shape") {
    Matrix<double> bad = Matrix<double>::Ones(2, 4);
    const std::string what = thrown<FeedError>([&] { ex.run({{x, bad}}, {y}); });
    CHECK(contains(what, "'x'"));
    CHECK(contains(what, "?x3"));
    CHECK(contains(what, "2x4"));
  }
  SUBCASE("a feed for a node that is not an input") {
    Matrix<double> W = Matrix<double>::Ones(3, 2);
    const std::string what = thrown<FeedError>([&] { ex.run({{x, X}, {w, W}}, {y}); });
    CHECK(contains(what, "'w'"));
    CHECK(contains(what, "parameter"));
  }
  SUBCASE("a parameter value of the wrong shape") {
    const std::string what = thrown<FeedError>([&] { ex.set(w, Matrix<double>::Ones(2, 3)); });
    CHECK(contains(what, "'w'"));
    CHECK(contains(what, "3x2"));
    CHECK(contains(what, "2x3"));
  }
  SUBCASE("set on an input") { CHECK_THROWS_AS(ex.set(x, X), FeedError); }
}

TEST_CASE("an input filled in place serves one run, is checked like a feed, and yields to a feed") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node w = g.parameter("w", {3, 2});
  Node y = matmul(x, w);
  Executor<double> ex(g, {.threads = 2});
  ex.set(w, Matrix<double>{{1, 2}, {3, 4}, {5, 6}});

  ex.input(x) = Matrix<double>{{1, 0, 0}, {0, 0, 1}};
  ex.compute({}, {y});
  CHECK(ex.value(y) == Matrix<double>{{1, 2}, {5, 6}});
  // The storage is the executor's own: what was written is what was read.
  CHECK(&ex.input(x) == &ex.value(x));

  // Staging lasts one run: the next run without it is missing its input.
  ex.compute({}, {y});  // staged again by the call just above
  std::string what = thrown<FeedError>([&] { ex.compute({}, {y}); });
  CHECK(what == "run: input 'x' is needed by the fetched nodes but was not fed");

  // A feed in the same run takes precedence over the staged value.
  ex.input(x) = Matrix<double>::Zero(1, 3);
  const Matrix<double> fed{{0, 1, 0}};
  ex.compute({{x, fed}}, {y});
  CHECK(ex.value(y) == Matrix<double>{{3, 4}});

  ex.input(x) = Matrix<double>::Ones(2, 4);
  what = thrown<FeedError>([&] { ex.compute({}, {y}); });
  CHECK(what == "run: input 'x' expects shape ?x3 but was filled in place with 2x4");
  what = thrown<FeedError>([&] { ex.input(w); });
  CHECK(what == "input: 'w' is not an input (it is a parameter node)");
}

TEST_CASE("shapes left open are checked at run time, naming the node") {
  Graph g;
  Node a = g.input("a", {batch, 3});
  Node b = g.input("b", {batch, 3});
  Node s = add(a, b);
  Executor<double> ex(g, {.threads = 1});
  Matrix<double> A = Matrix<double>::Ones(2, 3), B = Matrix<double>::Ones(5, 3);
  const std::string what = thrown<ShapeError>([&] { ex.run({{a, A}, {b, B}}, {s}); });
  CHECK(contains(what, s.name()));
  CHECK(contains(what, "2x3"));
  CHECK(contains(what, "5x3"));
  Matrix<double> B2 = Matrix<double>::Ones(2, 3);
  CHECK(ex.run({{a, A}, {b, B2}}, {s})[0](1, 2) == 2.0);
}

TEST_CASE("a kernel's exception reaches the caller with the node's name and stops its successors") {
  Graph g;
  Log log(3);
  Node x = g.input("x", {1, 1});
  Node before = record(log, 0, g, {x});
  Node bad = g.apply(std::make_shared<Fail>(), {before}, "bad");
  Node after = record(log, 1, g, {bad});
  Node other = record(log, 2, g, {x});
  Executor<double> ex(g, {.threads = 4});
  Matrix<double> X = Matrix<double>::Ones(1, 1);
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::string what = thrown<ExecutionError>([&] { ex.run({{x, X}}, {after, other}); });
    CHECK(contains(what, "'bad'"));
    CHECK(contains(what, "deliberate failure"));
  }
  CHECK(log.runs[1] == 0);
  // The executor stays usable after a failure.
  auto out = ex.run({{x, X}}, {other});
  CHECK(out[0](0, 0) > 0);
  // compute with ready: the failed node and those after it are never
  // announced; a callback that throws fails the run, naming the fetch.
  std::vector<int> calls(3, 0);
  std::mutex m;
  thrown<ExecutionError>([&] {
    ex.compute({{x, X}}, {before, bad, after}, [&](std::size_t i, const ConstView<double>&) {
      std::lock_guard lock(m);
      ++calls[i];
    });
  });
  CHECK(calls == std::vector<int>{1, 0, 0});
  const std::string threw = thrown<ExecutionError>([&] {
    ex.compute({{x, X}}, {other}, [](std::size_t, const ConstView<double>&) { throw std::runtime_error("full"); });
  });
  CHECK(contains(threw, "ready callback for fetch 0"));
  CHECK(contains(threw, "full"));
  // The same for a fetch no task computes, announced before the run.
  const std::string input_threw = thrown<ExecutionError>([&] {
    ex.compute({{x, X}}, {other, x}, [](std::size_t i, const ConstView<double>&) {
      if (i == 1) throw std::runtime_error("full");
    });
  });
  CHECK(contains(input_threw, "ready callback for fetch 1 ('x') threw: full"));
  CHECK(thrown<Error>([&] { ex.compute({{x, X}}, {other}, Executor<double>::Ready{}); }) ==
        "compute: the ready callback is empty");
}

TEST_CASE("only the nodes the fetches need are run") {
  Graph g;
  Log log(2);
  Node x = g.input("x", {1, 1});
  Node wanted = record(log, 0, g, {x});
  Node unwanted = record(log, 1, g, {x});
  (void)unwanted;
  Executor<double> ex(g, {.threads = 2});
  Matrix<double> X = Matrix<double>::Ones(1, 1);
  ex.run({{x, X}}, {wanted});
  ex.run({{x, X}}, {wanted});
  CHECK(log.runs[0] == 2);
  CHECK(log.runs[1] == 0);
}

TEST_CASE("the numeric check names the node that first produced a NaN, its op and inputs") {
  Graph g;
  Node x = g.input("x", {1, 2});
  Node l = log(x);
  l.graph().rename(l, "the_log");
  Node y = exp(l);
  Matrix<double> X(1, 2);
  X << -1.0, 2.0;
  Executor<double> quiet(g, {.threads = 1});
  CHECK(std::isnan(quiet.run({{x, X}}, {y})[0](0, 0)));
  Executor<double> ex(g, {.threads = 1, .check_numerics = true});
  const std::string what = thrown<ExecutionError>([&] { ex.run({{x, X}}, {y}); });
  CHECK(contains(what, "'the_log'"));
  CHECK(contains(what, "log"));
  CHECK(contains(what, "'x'"));
  CHECK(contains(what, "not finite"));
}

TEST_CASE("when two independent nodes fail, the one created first is reported, at any thread count") {
  // "slow" is created first and takes long (a 400x400 product with a NaN);
  // "fast" fails at once. Whichever finishes first, the report names slow.
  Graph g;
  Node a = g.input("a", {400, 400});
  Node slow = matmul(a, a);
  g.rename(slow, "slow");
  Node b = g.input("b", {1, 1});
  Node fast = log(b);
  g.rename(fast, "fast");
  Node after_slow = exp(slow), after_fast = exp(fast);  // skipped: their inputs failed
  Matrix<double> A = Matrix<double>::Ones(400, 400);
  A(0, 0) = std::nan("");
  const Matrix<double> B = Matrix<double>::Constant(1, 1, -1.0);
  for (const int threads : {1, 2, 4}) {
    CAPTURE(threads);
    Executor<double> ex(g, {.threads = threads, .check_numerics = true});
    for (int run = 0; run < 10; ++run) {
      const std::string what = thrown<ExecutionError>([&] { ex.run({{a, A}, {b, B}}, {after_slow, after_fast}); });
      REQUIRE(contains(what, "node 'slow'"));
    }
    // A good run afterwards computes everything again.
    Matrix<double> ok = A;
    ok(0, 0) = 1;
    const auto out = ex.run({{a, ok}, {b, Matrix<double>::Constant(1, 1, 1.0)}}, {after_slow, after_fast});
    CHECK(out[1](0, 0) == 1.0);
  }
}

TEST_CASE("random DAGs run every node exactly once and after its inputs at 1, 2, 4 and 8 threads") {
  std::mt19937 rng(12345);
  int graphs = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 1000);
    Graph g;
    Log log(static_cast<std::size_t>(n));
    Node x = g.input("x", {1, 1});
    std::vector<Node> nodes;
    for (int i = 0; i < n; ++i) {
      std::vector<Node> inputs;
      const int fan_in = nodes.empty() ? 0 : static_cast<int>(rng() % 4);
      for (int k = 0; k < fan_in; ++k) {
        // Mostly recent nodes, so graphs have both depth and width.
        const int span = std::min<int>(static_cast<int>(nodes.size()), 1 + static_cast<int>(rng() % 64));
        inputs.push_back(nodes[nodes.size() - 1 - rng() % span]);
      }
      if (inputs.empty()) inputs.push_back(x);
      nodes.push_back(record(log, static_cast<std::size_t>(i), g, inputs));
    }
    for (int threads : {1, 2, 4, 8}) {
      log.clock = 0;
      for (auto& r : log.runs) r = 0;
      Executor<double> ex(g, {.threads = threads});
      Matrix<double> X = Matrix<double>::Constant(1, 1, 0.5);  // below every stamp
      ex.compute({{x, X}}, nodes);
      int wrong_count = 0;
      for (auto& r : log.runs) wrong_count += (r.load() != 1);
      CHECK(wrong_count == 0);
      CHECK(log.order_violations == 0);
      CHECK(log.clock == n);
    }
    ++graphs;
  }
  CHECK(graphs == 1000);
}

TEST_CASE("two fetch sets sharing nodes each see their own batch size") {
  Graph g;
  Node x = g.input("x", {batch, 2});
  Node h = scale(x, 2.0);
  Node a = sum_cols(h);
  Node b = sum(h);
  Executor<double> ex(g, {.threads = 2});
  Matrix<double> small = Matrix<double>::Ones(3, 2), large = Matrix<double>::Ones(50, 2);
  for (int round = 0; round < 3; ++round) {
    CHECK(ex.run({{x, small}}, {a})[0].rows() == 3);
    CHECK(ex.run({{x, large}}, {b})[0](0, 0) == 200.0);
    CHECK(ex.run({{x, small}}, {a})[0](2, 0) == 4.0);
    CHECK(ex.value(h).rows() == 3);
  }
}

TEST_CASE("an absurd thread count is refused") {
  Graph g;
  g.input("x", {1, 1});
  CHECK_THROWS_WITH_AS(Executor<double>(g, {.threads = 1 << 30}), doctest::Contains("1 to 1024"), Error);
  CHECK_THROWS_AS(Executor<double>(g, {.threads = -1}), Error);
}

TEST_CASE("within() runs its function in the executor's arena, bounded by its threads") {
  Graph g;
  g.input("x", {1, 1});
  for (int threads : {1, 2, 3}) {
    Executor<float> ex(g, {.threads = threads});
    int seen = 0;
    ex.within([&] { seen = tbb::this_task_arena::max_concurrency(); });
    CHECK(seen == threads);
  }
}

TEST_CASE("profiling sums each op node's kernel time over runs, most first, and can be cleared") {
  Graph g;
  Node x = g.input("x", {1, 1});
  Node slow = g.apply(std::make_shared<Sleep>(std::chrono::milliseconds(20)), {x});
  g.rename(slow, "slow");
  Node quick = g.apply(std::make_shared<Sleep>(std::chrono::milliseconds(0)), {slow});
  g.rename(quick, "quick");
  const Matrix<double> X = Matrix<double>::Ones(1, 1);

  Executor<double> plain(g, {.threads = 2});
  plain.run({{x, X}}, {quick});
  CHECK(plain.profile().empty());

  Executor<double> ex(g, {.threads = 2, .profile = true});
  ex.run({{x, X}}, {quick});
  ex.run({{x, X}}, {quick});
  std::vector<NodeTime> p = ex.profile();
  REQUIRE(p.size() == 2);  // op nodes only: the input x is not timed
  CHECK(p[0].node == slow);
  CHECK(p[0].runs == 2);
  CHECK(p[0].seconds >= 0.040);
  CHECK(p[1].node == quick);
  CHECK(p[1].runs == 2);
  CHECK(p[1].seconds < p[0].seconds);

  ex.clear_profile();
  CHECK(ex.profile().empty());
  ex.set_profiling(false);
  ex.run({{x, X}}, {quick});
  CHECK(ex.profile().empty());
  ex.set_profiling(true);
  ex.run({{x, X}}, {slow});
  p = ex.profile();
  REQUIRE(p.size() == 1);
  CHECK(p[0].node == slow);
  CHECK(p[0].runs == 1);
}

namespace {

// y = x * factor, with the factor hidden from attributes(): an op of a
// program's own, never registered, so the executor cannot tell two apart.
struct HiddenScale {
  static constexpr std::string_view key = "hidden_scale";
  double factor;
  auto operator()(const auto& x) const { return x * static_cast<typename std::decay_t<decltype(x)>::Scalar>(factor); }
  Node grad(const GradContext& ctx) const { return scale(ctx.grad(), factor); }
};

}  // namespace

namespace {

// The values of `fetches` with every pass off, for comparing bits.
template <class T>
std::vector<Matrix<T>> as_built(Graph& g, const std::vector<Feed<T>>& feeds, const std::vector<Node>& fetches,
                                int threads = 1) {
  Executor<T> plain(g, {.threads = threads, .plan_memory = false, .optimize = false});
  return plain.run(feeds, fetches);
}

// The root each op value of the last run was fused into (invalid: none).
std::map<NodeId, Node> fused_roots(const MemoryReport& report) {
  std::map<NodeId, Node> out;
  for (const PlacedValue& v : report.values) out[v.node.id()] = v.fused_into;
  return out;
}

}  // namespace

TEST_CASE("optimize: a repeated node takes the first one's value and never runs") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node a = exp(x), b = exp(x);  // the same op on the same input
  Node s2 = scale(a, 2.0), s3 = scale(b, 3.0);  // other attributes: not repeats
  Node y = add(s2, s3);
  Node hidden2 = unary(x, HiddenScale{2.0}), hidden3 = unary(x, HiddenScale{3.0});
  Node z = add(hidden2, hidden3);
  const Matrix<double> X = Matrix<double>::Random(4, 3);
  Executor<double> plain(g, {.threads = 2, .plan_memory = false, .optimize = false});
  Executor<double> ex(g, {.threads = 2, .profile = true, .fuse = false});  // each op's own time
  CHECK(ex.options().optimize);
  const auto want = plain.run({{x, X}}, {y, z, b});
  CHECK(ex.run({{x, X}}, {y, z, b}) == want);
  CHECK(ex.run({{x, X}}, {y, z, b}) == want);
  bool ran_a = false;
  for (const NodeTime& t : ex.profile()) {
    CHECK(t.node != b);  // merged into a
    ran_a |= t.node == a;
    if (t.node == a) CHECK(t.runs == 2);
  }
  CHECK(ran_a);
  // The unregistered op's two nodes both ran: its factor is not an attribute.
  std::size_t hidden_runs = 0;
  for (const NodeTime& t : ex.profile()) hidden_runs += t.node == hidden2 || t.node == hidden3;
  CHECK(hidden_runs == 2);
  CHECK(z.shape() == Shape{batch, 3});
  CHECK(ex.value(z) == want[1]);
  CHECK(ex.value(b) == want[2]);  // fetched, read from a
  CHECK(ex.value(a) == want[2]);
}

TEST_CASE("optimize: an op of constants is computed once, kept through trim(), the bits of running it") {
  Graph g;
  Node x = g.input("x", {batch, 2});
  Node c = g.constant(Matrix<double>{{0.5, -1.0}});
  Node folded = exp(scale(c, 3.0));  // constants alone
  Node y = mul(x, folded);
  const Matrix<double> X{{1.0, 2.0}, {3.0, 4.0}};
  Executor<float> plain(g, {.threads = 1, .plan_memory = false, .optimize = false});
  Executor<float> ex(g, {.threads = 1, .profile = true});
  const Matrix<float> Xf = X.cast<float>();
  const auto want = plain.run({{x, Xf}}, {y, folded});
  CHECK(ex.run({{x, Xf}}, {y, folded}) == want);
  for (const NodeTime& t : ex.profile()) CHECK(t.node == y);  // only the op that reads x ran
  CHECK(ex.value(folded) == want[1]);
  ex.trim();
  CHECK(ex.has_value(folded));
  CHECK(ex.run({{x, Xf}}, {y}) == std::vector<Matrix<float>>{want[0]});
}

TEST_CASE("optimize: a node that repeats in one fetch set and is folded in another keeps its value in both") {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node c = g.constant(Matrix<double>{{0.25, -0.5, 1.0}});
  Node q = tanh(c), r = tanh(c);  // r repeats q where both are needed
  Node a = add(mul(x, q), r);
  Node b = mul(x, r);             // only r: folded on its own
  const Matrix<double> X = Matrix<double>::Random(4, 3);
  const auto want = as_built<double>(g, {{x, X}}, {a, b});
  Executor<double> ex(g, {.threads = 2});
  for (int round = 0; round < 2; ++round) {
    CHECK(ex.run({{x, X}}, {a})[0] == want[0]);
    CHECK(ex.run({{x, X}}, {b})[0] == want[1]);
  }
  CHECK(ex.value(r) == as_built<double>(g, {{x, X}}, {r})[0]);
}

TEST_CASE("optimize: zeros_like waits for its input's shape only, so it does not keep the input alive") {
  Graph g;
  Node x = g.input("x", {batch, 8});
  Node h = tanh(x);
  Node s = sigmoid(h);       // h's last reader of its values
  Node zero = zeros_like(h); // reads h's shape alone
  Node y = add(s, zero);
  Node total = sum(y);  // fetched instead of y, so that s is not computed into y's own buffer
  Executor<double> ex(g, {.threads = 2, .fuse = false});  // s alone, to be written over h
  const Matrix<double> X = Matrix<double>::Random(5, 8);
  const Matrix<double> out = ex.run({{x, X}}, {total})[0];
  Executor<double> plain(g, {.threads = 2, .plan_memory = false, .optimize = false});
  CHECK(out == plain.run({{x, X}}, {total})[0]);
  CHECK(std::abs(out(0, 0) - X.array().tanh().unaryExpr([](double v) { return 1 / (1 + std::exp(-v)); }).sum()) <
        1e-12);
  bool over_h = false;
  for (const PlacedValue& v : ex.memory_plan().values) over_h |= v.node == s && v.over == h;
  CHECK(over_h);  // zeros_like did not count as h's reader
}


TEST_CASE("fuse: a bias add and its relu run as one pass, the add never stored, the bits of running each") {
  Graph g;
  Node x = g.input("x", {batch, 5});
  Node w = g.parameter("w", {5, 7});
  Node b = g.parameter("b", {1, 7});
  Node z = add(matmul(x, w), b);
  Node y = relu(z);
  Node loss = mean(square(y));
  const std::vector<Node> grads = gradients(loss, {w, b});
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  auto random = [&](Eigen::Index r, Eigen::Index c) {
    Matrix<double> m(r, c);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
    return m;
  };
  const Matrix<double> W = random(5, 7), B = random(1, 7), X = random(9, 5);
  for (const int threads : {1, 2}) {
    Executor<double> plain(g, {.threads = threads, .plan_memory = false, .optimize = false});
    plain.set(w, W);
    plain.set(b, B);
    const auto want = plain.run({{x, X}}, {loss, grads[0], grads[1]});
    Executor<double> ex(g, {.threads = threads});
    CHECK(ex.options().fuse);
    ex.set(w, W);
    ex.set(b, B);
    CHECK(ex.run({{x, X}}, {loss, grads[0], grads[1]}) == want);
    const auto roots = fused_roots(ex.memory_plan());
    CHECK(roots.at(z.id()) == y);  // relu's gradient reads y, so z has one reader
    CHECK(ex.value_reused(z));
    const std::string what = thrown<FeedError>([&] { (void)ex.value(z); });
    CHECK(contains(what, std::string("'").append(z.name()).append("'")));  // not +: GCC 12's false overflow
    CHECK(contains(what, "fused group"));
    CHECK(contains(what, "ExecutorOptions::fuse"));
    CHECK(contains(plan_summary(ex.memory_plan()), " fused group"));
    // Fetched, z is stored and nothing fuses into relu.
    const auto with_z = ex.run({{x, X}}, {loss, z});
    CHECK(with_z[0] == want[0]);
    CHECK(!fused_roots(ex.memory_plan()).at(z.id()).valid());
    // Off, each op runs alone.
    Executor<double> unfused(g, {.threads = threads, .fuse = false});
    unfused.set(w, W);
    unfused.set(b, B);
    CHECK(unfused.run({{x, X}}, {loss, grads[0], grads[1]}) == want);
    for (const PlacedValue& v : unfused.memory_plan().values) CHECK(!v.fused_into.valid());
  }
}

TEST_CASE("fuse: long chains over many blocks and tiles give each op's bits, in float and double, at 1, 2 and 8 threads") {
  // 301 x 257 = 77,357 elements: several parallel blocks, tiles, and a
  // tail that is not a whole number of vector lanes. Broadcast sides by
  // row, by column and one number; more than 16 ops, so the chain splits.
  Graph g;
  Node x = g.input("x", {batch, 257});
  Node row = g.parameter("row", {1, 257});
  Node col = g.input("col", {batch, 1});
  Node one = g.parameter("one", {1, 1});
  Node h = x;
  for (int k = 0; k < 6; ++k) {
    h = tanh(add(h, row));
    h = sigmoid(mul(h, col));
    h = exp(scale(sub(h, one), 0.5));
    h = div(h, shift(square(h), 1.0));
  }
  Node y = gelu(h);
  const Matrix<double> X = Matrix<double>::Random(301, 257), R = Matrix<double>::Random(1, 257),
                       C = Matrix<double>::Random(301, 1), O = Matrix<double>::Constant(1, 1, 0.25);
  auto check = [&]<class T>(T) {
    const Matrix<T> Xt = X.cast<T>(), Rt = R.cast<T>(), Ct = C.cast<T>(), Ot = O.cast<T>();
    Executor<T> plain(g, {.threads = 1, .plan_memory = false, .optimize = false});
    plain.set(row, Rt);
    plain.set(one, Ot);
    const Matrix<T> want = plain.run({{x, Xt}, {col, Ct}}, {y})[0];
    for (const int threads : {1, 2, 8}) {
      CAPTURE(threads);
      Executor<T> ex(g, {.threads = threads});
      ex.set(row, Rt);
      ex.set(one, Ot);
      CHECK(ex.run({{x, Xt}, {col, Ct}}, {y})[0] == want);
      std::map<NodeId, int> members;
      std::size_t fused = 0;
      for (const PlacedValue& v : ex.memory_plan().values) {
        if (!v.fused_into.valid()) continue;
        ++fused;
        ++members[v.fused_into.id()];
      }
      CHECK(members.size() >= 4);  // 6 x 11 ops: no group holds more than 16
      for (const auto& [root, count] : members) CHECK(count + 1 <= 16);
      CHECK(fused + members.size() == ex.memory_plan().values.size());
      // A smaller batch after: 7 rows, one tile.
      CHECK(ex.run({{x, Matrix<T>(Xt.topRows(7))}, {col, Matrix<T>(Ct.topRows(7))}}, {y})[0] ==
            plain.run({{x, Matrix<T>(Xt.topRows(7))}, {col, Matrix<T>(Ct.topRows(7))}}, {y})[0]);
    }
  };
  check(float{});
  check(double{});
}

TEST_CASE("fuse: a group's root is written over an input that dies with it, never over one it broadcasts") {
  Graph g;
  Node x = g.input("x", {batch, 64});
  Node b = g.parameter("b", {1, 64});
  Node t = tanh(x);               // an op value: planned
  Node y = relu(add(t, b));       // add fuses into relu; t dies with the group
  Node s = sum_rows(t);           // 1x64, read at a broadcast side below
  Node z = relu(sub(tanh(y), s)); // s broadcasts: z is never written over it
  const Matrix<double> X = Matrix<double>::Random(50, 64), B = Matrix<double>::Random(1, 64);
  Executor<double> ex(g, {.threads = 2});
  ex.set(b, B);
  Executor<double> plain(g, {.threads = 2, .plan_memory = false, .optimize = false});
  plain.set(b, B);
  CHECK(ex.run({{x, X}}, {z}) == plain.run({{x, X}}, {z}));
  const MemoryReport report = ex.memory_plan();
  bool y_over_t = false;
  for (const PlacedValue& v : report.values) {
    if (v.node == y) y_over_t = v.over == t;
    if (v.node == z) CHECK(v.over != s);
  }
  // t is read by sum_rows too, which is not in the group: y may take t's
  // bytes only if sum_rows has finished, and the plan's checker agrees.
  CHECK(y_over_t == false);
  Graph g2;
  Node x2 = g2.input("x", {batch, 64});
  Node b2 = g2.parameter("b", {1, 64});
  Node t2 = softmax(x2);  // not elementwise: stored, and dies with the group
  Node y2 = relu(add(t2, b2));
  Executor<double> ex2(g2, {.threads = 2});
  ex2.set(b2, B);
  Executor<double> plain2(g2, {.threads = 2, .plan_memory = false, .optimize = false});
  plain2.set(b2, B);
  CHECK(ex2.run({{x2, X}}, {y2}) == plain2.run({{x2, X}}, {y2}));
  // Fetched, y2 keeps its own buffer: softmax is computed into it, and the
  // group is written over that.
  bool over = false, into = false;
  for (const PlacedValue& v : ex2.memory_plan().values) {
    over |= v.node == y2 && v.over == t2;
    into |= v.node == t2 && v.into == y2;
  }
  CHECK(over);
  CHECK(into);
  // Fetch something after it instead: softmax's value then lies in the
  // arena, and the group is written over it there.
  over = false;
  Node scaled = scale(y2, 2.0);
  Node after = sum(scaled);
  CHECK(ex2.run({{x2, X}}, {after}) == plain2.run({{x2, X}}, {after}));
  for (const PlacedValue& v : ex2.memory_plan().values) {
    over |= v.node == scaled && v.over == t2;
    if (v.node == y2) CHECK(v.fused_into == scaled);
  }
  CHECK(over);  // the group {add, relu, scale} is written over softmax's value
}

namespace {

// conv, bias, relu, 2x2 max pool and a loss, with the gradients of the
// filter and the bias: each convolution's bias add and relu are its
// epilogue, and each pool's gradient takes its relu's gradient.
struct ConvNet {
  Graph g;
  Node x, w, b, conv, z, y, pooled, loss;
  std::vector<Node> grads;
  ConvNet(Conv2dOptions o, Pool2dOptions p, bool with_bias = true) {
    x = g.input("x", {batch, o.in.channels * o.in.height * o.in.width});
    w = g.parameter("w", {o.out_channels, o.in.channels * o.kernel * o.kernel});
    b = g.parameter("b", {1, o.out_channels});
    conv = conv2d(x, w, o);
    z = with_bias ? add_channel_bias(conv, b) : conv;
    y = relu(z);
    pooled = max_pool2d(y, p);
    loss = mean(square(shift(pooled, -0.25)));
    grads = gradients(loss, with_bias ? std::vector<Node>{w, b} : std::vector<Node>{w});
  }
};

}  // namespace

TEST_CASE("fuse: a convolution applies its bias add and relu, a max pool's gradient its relu's, with the bits of each op") {
  const Conv2dOptions lanes_shape{.in = {2, 12, 12}, .out_channels = 3, .kernel = 3, .padding = 1};
  const Conv2dOptions strided{.in = {2, 12, 12}, .out_channels = 3, .kernel = 3, .stride = 2, .padding = 1};
  const Pool2dOptions pool_2x2{.in = {3, 12, 12}, .size = 2};
  const Pool2dOptions pool_3x3{.in = {3, 12, 12}, .size = 3};  // the general route
  const Pool2dOptions pool_strided{.in = {3, 6, 6}, .size = 2};
  struct Case {
    Conv2dOptions conv;
    Pool2dOptions pool;
    bool bias;
  };
  // Lanes (batches of 16 or more, a short last group at 21), the wide grid
  // (3), im2col (stride 2); the 2x2 route and the general one; relu alone.
  for (const Case& c : {Case{lanes_shape, pool_2x2, true}, Case{lanes_shape, pool_3x3, true},
                        Case{strided, pool_strided, true}, Case{lanes_shape, pool_2x2, false}}) {
    ConvNet n(c.conv, c.pool, c.bias);
    std::vector<Node> fetches = n.grads;
    fetches.push_back(n.loss);
    auto check = [&]<class T>(T, Eigen::Index rows) {
      CAPTURE(rows);
      std::mt19937 rng(7);
      std::normal_distribution<double> normal;
      auto random = [&](Eigen::Index r, Eigen::Index cols) {
        Matrix<T> m(r, cols);
        for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(normal(rng));
        return m;
      };
      Matrix<T> X = random(rows, n.x.shape().cols);
      for (Eigen::Index i = 0; i < X.size(); i += 7) X.data()[i] = X.data()[i + 1 < X.size() ? i + 1 : i];  // ties
      const Matrix<T> W = random(n.w.shape().rows, n.w.shape().cols), B = random(1, n.b.shape().cols);
      Executor<T> plain(n.g, {.threads = 1, .plan_memory = false, .optimize = false});
      plain.set(n.w, W);
      plain.set(n.b, B);
      const auto want = plain.run({{n.x, X}}, fetches);
      for (const int threads : {1, 2, 8}) {
        CAPTURE(threads);
        Executor<T> ex(n.g, {.threads = threads});
        ex.set(n.w, W);
        ex.set(n.b, B);
        CHECK(ex.run({{n.x, X}}, fetches) == want);
        const auto roots = fused_roots(ex.memory_plan());
        CHECK(roots.at(n.conv.id()) == n.y);  // the convolution computes relu's value
        if (c.bias) CHECK(roots.at(n.z.id()) == n.y);
        std::size_t pool_grads = 0;
        for (const PlacedValue& v : ex.memory_plan().values) {
          if (n.g.info(v.node.id()).op->key() != "max_pool2d_grad") continue;
          ++pool_grads;
          REQUIRE(v.fused_into.valid());
          CHECK(n.g.info(v.fused_into.id()).op->key() == "relu_grad");
        }
        CHECK(pool_grads == 1);
        Executor<T> unfused(n.g, {.threads = threads, .fuse = false});
        unfused.set(n.w, W);
        unfused.set(n.b, B);
        CHECK(unfused.run({{n.x, X}}, fetches) == want);
      }
    };
    for (const Eigen::Index rows : {3, 16, 21}) {
      check(float{}, rows);
      check(double{}, rows);
    }
  }
}

TEST_CASE("fuse: an epilogue takes only a chain no one else reads, and a relu gradient of the pool's own input") {
  ConvNet n({.in = {1, 8, 8}, .out_channels = 2, .kernel = 3, .padding = 1}, {.in = {2, 8, 8}, .size = 2});
  const Matrix<double> X = Matrix<double>::Random(16, 64), W = Matrix<double>::Random(2, 9),
                       B = Matrix<double>::Random(1, 2);
  Executor<double> ex(n.g, {.threads = 2});
  ex.set(n.w, W);
  ex.set(n.b, B);
  Executor<double> plain(n.g, {.threads = 2, .plan_memory = false, .optimize = false});
  plain.set(n.w, W);
  plain.set(n.b, B);
  // Fetched, the convolution's output is stored; the bias add and relu
  // are then the convolution-free group of their own.
  CHECK(ex.run({{n.x, X}}, {n.loss, n.conv}) == plain.run({{n.x, X}}, {n.loss, n.conv}));
  CHECK(!fused_roots(ex.memory_plan()).at(n.conv.id()).valid());
  // z fetched: the convolution applies the bias add alone, relu runs after.
  CHECK(ex.run({{n.x, X}}, {n.loss, n.z}) == plain.run({{n.x, X}}, {n.loss, n.z}));
  auto roots = fused_roots(ex.memory_plan());
  CHECK(roots.at(n.conv.id()) == n.z);
  CHECK(!roots.at(n.z.id()).valid());
}

TEST_CASE("fuse: a pool gradient's relu epilogue keeps every bit: ties, NaN, zero and negative maxima, signed zeros") {
  Graph g;
  Node a = g.input("a", {batch, 32}), other = g.input("other", {batch, 32}), d = g.input("d", {batch, 8});
  const Pool2dOptions p{.in = {2, 4, 4}, .size = 2};
  Node routed = max_pool2d_grad(a, d, p);
  Node masked = relu_grad(other, routed);  // another value's mask: no epilogue
  Node same = relu_grad(a, max_pool2d_grad(a, scale(d, 2.0), p));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Matrix<double> A = Matrix<double>::Random(19, 32), O = Matrix<double>::Random(19, 32),
                 D = Matrix<double>::Random(19, 8);
  for (Eigen::Index r = 0; r < A.rows(); ++r) {
    A(r, 0) = A(r, 1) = 0.5;                               // a tie
    A(r, 2) = A(r, 3) = A(r, 6) = A(r, 7) = -1.0 - r;      // a negative maximum
    A(r, 8) = A(r, 9) = A(r, 12) = A(r, 13) = 0.0;         // a zero maximum
    A(r, 10) = nan;                                        // a NaN
    A(r, 16 + r % 16) = -0.0;
    D(r, r % 8) = -0.0;                                    // a signed zero routed
  }
  auto bits_equal = [](const std::vector<Matrix<double>>& u, const std::vector<Matrix<double>>& v) {
    if (u.size() != v.size()) return false;
    for (std::size_t i = 0; i < u.size(); ++i) {
      if (u[i].size() != v[i].size() ||
          std::memcmp(u[i].data(), v[i].data(), sizeof(double) * std::size_t(u[i].size())) != 0) {
        return false;
      }
    }
    return true;
  };
  const std::vector<Feed<double>> feeds = {{a, A}, {other, O}, {d, D}};
  for (const int threads : {1, 2}) {
    Executor<double> ex(g, {.threads = threads});
    const auto got = ex.run(feeds, {masked, same});
    CHECK(bits_equal(got, as_built<double>(g, feeds, {masked, same})));
    const auto roots = fused_roots(ex.memory_plan());
    CHECK(!roots.at(routed.id()).valid());
    CHECK(roots.at(same.input(1).id()) == same);
  }
}

TEST_CASE("fuse: a value with two readers, a fetched one, and check_numerics all keep their ops apart") {
  Graph g;
  Node x = g.input("x", {batch, 4});
  Node a = exp(x);
  Node y = add(sigmoid(a), tanh(a));  // a has two readers
  const Matrix<double> X = Matrix<double>::Random(3, 4);
  Executor<double> ex(g, {.threads = 1});
  CHECK(ex.run({{x, X}}, {y}) == as_built<double>(g, {{x, X}}, {y}));
  auto roots = fused_roots(ex.memory_plan());
  CHECK(!roots.at(a.id()).valid());
  CHECK(roots.at(y.input(0).id()) == y);
  CHECK(roots.at(y.input(1).id()) == y);
  Executor<double> checked(g, {.threads = 1, .check_numerics = true});
  CHECK(checked.run({{x, X}}, {y}) == as_built<double>(g, {{x, X}}, {y}));
  for (const PlacedValue& v : checked.memory_plan().values) CHECK(!v.fused_into.valid());
  Executor<double> unplanned(g, {.threads = 1, .plan_memory = false});
  CHECK(unplanned.run({{x, X}}, {y}) == as_built<double>(g, {{x, X}}, {y}));
  CHECK(unplanned.value(y.input(0)) == as_built<double>(g, {{x, X}}, {y.input(0)})[0]);  // every value kept
}

TEST_CASE("compute with ready announces each fetch once, as soon as it is final, with the value the run leaves") {
  Graph g;
  Log log(2);
  Node x = g.input("x", {batch, 5});
  Node w = g.parameter("w", {5, 7});
  Node b = g.parameter("b", {1, 7});
  Node y = relu(add(matmul(x, w), b));  // a fused group's root, with passes on
  Node e1 = exp(y), e2 = exp(y);        // a repeat, with passes on
  Node first = record(log, 0, g, {x});  // early, then a slow tail
  Node last = record(log, 1, g, {g.apply(std::make_shared<Sleep>(std::chrono::milliseconds(20)), {first})});
  const std::vector<Node> fetches{y, e2, w, first, last, e1};
  const Matrix<double> W = Matrix<double>::Random(5, 7), B = Matrix<double>::Random(1, 7),
                       X = Matrix<double>::Random(9, 5);
  for (const bool passes : {true, false}) {
    for (const int threads : {1, 2, 8}) {
      CAPTURE(passes);
      CAPTURE(threads);
      Executor<double> ex(g, {.threads = threads, .plan_memory = passes, .optimize = passes, .fuse = passes});
      ex.set(w, W);
      ex.set(b, B);
      std::vector<std::atomic<int>> calls(fetches.size());
      std::vector<Matrix<double>> seen(fetches.size());
      std::atomic<int> last_runs_at_first{-1};
      for (auto& r : log.runs) r = 0;
      ex.compute({{x, X}}, fetches, [&](std::size_t i, const ConstView<double>& value) {
        calls[i]++;
        seen[i] = value;  // each i from one task only
        if (i == 3) last_runs_at_first = log.runs[1].load();
      });
      for (std::size_t i = 0; i < fetches.size(); ++i) {
        CAPTURE(i);
        CHECK(calls[i] == 1);
        CHECK(seen[i] == ex.value(fetches[i]));  // final when announced
      }
      CHECK(last_runs_at_first == 0);  // announced while the slow tail had yet to run
      CHECK(log.runs[1] == 1);
      // The values of a plain compute (the stamps excepted: each run takes
      // new ones), and a second run announces again.
      const auto want = ex.run({{x, X}}, fetches);
      std::atomic<int> again{0};  // tasks announce at once
      ex.compute({{x, X}}, fetches, [&](std::size_t, const ConstView<double>&) { ++again; });
      CHECK(again == int(fetches.size()));
      for (std::size_t i : {0, 1, 2, 5}) CHECK(ex.value(fetches[i]) == want[i]);
    }
  }
}
