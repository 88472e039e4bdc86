// Dispatch cost per node: a 10,000-node chain and a 10,000-node fan of 1x1
// adds, run by dagrad's executor and by a bare oneTBB flow graph of the same
// shape, in the same process. Prints nanoseconds per node and the ratio.
#include <dagrad/dagrad.hpp>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace dagrad;
namespace flow = tbb::flow;

namespace {

constexpr int nodes = 10000;
constexpr int repeats = 30;

template <class F>
double best_seconds(F&& f) {
  double best = 1e9;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// The bare baseline: continue_nodes whose bodies add two 1x1 values.
double bare(bool chain, int threads) {
  tbb::task_arena arena(threads);
  double seconds = 0;
  arena.execute([&] {
    flow::graph g;
    flow::broadcast_node<flow::continue_msg> start(g);
    std::vector<double> value(nodes + 1, 1.0);
    std::vector<flow::continue_node<flow::continue_msg>> body;
    body.reserve(nodes);
    for (int i = 0; i < nodes; ++i) {
      const int in = chain ? i : 0;
      body.emplace_back(g, [&value, in, i](flow::continue_msg) { value[i + 1] = value[in] + value[in]; });
    }
    for (int i = 0; i < nodes; ++i) {
      if (chain && i > 0) flow::make_edge(body[i - 1], body[i]);
      else flow::make_edge(start, body[i]);
    }
    seconds = best_seconds([&] {
      start.try_put(flow::continue_msg());
      g.wait_for_all();
    });
  });
  return seconds;
}

double dagrad_run(bool chain, int threads) {
  Graph g;
  Node x = g.input("x", {1, 1});
  std::vector<Node> fetch;
  Node prev = x;
  for (int i = 0; i < nodes; ++i) {
    Node n = chain ? add(prev, prev) : add(x, x);
    if (chain) prev = n;
    if (!chain || i == nodes - 1) fetch.push_back(n);
  }
  Executor<double> ex(g, {.threads = threads});
  Matrix<double> X = Matrix<double>::Constant(1, 1, 1e-300);
  ex.compute({{x, X}}, fetch);  // builds the plan once
  return best_seconds([&] { ex.compute({{x, X}}, fetch); });
}

}  // namespace

int main() {
  std::printf("%-6s %-7s %12s %12s %7s\n", "shape", "threads", "bare ns/node", "dagrad ns/node", "ratio");
  for (bool chain : {true, false}) {
    for (int threads : {1, 2}) {
      const double b = bare(chain, threads) / nodes * 1e9;
      const double d = dagrad_run(chain, threads) / nodes * 1e9;
      std::printf("%-6s %-7d %12.1f %14.1f %7.2f\n", chain ? "chain" : "fan", threads, b, d, d / b);
    }
  }
}
