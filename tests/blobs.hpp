// What the tests that train a classifier on toy data share (ml's MLP and
// grid search, the model files): three Gaussian blobs in 2-D, one a class,
// and an MLPClassifier that prints nothing.
//   const testing::Blobs b = testing::blobs(300, 1);
//   MLPClassifier m = testing::quiet({.hidden_layer_sizes = {16}});
#pragma once

#include <dagrad/dagrad.hpp>

#include <random>
#include <sstream>
#include <vector>

namespace dagrad::testing {

struct Blobs {
  Matrix<double> X;
  std::vector<int> y;
};

// n points, row i of class i % 3, labelled 3, 5 and 7, around (0, 3),
// (3, -1) and (-3, -1) with noise of standard deviation `spread`: far apart
// at the default 0.5, so a 20-unit layer at learning rate 0.01 separates
// them, while one ReLU unit cannot (it sees one projection, half cut to 0).
inline Blobs blobs(int n, unsigned seed, double spread = 0.5) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, spread);
  const double centers[3][2] = {{0, 3}, {3, -1}, {-3, -1}};
  const int labels[3] = {3, 5, 7};
  Blobs b{Matrix<double>(n, 2), std::vector<int>(std::size_t(n))};
  for (int i = 0; i < n; ++i) {
    const int c = i % 3;
    b.X(i, 0) = centers[c][0] + noise(rng);
    b.X(i, 1) = centers[c][1] + noise(rng);
    b.y[std::size_t(i)] = labels[c];
  }
  return b;
}

// An MLPClassifier whose verbose lines and warnings go nowhere.
inline MLPClassifier quiet(MLPParams p) {
  static std::ostringstream sink;
  MLPClassifier m(std::move(p));
  m.set_output(&sink, &sink);
  return m;
}

}  // namespace dagrad::testing
