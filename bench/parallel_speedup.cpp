// Speedup of 2 threads over 1 on 8 independent chains of 256x256 matmuls:
// the executor's inter-node parallelism, with nothing else in the way.
#include <dagrad/dagrad.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

using namespace dagrad;

int main() {
  constexpr int chains = 8, length = 16, size = 256, repeats = 5;
  Graph g;
  Node x = g.input("x", {size, size});
  Node w = g.parameter("w", {size, size});
  std::vector<Node> ends;
  for (int c = 0; c < chains; ++c) {
    Node n = x;
    for (int k = 0; k < length; ++k) n = matmul(n, w);
    ends.push_back(n);
  }
  // Scaled so repeated products neither overflow nor vanish.
  Matrix<float> W = Matrix<float>::Identity(size, size) * 0.999f;
  Matrix<float> X = Matrix<float>::Random(size, size);
  double seconds[3] = {0, 0, 0};
  for (int threads : {1, 2}) {
    Executor<float> ex(g, {.threads = threads});
    ex.set(w, W);
    ex.compute({{x, X}}, ends);
    double best = 1e9;
    for (int r = 0; r < repeats; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      ex.compute({{x, X}}, ends);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    seconds[threads] = best;
    const double gflop = 2.0 * size * size * size * chains * length / 1e9;
    std::printf("threads %d: %.4f s, %.1f GFLOP/s\n", threads, best, gflop / best);
  }
  std::printf("speedup 2 threads over 1: %.2fx\n", seconds[1] / seconds[2]);
}
