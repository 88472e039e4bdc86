// Shared by the tutorial's programs (docs/tutorial.md): lets the test suite run
// them on a few thousand rows instead of all of MNIST.
//   DAGRAD_TUTORIAL_ROWS=2000 build/examples/tutorial/03_train
#pragma once

#include <dagrad/io/idx.hpp>

#include <cstdlib>
#include <string>

namespace tutorial {

inline void keep_first(dagrad::Dataset& d, std::size_t rows) {
  if (rows >= d.images.count) return;
  d.images.count = rows;
  d.images.pixels.resize(rows * d.images.features());
  d.labels.resize(rows);
}

// Keeps the first $DAGRAD_TUTORIAL_ROWS training and test rows, when it is set.
inline void shorten_for_tests(dagrad::Mnist& mnist) {
  const char* rows = std::getenv("DAGRAD_TUTORIAL_ROWS");
  if (rows == nullptr || *rows == '\0') return;
  const std::size_t n = std::stoul(rows);
  keep_first(mnist.train, n);
  keep_first(mnist.test, n);
}

}  // namespace tutorial
