// Memory of one training step (loss, gradients, Adam's fetches) with values
// planned by liveness against one buffer per node: the 784-1024-1024-10
// network at batch 200, LeNet at batch 64, and a small character GPT (2
// blocks of 4 heads, 64 wide, 16 windows of 32 characters). Prints the bytes of the
// values the step computes both ways, and the executor's whole holding
// (parameters, inputs and fetched values included), with their ratios; and
// the values not fetched alone, the ones the plan places.
// Both ways must give the same loss bits.
// Then, in steady state (after 20 warm-up steps), what each Adam step asks
// of the C allocator (malloc, calloc, realloc and the aligned ones: this
// program's own wrap glibc's, so every call from dagrad, Eigen, oneTBB and
// the C++ runtime is counted) and how many minor page faults it takes.
//   build/bench/bench_memory [threads]
#include <dagrad/dagrad.hpp>

#include "networks.hpp"

#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace dagrad;

// The allocator's calls, counted: glibc's own entry points under its
// malloc family's names, which this program's definitions take over.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}
namespace {
std::atomic<long> allocator_calls{0};
void counted() { allocator_calls.fetch_add(1, std::memory_order_relaxed); }
}  // namespace
extern "C" {
void* malloc(std::size_t n) {
  counted();
  return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) {
  counted();
  return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) {
  counted();
  return __libc_realloc(p, n);
}
void* memalign(std::size_t alignment, std::size_t n) {
  counted();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  counted();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  counted();
  void* p = __libc_memalign(alignment, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void free(void* p) { __libc_free(p); }
}

namespace {

struct Step {
  Graph g;
  Node loss;
  Eigen::Index rows = 0;
  nn::Init init{1};
  Node x, y;                     // the MLP's and LeNet's: pixels, one-hot labels
  Node ids, positions, targets;  // the GPT's: a character, its place, the next one
  // A batch of `rows` rows for the network's inputs, from `seed`.
  std::vector<Feed<float>> (*batch)(const Step&, unsigned seed) = nullptr;
};

// Random pixels and one-hot labels.
std::vector<Feed<float>> images(const Step& s, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> pixel(0.f, 1.f);
  Matrix<float> X(s.rows, 784), Y = Matrix<float>::Zero(s.rows, 10);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = pixel(rng);
  for (Eigen::Index r = 0; r < s.rows; ++r) Y(r, static_cast<Eigen::Index>(rng() % 10)) = 1.f;
  std::vector<Feed<float>> feeds;
  feeds.emplace_back(s.x, std::move(X));
  feeds.emplace_back(s.y, std::move(Y));
  return feeds;
}

void mlp(Step& s) {
  const bench::Network n = bench::mlp(s.g, s.init);
  s.x = n.x, s.y = n.y, s.loss = n.loss, s.rows = n.rows, s.batch = images;
}

void lenet(Step& s) {
  const bench::Network n = bench::lenet(s.g, s.init);
  s.x = n.x, s.y = n.y, s.loss = n.loss, s.rows = n.rows, s.batch = images;
}

constexpr Dim gpt_vocabulary = 65, gpt_context = 32;

// Random characters, their places in windows of gpt_context, random targets.
std::vector<Feed<float>> characters(const Step& s, unsigned seed) {
  std::mt19937 rng(seed);
  Matrix<float> ids(s.rows, 1), positions(s.rows, 1), targets(s.rows, 1);
  for (Eigen::Index r = 0; r < s.rows; ++r) {
    ids(r, 0) = float(rng() % gpt_vocabulary);
    positions(r, 0) = float(r % gpt_context);
    targets(r, 0) = float(rng() % gpt_vocabulary);
  }
  std::vector<Feed<float>> feeds;
  feeds.emplace_back(s.ids, std::move(ids));
  feeds.emplace_back(s.positions, std::move(positions));
  feeds.emplace_back(s.targets, std::move(targets));
  return feeds;
}

// examples/char_gpt.cpp's model, smaller.
void gpt(Step& s) {
  constexpr Dim embd = 64, heads = 4, layers = 2;
  s.ids = s.g.input("ids", {batch, 1});
  s.positions = s.g.input("positions", {batch, 1});
  s.targets = s.g.input("targets", {batch, 1});
  Node x = nn::embedding(s.ids, gpt_vocabulary, embd, s.init, "tok") +
           nn::embedding(s.positions, gpt_context, embd, s.init, "pos");
  for (Dim l = 1; l <= layers; ++l) {
    x = nn::transformer_block(x, {.heads = heads, .context = gpt_context, .layers = layers}, s.init,
                              "block" + std::to_string(l));
  }
  x = nn::layer_norm(x, s.init, "ln_f");
  const Node logits = nn::dense(x, gpt_vocabulary, s.init, "head", {.bias = false, .weights = nn::normal(0.02)});
  s.loss = cross_entropy(logits, s.targets);
  s.rows = 16 * gpt_context;
  s.batch = characters;
}

struct Held {
  std::size_t total = 0;   // Executor::memory()
  std::size_t values = 0;  // of which the step's computed values
  std::size_t fetched = 0; // of which the fetched ones, never planned
  float loss = 0;
  std::string summary;  // plan_summary
};

Held measure(void (*build)(Step&), bool plan, int threads) {
  Step s;
  build(s);
  nn::Adam adam(s.loss);
  Executor<float> ex(s.g, {.threads = threads, .plan_memory = plan});
  s.init.apply(ex);
  const std::vector<Feed<float>> feeds = s.batch(s, 2);
  const std::size_t before = ex.memory();  // the parameters
  ex.compute(feeds, adam.fetches());
  Held h;
  h.total = ex.memory();
  // Less the inputs and the constants, which are not computed.
  std::size_t fixed = before;
  for (const Feed<float>& f : feeds) fixed += std::size_t(f.value.size()) * sizeof(float);
  for (NodeId n = 0; n < s.g.size(); ++n) {
    if (s.g.info(n).kind == NodeKind::constant) fixed += std::size_t(s.g.info(n).value.size()) * sizeof(float);
  }
  h.values = h.total - fixed;
  for (Node f : adam.fetches()) h.fetched += std::size_t(ex.value(f).size()) * sizeof(float);
  h.loss = ex.value(s.loss)(0, 0);
  h.summary = plan_summary(ex.memory_plan());
  return h;
}

double mib(std::size_t bytes) { return double(bytes) / (1024.0 * 1024.0); }

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Allocator calls and minor page faults per Adam step, over 50 steps after
// 20 of warming up, on the same batch.
struct PerStep {
  double calls = 0, faults = 0;
};

PerStep steady(void (*build)(Step&), int threads) {
  Step s;
  build(s);
  nn::Adam adam(s.loss);
  Executor<float> ex(s.g, {.threads = threads});
  s.init.apply(ex);
  const std::vector<Feed<float>> feeds = s.batch(s, 3);
  for (int i = 0; i < 20; ++i) adam.step(ex, feeds);
  constexpr int steps = 50;
  const long calls = allocator_calls.load(), faults = minor_faults();
  for (int i = 0; i < steps; ++i) adam.step(ex, feeds);
  return {double(allocator_calls.load() - calls) / steps, double(minor_faults() - faults) / steps};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
    struct Case {
      const char* name;
      void (*build)(Step&);
    };
    for (const Case& c : {Case{"784-1024-1024-10 MLP, batch 200", mlp}, Case{"LeNet, batch 64", lenet},
                          Case{"character GPT, 16 windows of 32", gpt}}) {
      const Held whole = measure(c.build, false, threads);
      const Held planned = measure(c.build, true, threads);
      if (whole.loss != planned.loss) {
        std::fprintf(stderr, "bench_memory: %s: the loss differs with memory planned\n", c.name);
        return 1;
      }
      std::printf("%s training step (Adam's fetches):\n", c.name);
      std::printf("  values not fetched: one buffer per node %8.2f MiB, planned %8.2f MiB, ratio %.3f\n",
                  mib(whole.values - whole.fetched), mib(planned.values - planned.fetched),
                  double(planned.values - planned.fetched) / double(whole.values - whole.fetched));
      std::printf("  computed values:    one buffer per node %8.2f MiB, planned %8.2f MiB, ratio %.3f\n",
                  mib(whole.values), mib(planned.values), double(planned.values) / double(whole.values));
      std::printf("  executor memory:    one buffer per node %8.2f MiB, planned %8.2f MiB, ratio %.3f\n",
                  mib(whole.total), mib(planned.total), double(planned.total) / double(whole.total));
      std::printf("  %s\n", planned.summary.c_str());
      const PerStep step = steady(c.build, threads);
      std::printf("  steady Adam step: %.1f allocator calls, %.1f minor page faults\n", step.calls, step.faults);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_memory: %s\n", e.what());
    return 1;
  }
}
