// The lesson's training step, timed one step at a time. The whole fit's
// time swings with the machine's load (a shared machine doubles it at
// times); the median and lower decile of 3,000 steps barely move, so two
// builds compare by these. Prints the fit time too, and the loss, which
// must not change when only speed work was done.
//   build/bench/bench_step_time [MNIST_DIR] [threads]
#include <dagrad/dagrad.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <sstream>
#include <vector>

using namespace dagrad;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  try {
    const Mnist m = load_mnist(argc > 1 ? argv[1] : default_mnist_dir());
    const int threads = argc > 2 ? std::atoi(argv[2]) : 0;
    MLPClassifier mlp({.hidden_layer_sizes = {50}, .max_iter = 10, .random_state = 1, .threads = threads});
    std::ostringstream sink;
    mlp.set_output(&sink, &sink);
    std::vector<double> steps;
    steps.reserve(3000);
    Clock::time_point last = Clock::now();
    mlp.set_progress([&](const Progress&) {
      const Clock::time_point now = Clock::now();
      steps.push_back(std::chrono::duration<double, std::micro>(now - last).count());
      last = now;
    });
    std::vector<int> labels(m.train.labels.begin(), m.train.labels.end());
    const Clock::time_point start = Clock::now();
    last = start;
    mlp.fit(Features(m.train.images), labels);
    const double fit = std::chrono::duration<double>(Clock::now() - start).count();
    // The first step of each epoch also carries the end of the last epoch
    // (loss bookkeeping, the shuffle): all steps count, the median ignores it.
    std::vector<double> sorted = steps;
    std::sort(sorted.begin(), sorted.end());
    auto at = [&](double q) { return sorted[static_cast<std::size_t>(q * double(sorted.size() - 1))]; };
    std::printf("steps %zu  median %.1f us  p10 %.1f us  p90 %.1f us  fit %.3f s  (median x steps %.3f s)  loss %.8f\n",
                steps.size(), at(0.5), at(0.1), at(0.9), fit, at(0.5) * double(steps.size()) / 1e6,
                mlp.loss_curve().back());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_step_time: %s\n", e.what());
    return 1;
  }
}
