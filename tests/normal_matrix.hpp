// A matrix of normally distributed values from a seed, for tests that need
// varied inputs or parameters: the same seed gives the same values.
//   const Matrix<double> X = normal_matrix(6, 8, 1);
//   const Matrix<float> W = normal_matrix<float>(400, 120, 3);
#pragma once

#include <dagrad/core/tensor.hpp>

#include <random>
#include <type_traits>

// rows x cols draws from N(mean, sd), row by row.
template <class T = double>
dagrad::Matrix<T> normal_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed,
                                std::type_identity_t<T> mean = 0, std::type_identity_t<T> sd = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<T> draw(mean, sd);
  dagrad::Matrix<T> m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = draw(rng);
  return m;
}
