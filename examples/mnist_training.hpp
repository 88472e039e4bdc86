// What the programs that train a network of their own on MNIST (lenet, the
// autoencoder) share: their training flags, read one way, and MNIST cut to
// the rows asked for.
//   add_training_flags(parser, 2);
//   const TrainingFlags flags = read_training_flags(args, 2);
//   Mnist mnist = load_mnist_rows(args);
#pragma once

#include <dagrad/dagrad.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace dagrad {

struct TrainingFlags {
  int epochs;
  std::size_t batch_size;
  double learning_rate;
  std::uint32_t seed;
  int threads;
  int shards;
  std::string checkpoint;  // empty: none
  int checkpoint_every;
  std::string resume;  // a checkpoint to continue from; empty: none
};

// --epochs (default_epochs), --batch-size, --learning-rate (Adam's), --seed,
// --threads, --shards, --checkpoint, --checkpoint-every, --resume, --data,
// --train-rows and --test-rows.
inline void add_training_flags(ArgParser& p, int default_epochs) {
  p.add("epochs", "N", "passes over the training images (default " + std::to_string(default_epochs) + ")");
  p.add("batch-size", "N", "images a step (default 64)");
  p.add("learning-rate", "R", "Adam's learning rate (default 0.001)");
  p.add("seed", "N", "the initial weights and the shuffles (default 1)");
  p.add("threads", "N", "threads the executor may use, 0 = one per core (default 0)");
  p.add("shards", "N",
        "cut each batch into N shards, computed one after another and their gradients summed in "
        "order, as N data-parallel processes would; under mpirun, 1 or the number of ranks (default 1)");
  p.add("checkpoint", "FILE", "write the model and the training state to FILE (atomically) every few epochs");
  p.add("checkpoint-every", "K", "epochs between checkpoints, the last epoch's always written (default 1)");
  p.add("resume", "FILE", "continue from a checkpoint, with the bits the run that wrote it would have had");
  p.add("data", "DIR", "folder with the four MNIST IDX files (default $DAGRAD_DATA or ~/.cache/dagrad/mnist)");
  p.add("train-rows", "N", "train on the first N training images only (default all, 60000 in MNIST)");
  p.add("test-rows", "N", "test on the first N test images only (default all, 10000 in MNIST)");
}

// min_epochs 0 lets a program only score a network it read from a file.
inline TrainingFlags read_training_flags(const ParsedArgs& args, int default_epochs, int min_epochs = 1) {
  return {.epochs = static_cast<int>(args.get_int("epochs", default_epochs, min_epochs, 1000)),
          .batch_size = static_cast<std::size_t>(args.get_int("batch-size", 64, 1, 60000)),
          .learning_rate = args.get_double("learning-rate", 1e-3, 1e-12, 10),
          .seed = static_cast<std::uint32_t>(args.get_int("seed", 1, 0, 4294967295L)),
          .threads = static_cast<int>(args.get_int("threads", 0, 0, 1024)),
          .shards = static_cast<int>(args.get_int("shards", 1, 1, 1024)),
          .checkpoint = args.get("checkpoint", ""),
          .checkpoint_every = static_cast<int>(args.get_int("checkpoint-every", 1, 1, 1000)),
          .resume = args.get("resume", "")};
}

// The first n images and labels of a set (moved, not copied: MNIST's 47 MB
// once).
inline Dataset first_rows(Dataset&& d, std::size_t n) {
  Dataset out = std::move(d);
  out.images.count = n;
  out.images.pixels.resize(n * out.images.features());
  out.images.pixels.shrink_to_fit();
  out.labels.resize(n);
  return out;
}

// MNIST from --data, each set cut to its first --train-rows and --test-rows
// (by default every image the files hold: 60000 and 10000 in MNIST's).
inline Mnist load_mnist_rows(const ParsedArgs& args) {
  Mnist mnist = load_mnist(args.get("data", default_mnist_dir()));
  const long train_count = long(mnist.train.images.count), test_count = long(mnist.test.images.count);
  const auto train_rows = static_cast<std::size_t>(args.get_int("train-rows", train_count, 1, train_count));
  const auto test_rows = static_cast<std::size_t>(args.get_int("test-rows", test_count, 1, test_count));
  return {first_rows(std::move(mnist.train), train_rows), first_rows(std::move(mnist.test), test_rows)};
}

}  // namespace dagrad
