// What the programs that train on MNIST share: the training flags of those
// that train a network of their own (lenet, the autoencoder), read one way,
// and, for every one of them (mnist_mlp, grid_search, the playground, ...),
// MNIST read only as far as --train-rows and --test-rows ask.
//   add_training_flags(parser, 2);
//   const TrainingFlags flags = read_training_flags(args, 2);
//   Mnist mnist = load_mnist_rows(args);
#pragma once

#include <dagrad/dagrad.hpp>

#include "mnist_flags.hpp"

#include <cstdint>
#include <string>

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
  std::size_t bucket_bytes;  // nn::TrainOptions::bucket_bytes
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
  p.add("bucket-bytes", "N",
        "under mpirun: sum the gradients across the ranks in buckets of about N bytes, each as soon as "
        "backward has computed it; 0: all at once after backward; the bits are the same (default " +
            std::to_string(nn::default_bucket_bytes) + ")");
  add_mnist_flags(p);
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
          .resume = args.get("resume", ""),
          .bucket_bytes = static_cast<std::size_t>(
              args.get_int("bucket-bytes", long(nn::default_bucket_bytes), 0, 1L << 40))};
}

// How many rows a flag such as --train-rows asks for: all_rows when absent.
// How many the file holds is known once it is read (check_rows_flag).
inline std::size_t rows_flag(const ParsedArgs& args, const std::string& name) {
  if (!args.has(name)) return all_rows;
  const std::string text = args.get(name);
  const std::optional<std::size_t> rows = parse_number<std::size_t>(text);
  if (!rows || *rows == 0) {
    throw UsageError(args.program + ": --" + name + " takes a whole number of rows, 1 or more, not '" + text + "'");
  }
  return *rows;
}

// Once the rows are read: a flag that asked for more than the file holds
// (`held`) is a UsageError naming the most it may be.
inline void check_rows_flag(const ParsedArgs& args, const std::string& name, std::size_t held) {
  if (args.has(name) && rows_flag(args, name) > held) {
    throw UsageError(args.program + ": --" + name + " takes a whole number from 1 to " + std::to_string(held) +
                     ", not '" + args.get(name) + "'");
  }
}

// MNIST from --data, each set cut to its first --train-rows and --test-rows
// (by default every image the files hold: 60000 and 10000 in MNIST's); only
// those rows are read.
inline Mnist load_mnist_rows(const ParsedArgs& args) {
  Mnist mnist = load_mnist(args.get("data", default_mnist_dir()), rows_flag(args, "train-rows"),
                           rows_flag(args, "test-rows"));
  check_rows_flag(args, "train-rows", mnist.train.images.count);
  check_rows_flag(args, "test-rows", mnist.test.images.count);
  return mnist;
}

// The training set alone, cut to --train-rows, for programs that read the
// test set later (or never).
inline Dataset load_mnist_train_rows(const ParsedArgs& args) {
  const std::string dir = args.get("data", default_mnist_dir());
  Dataset train = read_dataset(mnist_file(dir, "train-images-idx3-ubyte"), mnist_file(dir, "train-labels-idx1-ubyte"),
                               rows_flag(args, "train-rows"));
  check_rows_flag(args, "train-rows", train.images.count);
  return train;
}

// As load_mnist_rows, the images left on disk and read a batch at a time
// (ImageFile); the labels are read.
inline MnistFiles open_mnist_rows(const ParsedArgs& args) {
  MnistFiles files = open_mnist(args.get("data", default_mnist_dir()), rows_flag(args, "train-rows"),
                                rows_flag(args, "test-rows"));
  check_rows_flag(args, "train-rows", files.train.images.count());
  check_rows_flag(args, "test-rows", files.test.images.count());
  return files;
}

}  // namespace dagrad
