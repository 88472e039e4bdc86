// The flags of every program that reads MNIST (mnist_mlp, lenet, the
// autoencoder, grid_search, the playground, lesson_pictures): where the
// files are and how many rows of each set to read, as load_mnist_rows
// (mnist_training.hpp) reads them.
//   add_mnist_flags(parser);  // --data, --train-rows, --test-rows
#pragma once

#include <dagrad/cli/cli.hpp>

namespace dagrad {

// --data, --train-rows and, unless the program reads the whole test set,
// --test-rows.
inline void add_mnist_flags(ArgParser& p, bool test_rows = true) {
  p.add("data", "DIR", "folder with the four MNIST IDX files (default $DAGRAD_DATA or ~/.cache/dagrad/mnist)");
  p.add("train-rows", "N", "train on the first N training images only (default all, 60000 in MNIST)");
  if (test_rows) p.add("test-rows", "N", "test on the first N test images only (default all, 10000 in MNIST)");
}

}  // namespace dagrad
