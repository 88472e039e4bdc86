// Training steps with elementwise chains fused (ExecutorOptions::fuse)
// against each op run alone, side by side in one run: the 784-1024-1024-10
// MLP at batch 200, LeNet at batch 64 and a 4-block character GPT (width
// 128, context 64, batch 12). Steps alternate between the two executors in
// rounds, so both see the same load; each prints its median and lower
// decile step time, and what the fused step's plan holds. The loss and
// every gradient must be the same bits both ways.
//
// It also counts, per steady step of the fused executor (Adam's update
// included), the calls into the allocator (malloc, calloc, realloc and the
// aligned allocations, which this program interposes) and the minor page
// faults (getrusage).
//   build/bench/bench_fusion [threads] [rounds]
#include <dagrad/dagrad.hpp>

#include "networks.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

// Every allocation of the process goes through these (the executable's
// definitions come before glibc's in symbol lookup), counted, then to
// glibc's own entry points.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}
namespace {
std::atomic<std::uint64_t> allocations{0};
}
extern "C" {
void* malloc(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(alignment, n);
}
void* memalign(std::size_t alignment, std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** p, std::size_t alignment, std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  *p = __libc_memalign(alignment, n);
  return *p ? 0 : 12;  // ENOMEM
}
}

using namespace dagrad;
using Clock = std::chrono::steady_clock;

namespace {

struct Net {
  Graph g;
  Node x, y, loss;
  Node positions;  // the GPT's position ids
  Eigen::Index rows = 0, cols = 784;
  bool ids = false;  // y holds class ids (a column), not one-hot rows
  Dim classes = 10;
  nn::Init init{1};
};

void mlp(Net& n) {
  const bench::Network b = bench::mlp(n.g, n.init);
  n.x = b.x, n.y = b.y, n.loss = b.loss, n.rows = b.rows;
}

void lenet(Net& n) {
  const bench::Network b = bench::lenet(n.g, n.init);
  n.x = b.x, n.y = b.y, n.loss = b.loss, n.rows = b.rows;
}

// examples/char_gpt.cpp's model at its defaults, on random ids.
void gpt(Net& n) {
  const Dim context = 64, width = 128, vocabulary = 73, layers = 4;
  n.rows = 12 * context;
  n.cols = 1;
  n.ids = true;
  n.classes = vocabulary;
  n.x = n.g.input("ids", {batch, 1});
  n.y = n.g.input("targets", {batch, 1});
  n.positions = n.g.input("positions", {batch, 1});
  Node h = add(nn::embedding(n.x, vocabulary, width, n.init, "wte"),
               nn::embedding(n.positions, context, width, n.init, "wpe"));
  for (Dim l = 0; l < layers; ++l) {
    h = nn::transformer_block(h, {.heads = 4, .context = context, .layers = layers}, n.init,
                              "block" + std::to_string(l));
  }
  h = nn::layer_norm(h, n.init, "ln_f");
  n.loss = cross_entropy(nn::dense(h, vocabulary, n.init, "head"), n.y);
}

struct Side {
  std::unique_ptr<Executor<float>> ex;
  std::unique_ptr<nn::Adam> adam;
  std::vector<double> micros;
};

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * double(v.size() - 1))];
}

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

int run(const char* name, void (*build)(Net&), int threads, int rounds) {
  Net n;
  build(n);
  std::mt19937 rng(3);
  Matrix<float> X(n.rows, n.cols), Y = Matrix<float>::Zero(n.rows, n.ids ? 1 : n.classes);
  Matrix<float> positions(n.rows, 1);
  for (Eigen::Index r = 0; r < n.rows; ++r) {
    const auto label = static_cast<Eigen::Index>(rng() % std::uint32_t(n.classes));
    if (n.ids) {
      X(r, 0) = float(rng() % std::uint32_t(n.classes));
      Y(r, 0) = float(label);
      positions(r, 0) = float(r % 64);
    } else {
      for (Eigen::Index c = 0; c < n.cols; ++c) X(r, c) = float(rng() % 256) / 255.f;
      Y(r, label) = 1.f;
    }
  }
  std::vector<Feed<float>> feeds{{n.x, X}, {n.y, Y}};
  if (n.ids) feeds.emplace_back(n.positions, positions);

  Side sides[2];  // fused, each op alone
  for (int k = 0; k < 2; ++k) {
    sides[k].ex = std::make_unique<Executor<float>>(n.g, ExecutorOptions{.threads = threads, .fuse = k == 0});
    n.init.apply(*sides[k].ex);
    sides[k].adam = std::make_unique<nn::Adam>(n.loss);
  }
  // The first step of each plans and sizes everything; its bits must agree.
  std::vector<Matrix<float>> first[2];
  for (int k = 0; k < 2; ++k) {
    sides[k].ex->compute(feeds, sides[k].adam->fetches());
    for (const Node& f : sides[k].adam->fetches()) first[k].push_back(sides[k].ex->value(f));
    sides[k].adam->apply_gradients(*sides[k].ex);
  }
  if (first[0] != first[1]) {
    std::fprintf(stderr, "bench_fusion: %s: the loss or a gradient differs with fusion on\n", name);
    return 1;
  }
  std::uint64_t counted_allocations = 0;
  long counted_faults = 0;
  int counted_steps = 0;
  for (int round = 0; round < rounds; ++round) {
    for (int k = 0; k < 2; ++k) {
      for (int s = 0; s < 5; ++s) {
        const std::uint64_t a0 = allocations.load();
        const long f0 = minor_faults();
        const Clock::time_point start = Clock::now();
        sides[k].adam->step(*sides[k].ex, feeds);
        sides[k].micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        if (k == 0 && round > 0) {
          counted_allocations += allocations.load() - a0;
          counted_faults += minor_faults() - f0;
          ++counted_steps;
        }
      }
    }
  }
  // Both took the same steps from the same start: the same parameters.
  for (const Node& p : sides[0].adam->parameters()) {
    if (sides[0].ex->parameter(p) != sides[1].ex->parameter(p)) {
      std::fprintf(stderr, "bench_fusion: %s: parameter '%s' differs after the steps with fusion on\n", name,
                   p.name().c_str());
      return 1;
    }
  }
  std::printf("%s, %d threads, %zu steps each:\n", name, sides[0].ex->threads(), sides[0].micros.size());
  std::printf("  fused:      median %8.0f us, lower decile %8.0f us\n", percentile(sides[0].micros, 0.5),
              percentile(sides[0].micros, 0.1));
  std::printf("  each alone: median %8.0f us, lower decile %8.0f us\n", percentile(sides[1].micros, 0.5),
              percentile(sides[1].micros, 0.1));
  std::printf("  fused / alone (medians): %.3f; the same loss and parameters, bit for bit\n",
              percentile(sides[0].micros, 0.5) / percentile(sides[1].micros, 0.5));
  std::printf("  per steady fused step (Adam included): %.1f allocations, %.1f minor page faults\n",
              double(counted_allocations) / counted_steps, double(counted_faults) / counted_steps);
  std::printf("  %s\n", plan_summary(sides[0].ex->memory_plan()).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
    const int rounds = argc > 2 ? std::max(2, std::atoi(argv[2])) : 20;
    int failed = 0;
    failed |= run("784-1024-1024-10 MLP, batch 200", mlp, threads, rounds);
    failed |= run("LeNet, batch 64", lenet, threads, rounds);
    failed |= run("character GPT (4 blocks, width 128, context 64, batch 12)", gpt, threads, rounds);
    return failed;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fusion: %s\n", e.what());
    return 1;
  }
}
