// The README's "Your own network": a small CNN on MNIST with nn's layers,
// Adam and the Trainer, then its accuracy on the test set. The README shows
// the lines between the tutorial markers (scripts/check_tutorial.py checks).
//   build/examples/own_network        (DAGRAD_TUTORIAL_ROWS=2000 for a short run)
#include <dagrad/dagrad.hpp>

#include "tutorial/tutorial.hpp"

#include <algorithm>
#include <cstdio>

using namespace dagrad;

int main() {
  Mnist mnist = load_mnist(default_mnist_dir());
  tutorial::shorten_for_tests(mnist);
  // tutorial:begin
  Graph g;
  Node x = g.input("x", {batch, 784}), y = g.input("y", {batch, 10});
  nn::Init init(/*seed=*/1);
  Node h = nn::conv2d(x, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2}, init, "conv1",
                      {.activation = nn::Activation::relu});
  h = nn::max_pool2d(h, {.in = {6, 28, 28}, .size = 2}, "pool1");
  Node logits = nn::dense(h, 10, init, "out");
  Node loss = softmax_cross_entropy(logits, y);

  Executor<float> ex(g, {.threads = 2});
  init.apply(ex);
  nn::Adam adam(loss, {.learning_rate = 1e-3});
  nn::Trainer<float> trainer(ex, adam, x, y, {.epochs = 1, .batch_size = 64, .seed = 1, .verbose = 1});
  trainer.fit(Features(mnist.train.images), Features(one_hot(mnist.train.labels, 10)));
  // tutorial:end

  // The test set's accuracy, 1,000 images a run: the share whose largest
  // logit is their label.
  const Images& test = mnist.test.images;
  std::size_t right = 0;
  Matrix<float> images;
  for (std::size_t first = 0; first < test.count; first += 1000) {
    scale_rows(test, first, std::min<std::size_t>(1000, test.count - first), images);
    const Matrix<float> z = ex.run({{x, images}}, {logits})[0];
    for (Eigen::Index r = 0; r < z.rows(); ++r) {
      Eigen::Index best = 0;
      z.row(r).maxCoeff(&best);
      right += best == mnist.test.labels[first + static_cast<std::size_t>(r)];
    }
  }
  std::printf("test accuracy %.4f\n", double(right) / double(test.count));
}
