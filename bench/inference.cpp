// Scoring speed: the lesson's network (784-50-10, trained 10 epochs as in
// the lesson) classifies MNIST's 10,000 test images, float32, batched.
// Reports the best of 20 passes as images per second.
//   build/bench/bench_inference [MNIST_DIR] [threads]
#include <dagrad/dagrad.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace dagrad;

int main(int argc, char** argv) {
  try {
    const Mnist m = load_mnist(argc > 1 ? argv[1] : default_mnist_dir());
    const int threads = argc > 2 ? std::atoi(argv[2]) : 0;
    MLPClassifier mlp({.hidden_layer_sizes = {50}, .max_iter = 10, .random_state = 1, .threads = threads});
    std::vector<int> train_labels(m.train.labels.begin(), m.train.labels.end());
    std::vector<int> test_labels(m.test.labels.begin(), m.test.labels.end());
    mlp.fit(Features(m.train.images), train_labels);
    const Features test(m.test.images);
    double accuracy = mlp.score(test, test_labels);  // warms the plan and buffers
    double best = 1e9;
    const int passes = std::getenv("DAGRAD_BENCH_PASSES") ? std::atoi(std::getenv("DAGRAD_BENCH_PASSES")) : 20;
    for (int pass = 0; pass < passes; ++pass) {
      const auto t0 = std::chrono::steady_clock::now();
      accuracy = mlp.score(test, test_labels);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const double images = double(test.rows());
    std::printf("scored %.0f test images in %.2f ms (best of 20): %.2f million images/s, accuracy %.4f\n",
                images, best * 1e3, images / best / 1e6, accuracy);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_inference: %s\n", e.what());
    return 1;
  }
}
