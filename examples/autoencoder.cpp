// An autoencoder on MNIST, built from dagrad's nn layers and trained with its
// Adam and training loop: 784-128-32-128-784, relu hidden layers, a sigmoid
// output, binary cross-entropy between the output and the input itself. The
// network must squeeze each digit through 32 numbers and draw it again.
//   build/examples/autoencoder --epochs 5 --png autoencoder.png
//   mpirun -np 2 build/examples/autoencoder --epochs 5   (each rank a shard of every batch)
#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include "mnist_training.hpp"
#include "ranks.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include <unistd.h>

using namespace dagrad;

namespace {

// Test digits the picture shows, each above its reconstruction.
constexpr std::size_t picture_digits = 10;

ArgParser autoencoder_parser() {
  ArgParser p("autoencoder",
              "Trains a 784-128-32-128-784 autoencoder on MNIST with dagrad's nn layers, Adam and training\n"
              "loop, and draws test digits above their reconstructions.");
  add_training_flags(p, 5);
  p.add("png", "FILE", "write the first 10 test digits above their reconstructions as a PNG");
  p.add("dot", "FILE", "write the graph as DOT, one box a layer (forward, and backward in red)");
  return p;
}

// The first n test digits in a row, their reconstructions in a row below,
// each labelled with its digit.
Image reconstruction_picture(const Dataset& test, const Matrix<float>& reconstructed, std::size_t n) {
  Images both{.count = 2 * n, .rows = test.images.rows, .cols = test.images.cols, .pixels = {}};
  const auto first_n = static_cast<std::ptrdiff_t>(n * test.images.features());
  both.pixels.assign(test.images.pixels.begin(), test.images.pixels.begin() + first_n);
  for (Eigen::Index r = 0; r < static_cast<Eigen::Index>(n); ++r) {
    const Image digit = roll(Matrix<float>(reconstructed.row(r)), both.rows, both.cols, 1);
    both.pixels.insert(both.pixels.end(), digit.pixels.begin(), digit.pixels.end());
  }
  std::vector<std::uint8_t> labels(2 * n);
  for (std::size_t k = 0; k < 2 * n; ++k) labels[k] = test.labels[k % n];
  return digit_grid(both, labels, 0, 2 * n, n);
}

// The checkpoint after epoch `epoch` of `epochs`, every `every` and after
// the last, from rank 0 alone (fit trains one epoch a call here, so the
// Trainer's own schedule, which writes after the last epoch of each call,
// is not used).
void save_checkpoint_when_due(const nn::Trainer<float>& trainer, int epoch, int epochs, const std::string& path,
                              int every, const nn::ShardGroup* group) {
  if (path.empty() || (group && group->rank() != 0)) return;
  if (epoch % every == 0 || epoch == epochs) trainer.save_checkpoint(path);
}

// group: the ranks of mpirun, or null for one process.
int run(int argc, char** argv, nn::ShardGroup* group) {
  const std::optional<ParsedArgs> parsed = autoencoder_parser().parse_or_help(argc, argv);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  const auto [epochs, batch_size, learning_rate, seed, threads, shards, checkpoint, checkpoint_every, resume, bucket_bytes] =
      read_training_flags(args, 5);

  Mnist mnist = load_mnist_rows(args);
  const Dataset& train = mnist.train;
  const Dataset& test = mnist.test;

  // tutorial:begin
  // The network: an encoder down to a code of 32 numbers, a decoder back up
  // to 784 pixels. Each layer is a name scope, so the drawing has a box a layer.
  Graph g;
  Node x = g.input("x", {batch, 784});  // one image a row, pixels in [0, 1]
  nn::Init init(seed);
  const nn::DenseOptions relu{.activation = nn::Activation::relu};
  Node h = nn::dense(x, 128, init, "encoder", relu);
  Node code = nn::dense(h, 32, init, "code", relu);
  h = nn::dense(code, 128, init, "decoder", relu);
  Node logits = nn::dense(h, 784, init, "pixels");
  Node reconstruction = sigmoid(logits);  // the output, pixels in (0, 1)
  // The loss: each pixel read as the probability of ink, so binary
  // cross-entropy, whose gradient (s - x) stays large where the sigmoid
  // saturates (mean squared error's, 2 (s - x) s (1 - s), vanishes there). It
  // takes the logits, to compute log(s) stably. The target is x itself.
  Node loss = binary_cross_entropy(logits, x);

  Executor<float> ex(g, {.threads = threads});
  init.apply(ex);
  nn::Adam adam(loss, {.learning_rate = learning_rate});  // adds the gradient nodes once
  nn::Trainer<float> trainer(ex, adam, x, x,  // x is also y
                             {.batch_size = batch_size, .seed = seed, .shards = shards, .group = group,
                              .bucket_bytes = bucket_bytes});  // group: each rank a shard
  if (!resume.empty()) trainer.load_checkpoint(resume);  // on with the bits of the run that wrote it
  if (isatty(STDOUT_FILENO) && !group) {  // on a terminal (not mpirun's), a bar through each epoch
    trainer.set_progress([](const nn::TrainProgress& p) {
      std::cout << progress_bar(p.epoch, p.samples_done, p.samples_total) << std::flush;
    });
  }

  const Features train_images(train.images), test_images(test.images);
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = trainer.epochs_done() + 1; epoch <= epochs; ++epoch) {
    trainer.options().epochs = epoch;  // fit trains on from the epochs done so far
    const double train_loss = trainer.fit(train_images, train_images).loss.back();
    const double test_loss = trainer.evaluate(test_images, test_images);
    std::printf("Epoch %d, loss = %.8f, test loss = %.8f\n", epoch, train_loss, test_loss);
    std::fflush(stdout);
    save_checkpoint_when_due(trainer, epoch, epochs, checkpoint, checkpoint_every, group);
  }
  // tutorial:end
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("seconds: %.3f (training, and the test loss after each epoch)\n", seconds);

  if (args.has("png")) {
    const std::size_t n = std::min(picture_digits, test.images.count);
    Matrix<float> digits;
    test_images.slice(0, n, digits);
    const Matrix<float> reconstructed = ex.run({{x, digits}}, {reconstruction})[0];
    write_png(reconstruction_picture(test, reconstructed, n), args.get("png"));
  }
  if (args.has("dot")) {
    write_dot(g, args.get("dot"), {.title = "Autoencoder 784-128-32-128-784", .collapse_layers = true});
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_ranks("autoencoder", [&](nn::ShardGroup* group) { return run(argc, argv, group); });
}
