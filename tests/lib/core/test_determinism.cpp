// The same seed gives bit-identical losses and gradients at any thread count.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <oneapi/tbb/global_control.h>

#include <random>

#include "sanitizer.hpp"

using namespace dagrad;

// Lets arenas of 4 and 8 threads really get that many on a 2-core machine,
// so interleavings at those counts are exercised.
static tbb::global_control allow_threads(tbb::global_control::max_allowed_parallelism, 8);

namespace {

struct Trace {
  std::vector<float> losses;
  std::vector<Matrix<float>> final_grads;
};

// A two-hidden-layer MLP trained by plain SGD for 20 steps.
Trace train(int threads) {
  Graph g;
  Node x = g.input("x", {batch, 20});
  Node y = g.input("y", {batch, 5});
  Node w1 = g.parameter("w1", {20, 32});
  Node b1 = g.parameter("b1", {1, 32});
  Node w2 = g.parameter("w2", {32, 16});
  Node b2 = g.parameter("b2", {1, 16});
  Node w3 = g.parameter("w3", {16, 5});
  Node b3 = g.parameter("b3", {1, 5});
  Node h1 = relu(add(matmul(x, w1), b1));
  Node h2 = tanh(add(matmul(h1, w2), b2));
  Node logits = add(matmul(h2, w3), b3);
  Node loss = softmax_cross_entropy(logits, y);
  std::vector<Node> params{w1, b1, w2, b2, w3, b3};
  std::vector<Node> grads = gradients(loss, params);

  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.f, 0.3f);
  Executor<float> ex(g, {.threads = threads});
  for (Node p : params) {
    Matrix<float> v(p.shape().rows, p.shape().cols);
    for (Eigen::Index i = 0; i < v.size(); ++i) v.data()[i] = normal(rng);
    ex.set(p, v);
  }
  Matrix<float> X(64, 20), Y = Matrix<float>::Zero(64, 5);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = normal(rng);
  for (int r = 0; r < 64; ++r) Y(r, static_cast<int>(rng() % 5)) = 1.f;

  std::vector<Node> fetches{loss};
  fetches.insert(fetches.end(), grads.begin(), grads.end());
  Trace t;
  for (int step = 0; step < 20; ++step) {
    auto out = ex.run({{x, X}, {y, Y}}, fetches);
    t.losses.push_back(out[0](0, 0));
    for (std::size_t k = 0; k < params.size(); ++k) ex.parameter(params[k]) -= 0.1f * out[k + 1];
    if (step == 19) t.final_grads.assign(out.begin() + 1, out.end());
  }
  return t;
}

}  // namespace

TEST_CASE("an MLP's losses and gradients after 20 steps are bit-identical at 1, 2 and 8 threads") {
  Trace one = train(1);
  CHECK(one.losses.back() < one.losses.front());  // it learned something
  for (int threads : {2, 8}) {
    Trace other = train(threads);
    CHECK(other.losses == one.losses);
    REQUIRE(other.final_grads.size() == one.final_grads.size());
    for (std::size_t k = 0; k < one.final_grads.size(); ++k) {
      CHECK(other.final_grads[k] == one.final_grads[k]);
    }
  }
}

// An element's bits may not depend on which thread, or which compiled copy
// of a kernel, computed its block. oneTBB runs a parallel loop's body both
// inlined in its task and out of line; built with GCC's default
// -ffp-contract=fast the two copies fused different multiplies and adds,
// and about one run in two hundred of gelu_grad over 768 x 512 elements at
// 2 threads had a block a few ulps off (meson.build builds with
// -ffp-contract=off). Runs GELU's kernels, large enough to be cut into
// blocks, many times and compares every run with one thread's.
TEST_CASE("an elementwise kernel's bits do not depend on which thread ran each block") {
  Graph g;
  Node x = g.input("x", {batch, 512}), dy = g.input("dy", {batch, 512});
  const std::vector<Node> fetches{gelu_grad(x, dy, GeluApproximation::none), gelu(x, GeluApproximation::none),
                                  gelu_grad(x, dy, GeluApproximation::tanh)};
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0, 1);
  Matrix<float> X(768, 512), DY(768, 512);
  for (Eigen::Index i = 0; i < X.size(); ++i) {
    X.data()[i] = normal(rng);
    DY.data()[i] = normal(rng) * 1e-3f;
  }
  Executor<float> one(g, {.threads = 1});
  const std::vector<Matrix<float>> want = one.run({{x, X}, {dy, DY}}, fetches);
  Executor<float> two(g, {.threads = 2});
  int differing = 0;
  // Fewer under the sanitizers, whose builds are slower (and TSan's runs
  // the blocks one after another: detail/parallel.hpp).
  const int runs = sanitizer::any ? 20 : 500;
  for (int run = 0; run < runs && differing == 0; ++run) {
    two.compute({{x, X}, {dy, DY}}, fetches);
    for (std::size_t k = 0; k < fetches.size(); ++k) differing += two.value(fetches[k]) != want[k];
  }
  CHECK(differing == 0);
}
