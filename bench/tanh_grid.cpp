// The playground's heat-map run: six tanh layers of 8 units (7 features in)
// over a 50 x 50 grid, in float64, as one batched forward run; prints each
// run's time and the kernels' times. Double tanh is a libm call per element,
// so this is where a dirty upper vector state (docs/benchmarks.md) shows.
//   build/bench/bench_tanh_grid [runs]
#include <dagrad/dagrad.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace dagrad;

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  Graph g;
  Node x = g.input("x", {batch, 7});
  nn::Init init(1);
  Node h = x;
  std::vector<Node> fetches;
  for (int k = 0; k < 6; ++k) {
    h = nn::dense(h, 8, init, "hidden" + std::to_string(k + 1), {.activation = nn::Activation::tanh});
    fetches.push_back(h);
  }
  fetches.push_back(nn::dense(h, 1, init, "output", {.activation = nn::Activation::tanh}));
  Executor<double> ex(g, {.threads = 1, .profile = true});
  init.apply(ex);
  Matrix<double> X(2500, 7);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = -6.0 + 12.0 * double((i * 7919) % 2500) / 2500.0;
  ex.run({{x, X}}, fetches);  // buffers at size
  ex.clear_profile();
  double best = 1e9, total = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t = std::chrono::steady_clock::now();
    ex.run({{x, X}}, fetches);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
    best = std::min(best, ms);
    total += ms;
  }
  std::printf("2500 rows, 6 x 8 tanh + 1, float64: best %.2f ms, mean %.2f ms over %d runs\n", best,
              total / runs, runs);
  double tanh_seconds = 0;
  for (const NodeTime& t : ex.profile()) {
    if (t.node.op()->key() == "tanh") tanh_seconds += t.seconds / double(t.runs);
  }
  std::printf("tanh kernels: %.2f ms a run, %.1f ns an element\n", 1000 * tanh_seconds,
              1e9 * tanh_seconds / (2500.0 * 49));
}
