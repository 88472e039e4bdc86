// The memory planner shares bytes only between values the graph's edges
// order, and the executor's results do not depend on it.
#include <doctest/doctest.h>

#include <dagrad/core/detail/memory_plan.hpp>
#include <dagrad/dagrad.hpp>

#include <random>
#include <string>
#include <vector>

using namespace dagrad;
using detail::Liveness;
using detail::MemoryPlan;

namespace {

bool overlap(const MemoryPlan& p, std::size_t a, std::size_t b) {
  return p.offset[a] < p.offset[b] + p.bytes[b] && p.offset[b] < p.offset[a] + p.bytes[a];
}

std::vector<char> all_planned(std::size_t n) { return std::vector<char>(n, 1); }

// No op may be written over its inputs.
std::vector<std::vector<std::size_t>> none(std::size_t n) { return std::vector<std::vector<std::size_t>>(n); }

}  // namespace

TEST_CASE("along a chain a value takes the bytes of one read before it was written") {
  // 0 -> 1 -> 2 -> 3: value 0 is last read by op 1, an ancestor of op 2.
  const Liveness live({{}, {0}, {1}, {2}});
  const std::vector<std::size_t> bytes(4, 100);
  const MemoryPlan p = detail::plan_memory(live, bytes, all_planned(4), none(4));
  CHECK(p.bytes[0] == 128);  // rounded up to the 64-byte alignment
  CHECK(p.offset[2] == p.offset[0]);
  CHECK(p.offset[3] == p.offset[1]);
  CHECK_FALSE(overlap(p, 0, 1));
  CHECK(p.arena_bytes == 256);
  CHECK(p.total_bytes == 512);
  CHECK(p.overwritten == std::vector<char>{1, 1, 0, 0});
  detail::check_memory_plan(live, p, none(4), std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("parallel branches of a diamond never share, though a sequential order would let them") {
  // 0 feeds two branches: 1 -> 2 and 3; 4 joins them. In the order 0..4,
  // value 1 is last read (by 2) before 3 is written, but 2 and 3 may run at
  // once, so 3 must not take 1's bytes; 4 may, once 2 and 3 are done.
  const Liveness live({{}, {0}, {1}, {0}, {2, 3}});
  CHECK(live.ends_before(1, 4));
  CHECK_FALSE(live.ends_before(1, 3));
  CHECK_FALSE(live.ends_before(0, 3));
  CHECK_FALSE(live.before(2, 3));
  CHECK_FALSE(live.before(3, 2));
  const std::vector<std::size_t> bytes(5, 64);
  const MemoryPlan p = detail::plan_memory(live, bytes, all_planned(5), none(5));
  for (std::size_t a = 0; a < 5; ++a) {
    for (std::size_t b = a + 1; b < 5; ++b) {
      CAPTURE(a);
      CAPTURE(b);
      if (overlap(p, a, b)) CHECK(live.ends_before(a, b));
    }
  }
  CHECK_FALSE(overlap(p, 1, 3));
  CHECK_FALSE(overlap(p, 2, 3));
  // While 3 is written, 2 may be running (reading 1), and 0 was read by 3:
  // all four are alive at once. The join takes the first free bytes.
  CHECK(p.arena_bytes == 4 * 64);
  CHECK(p.offset[4] == p.offset[0]);
}

TEST_CASE("values left out of the plan (fetched) and empty values take no bytes") {
  const Liveness live({{}, {0}, {1}});
  const std::vector<std::size_t> bytes{64, 0, 64};
  const MemoryPlan p = detail::plan_memory(live, bytes, std::vector<char>{1, 1, 0}, none(3));
  CHECK(p.offset[1] == detail::not_planned);
  CHECK(p.offset[2] == detail::not_planned);
  CHECK(p.arena_bytes == 64);
}

TEST_CASE("the checker refuses a plan that puts two values alive at once in the same bytes") {
  const Liveness live({{}, {0}, {1}, {0}, {2, 3}});
  const std::vector<std::size_t> bytes(5, 64);
  const std::vector<std::string> names{"root", "left1", "left2", "right", "join"};
  MemoryPlan p = detail::plan_memory(live, bytes, all_planned(5), none(5));
  detail::check_memory_plan(live, p, none(p.offset.size()), names);
  p.offset[3] = p.offset[1];  // the branches may run at once
  CHECK_THROWS_WITH_AS(detail::check_memory_plan(live, p, none(p.offset.size()), names),
                       doctest::Contains("'left1' and 'right' share bytes"), Error);
  p = detail::plan_memory(live, bytes, all_planned(5), none(5));
  p.offset[4] = 32;  // off the alignment
  CHECK_THROWS_WITH_AS(detail::check_memory_plan(live, p, none(p.offset.size()), names), doctest::Contains("'join'"), Error);
  p = detail::plan_memory(live, bytes, all_planned(5), none(5));
  p.offset[4] = p.arena_bytes;  // past the end
  CHECK_THROWS_WITH_AS(detail::check_memory_plan(live, p, none(p.offset.size()), names), doctest::Contains("'join'"), Error);
}

TEST_CASE("ancestry is counted through long chains and wide graphs (more than 64 ops)") {
  std::vector<std::vector<std::size_t>> preds(150);
  for (std::size_t k = 1; k < 150; ++k) preds[k] = {k - 1};
  preds[149] = {0, 148};
  const Liveness live(preds);
  CHECK(live.before(0, 149));
  CHECK(live.before(70, 140));
  CHECK_FALSE(live.before(140, 70));
  CHECK_FALSE(live.ends_before(0, 100));  // op 149 still reads value 0
  const MemoryPlan p = detail::plan_memory(live, std::vector<std::size_t>(150, 64), all_planned(150), none(150));
  CHECK(p.arena_bytes == 3 * 64);
  std::vector<std::string> names;
  for (std::size_t k = 0; k < 150; ++k) names.push_back(std::to_string(k));
  detail::check_memory_plan(live, p, none(p.offset.size()), names);
}

TEST_CASE("an elementwise op is written over its input when it is that input's last reader") {
  // 0 -> 1 -> 2 -> 3, each allowed to take its input's bytes: one block.
  const Liveness live({{}, {0}, {1}, {2}});
  const std::vector<std::vector<std::size_t>> in_place{{}, {0}, {1}, {2}};
  const MemoryPlan p = detail::plan_memory(live, std::vector<std::size_t>(4, 100), all_planned(4), in_place);
  CHECK(p.arena_bytes == 128);
  CHECK(p.in_place_of == std::vector<std::size_t>{detail::not_planned, 0, 1, 2});
  CHECK(p.overwritten == std::vector<char>{1, 1, 1, 0});
  const std::vector<std::string> names{"a", "b", "c", "d"};
  detail::check_memory_plan(live, p, in_place, names);
  // The same plan without the ops' leave is refused.
  CHECK_THROWS_WITH_AS(detail::check_memory_plan(live, p, none(4), names),
                       doctest::Contains("'a' and 'b' share bytes"), Error);
}

TEST_CASE("no op is written over an input another op may still read, or over one of another size") {
  // 0 is read by 1 and 2, which may run at once: neither may take 0's bytes.
  const Liveness fork({{}, {0}, {0}, {1, 2}});
  const std::vector<std::vector<std::size_t>> fork_in_place{{}, {0}, {0}, {1, 2}};
  CHECK_FALSE(detail::may_write_over(fork, fork_in_place, 0, 1));
  CHECK_FALSE(detail::may_write_over(fork, fork_in_place, 0, 2));
  CHECK(detail::may_write_over(fork, fork_in_place, 1, 3));
  const MemoryPlan p = detail::plan_memory(fork, std::vector<std::size_t>(4, 64), all_planned(4), fork_in_place);
  CHECK(p.in_place_of[1] == detail::not_planned);
  CHECK(p.in_place_of[2] == detail::not_planned);
  CHECK(p.in_place_of[3] == 1);
  CHECK_FALSE(overlap(p, 0, 1));
  CHECK_FALSE(overlap(p, 0, 2));
  CHECK_FALSE(overlap(p, 1, 2));
  detail::check_memory_plan(fork, p, fork_in_place, std::vector<std::string>{"x", "l", "r", "join"});

  // 2 reads 0 after 1 did: 2 is 0's last reader in every schedule.
  const Liveness late({{}, {0}, {0, 1}});
  CHECK(detail::may_write_over(late, std::vector<std::vector<std::size_t>>{{}, {}, {0}}, 0, 2));
  // Not an input of the op, or not one it allows.
  CHECK_FALSE(detail::may_write_over(late, std::vector<std::vector<std::size_t>>{{}, {}, {1}}, 0, 2));

  // Another size: first fit instead.
  const Liveness chain({{}, {0}});
  const MemoryPlan q = detail::plan_memory(chain, std::vector<std::size_t>{64, 128}, all_planned(2),
                                           std::vector<std::vector<std::size_t>>{{}, {0}});
  CHECK(q.in_place_of[1] == detail::not_planned);
  CHECK_FALSE(overlap(q, 0, 1));
}

TEST_CASE("a value read last by a kept op that may write over it is computed into that op's buffer") {
  // 0 -> 1 -> 3 and 0 -> 2 -> 3; 3 is kept (fetched) and may take 1 or 2.
  const Liveness live({{}, {0}, {0}, {1, 2}});
  const std::vector<std::vector<std::size_t>> in_place{{}, {}, {}, {1, 2}};
  const std::vector<char> planned{1, 1, 1, 0}, kept{0, 0, 0, 1};
  const MemoryPlan p = detail::plan_memory(live, std::vector<std::size_t>(4, 64), planned, in_place, kept);
  // One of them, the first: 3 has one buffer to give.
  CHECK(p.into == std::vector<std::size_t>{detail::not_planned, 3, detail::not_planned, detail::not_planned});
  CHECK(p.in_place_of[3] == 1);
  CHECK(p.offset[1] == detail::not_planned);
  CHECK(p.overwritten[1] == 1);
  CHECK(p.arena_bytes == 128);  // 0 and 2 are alive at once; 1 takes no arena bytes
  CHECK(p.total_bytes == 3 * 64);
  const std::vector<std::string> names{"x", "l", "r", "join"};
  detail::check_memory_plan(live, p, in_place, names);

  // Not when another reader may still read it, at another size, or when
  // the reader is not kept.
  const Liveness fork({{}, {0}, {0}});
  const std::vector<std::vector<std::size_t>> fork_in_place{{}, {0}, {0}};
  const MemoryPlan q = detail::plan_memory(fork, std::vector<std::size_t>(3, 64), std::vector<char>{1, 0, 0},
                                           fork_in_place, std::vector<char>{0, 1, 1});
  CHECK(q.into[0] == detail::not_planned);
  const Liveness chain({{}, {0}});
  const std::vector<std::vector<std::size_t>> chain_in_place{{}, {0}};
  CHECK(detail::plan_memory(chain, std::vector<std::size_t>{64, 128}, std::vector<char>{1, 0}, chain_in_place,
                            std::vector<char>{0, 1})
            .into[0] == detail::not_planned);
  CHECK(detail::plan_memory(chain, std::vector<std::size_t>{64, 64}, std::vector<char>{1, 0}, chain_in_place)
            .into[0] == detail::not_planned);

  // The checker refuses a value put into a buffer its op may not write over.
  MemoryPlan bad = p;
  bad.into[2] = 3;
  CHECK_THROWS_WITH_AS(detail::check_memory_plan(live, bad, in_place, names),
                       doctest::Contains("'r' is computed into the buffer of 'join'"), Error);
  bad = p;
  bad.into[0] = 3;
  bad.offset[0] = detail::not_planned;
  CHECK_THROWS_WITH_AS(detail::check_memory_plan(live, bad, in_place, names), doctest::Contains("'x'"), Error);
}

namespace {

Matrix<float> random_matrix(Eigen::Index rows, Eigen::Index cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.f, 0.3f);
  Matrix<float> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

struct Net {
  Graph g;
  Node x, y, loss;
  std::vector<Node> params, grads;
  Eigen::Index features = 0, classes = 0;
};

// A 64-32-10 MLP on 48 features.
void build_mlp(Net& n) {
  n.features = 48, n.classes = 10;
  Graph& g = n.g;
  n.x = g.input("x", {batch, n.features});
  n.y = g.input("y", {batch, n.classes});
  Node w1 = g.parameter("w1", {48, 64}), b1 = g.parameter("b1", {1, 64});
  Node w2 = g.parameter("w2", {64, 32}), b2 = g.parameter("b2", {1, 32});
  Node w3 = g.parameter("w3", {32, 10}), b3 = g.parameter("b3", {1, 10});
  Node h1 = relu(add(matmul(n.x, w1), b1));
  Node h2 = tanh(add(matmul(h1, w2), b2));
  n.loss = softmax_cross_entropy(add(matmul(h2, w3), b3), n.y);
  n.params = {w1, b1, w2, b2, w3, b3};
  n.grads = gradients(n.loss, n.params);
}

// Two convolutions with pooling, then a dense layer: LeNet's shape, small.
void build_lenet(Net& n) {
  Graph& g = n.g;
  const Conv2dOptions c1{.in = {1, 12, 12}, .out_channels = 4, .kernel = 3, .padding = 1};
  const Pool2dOptions p1{.in = conv2d_output(c1)};
  const Conv2dOptions c2{.in = pool2d_output(p1), .out_channels = 6, .kernel = 3};
  const ImageShape out2 = conv2d_output(c2);
  n.features = 144, n.classes = 5;
  n.x = g.input("x", {batch, 144});
  n.y = g.input("y", {batch, 5});
  Node k1 = g.parameter("k1", {4, 9}), cb1 = g.parameter("cb1", {1, 4});
  Node k2 = g.parameter("k2", {6, 36}), cb2 = g.parameter("cb2", {1, 6});
  const Dim flat = out2.channels * out2.height * out2.width;
  Node w = g.parameter("w", {flat, 5}), b = g.parameter("b", {1, 5});
  Node h = max_pool2d(relu(add_channel_bias(conv2d(n.x, k1, c1), cb1)), p1);
  h = relu(add_channel_bias(conv2d(h, k2, c2), cb2));
  n.loss = softmax_cross_entropy(add(matmul(h, w), b), n.y);
  n.params = {k1, cb1, k2, cb2, w, b};
  n.grads = gradients(n.loss, n.params);
}

// Five SGD steps; every fetched value of every step, in order.
std::vector<Matrix<float>> train(Net& n, int threads, bool plan) {
  Executor<float> ex(n.g, {.threads = threads, .plan_memory = plan});
  std::mt19937 rng(5);
  for (Node p : n.params) ex.set(p, random_matrix(p.shape().rows, p.shape().cols, rng));
  const Matrix<float> X = random_matrix(40, n.features, rng);
  Matrix<float> Y = Matrix<float>::Zero(40, n.classes);
  for (Eigen::Index r = 0; r < 40; ++r) Y(r, static_cast<Eigen::Index>(rng() % n.classes)) = 1.f;
  std::vector<Node> fetches{n.loss};
  fetches.insert(fetches.end(), n.grads.begin(), n.grads.end());
  std::vector<Matrix<float>> seen;
  for (int step = 0; step < 5; ++step) {
    const Eigen::Index rows = step == 3 ? 17 : 40;  // one step at another batch size
    const std::vector<Matrix<float>> out = ex.run({{n.x, X.topRows(rows)}, {n.y, Y.topRows(rows)}}, fetches);
    for (std::size_t k = 0; k < n.params.size(); ++k) ex.parameter(n.params[k]) -= 0.1f * out[k + 1];
    seen.insert(seen.end(), out.begin(), out.end());
  }
  return seen;
}

// The same random parameters in both executors.
void set_both(const Net& n, std::mt19937& rng, Executor<float>& a, Executor<float>& b) {
  for (Node p : n.params) {
    const Matrix<float> v = random_matrix(p.shape().rows, p.shape().cols, rng);
    a.set(p, v);
    b.set(p, v);
  }
}

}  // namespace

TEST_CASE("planned memory gives bit-identical losses and gradients, MLP and LeNet, at 1 and 2 threads") {
  for (const bool lenet : {false, true}) {
    CAPTURE(lenet);
    Net n;
    if (lenet) {
      build_lenet(n);
    } else {
      build_mlp(n);
    }
    const std::vector<Matrix<float>> want = train(n, 1, false);
    for (const int threads : {1, 2}) {
      CAPTURE(threads);
      const std::vector<Matrix<float>> got = train(n, threads, true);
      REQUIRE(got.size() == want.size());
      for (std::size_t k = 0; k < got.size(); ++k) {
        CAPTURE(k);
        CHECK(got[k] == want[k]);
      }
    }
  }
}

TEST_CASE("planned memory holds less than a buffer per node, and trim() gives it back") {
  Net n;
  build_mlp(n);
  std::mt19937 rng(8);
  Executor<float> planned(n.g, {.threads = 1});
  Executor<float> whole(n.g, {.threads = 1, .plan_memory = false});
  CHECK(planned.options().plan_memory);
  set_both(n, rng, planned, whole);
  const Matrix<float> X = random_matrix(200, 48, rng);
  const Matrix<float> Y = Matrix<float>::Identity(200, 10);
  std::vector<Node> fetches{n.loss};
  fetches.insert(fetches.end(), n.grads.begin(), n.grads.end());
  const std::size_t before = planned.memory();
  CHECK(planned.run({{n.x, X}, {n.y, Y}}, fetches) == whole.run({{n.x, X}, {n.y, Y}}, fetches));
  const std::size_t after = planned.memory();
  CHECK(after > before);
  CHECK(after < whole.memory());

  // A smaller batch after a larger one may shrink what is held.
  CHECK(planned.run({{n.x, X.topRows(20)}, {n.y, Y.topRows(20)}}, fetches) ==
        whole.run({{n.x, X.topRows(20)}, {n.y, Y.topRows(20)}}, fetches));
  CHECK(planned.memory() < after);

  planned.trim();
  std::size_t kept = before;  // the parameters, and the constants the plans hold
  for (NodeId k = 0; k < n.g.size(); ++k) {
    if (n.g.info(k).kind == NodeKind::constant) kept += std::size_t(n.g.info(k).value.size()) * sizeof(float);
  }
  CHECK(planned.memory() == kept);
  CHECK_FALSE(planned.has_value(n.loss));
  CHECK(planned.has_value(n.params[0]));
  CHECK(planned.run({{n.x, X}, {n.y, Y}}, fetches) == whole.run({{n.x, X}, {n.y, Y}}, fetches));
  CHECK(planned.memory() == after);
}

TEST_CASE("value() of a node whose bytes a later value took names it; fetched values stay readable") {
  Graph g;
  Node x = g.input("x", {batch, 8});
  Node a = tanh(x), b = sigmoid(a), c = exp(b), d = square(c);
  g.rename(a, "first");
  g.rename(b, "second");
  g.rename(c, "third");
  const Matrix<double> X = Matrix<double>::Random(16, 8);
  Executor<double> planned(g, {.threads = 2, .fuse = false});  // each op its own value, in place
  Executor<double> whole(g, {.threads = 2, .plan_memory = false});
  const Matrix<double> out = planned.run({{x, X}}, {d})[0];
  whole.run({{x, X}}, {d});
  CHECK(out == whole.value(d));
  CHECK(planned.value(d) == whole.value(d));
  CHECK(planned.value(x) == X);
  // b was written over a in place; c was computed into the fetched d's own
  // buffer, and d written over it. So a and c are gone, b is intact.
  CHECK(planned.has_value(a));
  CHECK_THROWS_WITH_AS(planned.value(a),
                       doctest::Contains("node 'first' was not fetched, and a later value took its memory"),
                       FeedError);
  CHECK_THROWS_WITH_AS(planned.value(a), doctest::Contains("plan_memory"), FeedError);
  CHECK_THROWS_WITH_AS(planned.value(c), doctest::Contains("'third'"), FeedError);
  CHECK(planned.value(b) == whole.value(b));

  // Fetched, the same node is kept.
  planned.compute({{x, X}}, {a, d});
  CHECK(planned.value(a) == whole.value(a));
  // A run of another fetch set takes the arena over: the values the run
  // before left there are gone, its fetched ones are not.
  planned.compute({{x, X}}, {d});
  CHECK(planned.value(b) == whole.value(b));
  planned.compute({{x, X}}, {a});
  CHECK(planned.value(a) == whole.value(a));
  CHECK_THROWS_WITH_AS(planned.value(b), doctest::Contains("'second'"), FeedError);
  CHECK(planned.value(d) == whole.value(d));
}

TEST_CASE("memory_plan() reports where the last run kept each value, and plan_summary() says it in a line") {
  Net n;
  build_mlp(n);
  std::mt19937 rng(3);
  Executor<float> planned(n.g, {.threads = 2, .fuse = false});  // every op value placed (test_executor: fused ones)
  Executor<float> whole(n.g, {.threads = 2, .plan_memory = false});
  CHECK(plan_summary(planned.memory_plan()) == "memory plan: no run yet");
  set_both(n, rng, planned, whole);
  const Matrix<float> X = random_matrix(30, 48, rng);
  const Matrix<float> Y = Matrix<float>::Identity(30, 10);
  planned.compute({{n.x, X}, {n.y, Y}}, {n.loss});
  whole.compute({{n.x, X}, {n.y, Y}}, {n.loss});

  const MemoryReport r = planned.memory_plan();
  CHECK(r.planned);
  std::size_t in_arena = 0, in_place = 0, sum = 0;
  for (const PlacedValue& v : r.values) {
    CAPTURE(v.node.name());
    CHECK(v.node.kind() == NodeKind::op);
    if (!v.in_arena) {
      CHECK(v.node.id() == n.loss.id());  // the one fetched value
      continue;
    }
    ++in_arena;
    sum += v.bytes;
    CHECK(v.offset + v.bytes <= r.arena_bytes);
    if (v.over.valid()) {
      ++in_place;
      // Over one of its own inputs, at the same place.
      bool reads = false;
      for (std::size_t i = 0; i < v.node.num_inputs(); ++i) reads |= v.node.input(i) == v.over;
      CHECK(reads);
      for (const PlacedValue& w : r.values) {
        if (w.node.id() == v.over.id()) CHECK(w.offset == v.offset);
      }
    }
  }
  CHECK(in_arena + 1 == r.values.size());
  CHECK(r.planned_bytes == sum);
  CHECK(r.arena_bytes < r.planned_bytes);
  // relu and tanh over their biased sums, and backward's elementwise grads.
  CHECK(in_place >= 2);
  CHECK(r.own_bytes == sizeof(float));
  const std::string line = plan_summary(r);
  CHECK(line.find("memory plan: " + std::to_string(r.values.size()) + " op values") == 0);
  CHECK(line.find("ratio ") != std::string::npos);
  CHECK(line.find(std::to_string(in_place) + " written in place") != std::string::npos);

  const MemoryReport off = whole.memory_plan();
  CHECK_FALSE(off.planned);
  CHECK(off.values.size() == r.values.size());
  CHECK(off.arena_bytes == 0);
  CHECK(plan_summary(off).find("plan_memory is off") != std::string::npos);

  planned.trim();
  CHECK(planned.memory_plan().values.empty());
}

TEST_CASE("with check_numerics nothing is written in place, so its report shows the inputs as they were") {
  Graph g;
  Node x = g.input("x", {batch, 4});
  Node a = tanh(x), b = exp(a), c = log(b);
  Executor<double> ex(g, {.threads = 1, .check_numerics = true});
  ex.run({{x, Matrix<double>::Ones(3, 4)}}, {c});
  for (const PlacedValue& v : ex.memory_plan().values) CHECK_FALSE(v.over.valid());
  // And without it (and unfused), b is computed into the fetched c's own
  // buffer and c written over it; and fetching b too, b is written over a.
  Executor<double> fast(g, {.threads = 1, .fuse = false});
  fast.run({{x, Matrix<double>::Ones(3, 4)}}, {c});
  const MemoryReport r = fast.memory_plan();
  REQUIRE(r.values.size() == 3);
  CHECK(r.values[1].into.id() == c.id());
  CHECK(r.values[2].over.id() == b.id());
  CHECK_FALSE(r.values[1].in_arena);
  CHECK(r.planned_bytes == 2 * 128);  // a in the arena, b in c's buffer: 96 bytes each, rounded up
  CHECK(r.arena_bytes == 128);
  CHECK(r.own_bytes == 3 * 4 * sizeof(double));
  Node d = exp(c);
  fast.run({{x, Matrix<double>::Ones(3, 4)}}, {d});
  for (const PlacedValue& v : fast.memory_plan().values) {
    if (v.node == b) CHECK(v.over == a);
    if (v.node == c) CHECK(v.into == d);
  }
}
