// attention's forward and backward kernels at the character GPT's shapes
// (12 sequences of 64 steps, 4 heads, C = 128: qkv is 768 x 384, float),
// causal, at 1 and 2 threads: milliseconds for the forward node alone and
// for forward plus attention_grad, the best of several rounds: wall-clock
// time, or with DAGRAD_BENCH_CPU set the process's CPU time (steadier on a
// loaded machine at one thread; meaningless at two).
// bench/attention_vs_torch.sh prints PyTorch's beside it.
//   build/bench/bench_attention [sequences context heads width]
#include <dagrad/dagrad.hpp>

#include "timing.hpp"

#include <cstdio>
#include <cstdlib>

using namespace dagrad;
using M = Matrix<float>;

namespace {

void measure(Dim sequences, Dim context, Dim heads, Dim width, bool causal, int threads) {
  const Dim rows = sequences * context;
  Graph g;
  const Node qkv = g.input("qkv", {batch, 3 * width});
  const Node dy = g.input("dy", {batch, width});
  const AttentionOptions o{.heads = heads, .context = context, .causal = causal};
  const Node y = attention(qkv, o);
  const Node dqkv = attention_grad(qkv, dy, o);
  Executor<float> ex(g, {.threads = threads});
  const M QKV = M::Random(rows, 3 * width), DY = M::Random(rows, width);
  const std::vector<Feed<float>> feeds = {{qkv, QKV}, {dy, DY}};
  const double forward = bench::best_seconds(ex, feeds, {y}), both = bench::best_seconds(ex, feeds, {y, dqkv});
  std::printf("dagrad attention %lldx%lld, %lld heads, context %lld%s, threads %d: forward %.3f ms, "
              "forward+backward %.3f ms\n",
              static_cast<long long>(rows), static_cast<long long>(3 * width), static_cast<long long>(heads),
              static_cast<long long>(context), causal ? ", causal" : "", threads, forward * 1e3, both * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Dim sequences = argc > 1 ? std::atoi(argv[1]) : 12, context = argc > 2 ? std::atoi(argv[2]) : 64,
              heads = argc > 3 ? std::atoi(argv[3]) : 4, width = argc > 4 ? std::atoi(argv[4]) : 128;
    for (int threads : {1, 2}) {
      for (bool causal : {true, false}) measure(sequences, context, heads, width, causal, threads);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_attention: %s\n", e.what());
    return 1;
  }
}
