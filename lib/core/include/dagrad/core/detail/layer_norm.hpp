// What layer_norm and its backward ops share: sums along a row in a fixed
// order, a row's mean and 1/standard deviation, and the build-time checks.
//   const detail::RowMoments<T> m = detail::row_moments(x.row(r).data(), x.cols(), T(eps));
#pragma once

#include <dagrad/core/error.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/core/tensor.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <string_view>

namespace dagrad::detail {

// sum_j term(j) for j in [0, n), in the kernel's type T: term j goes to
// running lane j mod 32, and the lanes are then added as a tree (lane l and
// l + 16, then l and l + 8, ...): an order fixed by n alone, so a row's sum
// is the same bits wherever and on whichever thread it is computed. The
// lanes are independent chains the compiler keeps in vector registers.
template <class T, class Term>
T lane_sum(Dim n, const Term& term) {
  constexpr Dim lanes = 32;
  T acc[lanes] = {};
  Dim j = 0;
  for (; j + lanes <= n; j += lanes) {
    for (Dim l = 0; l < lanes; ++l) acc[l] += term(j + l);
  }
  const Dim rest = n - j;  // fewer than `lanes`
  for (Dim l = 0; l < rest && l < lanes; ++l) acc[l] += term(j + l);
  for (Dim half = lanes / 2; half > 0; half /= 2) {
    for (Dim l = 0; l < half; ++l) acc[l] += acc[l + half];
  }
  return acc[0];
}

template <class T>
struct RowMoments {
  T mean;
  T rstd;  // 1 / sqrt(biased variance + eps)
};

// The mean of x[0..n) and 1/sqrt(var + eps), var = sum_j (x_j - mean)^2 / n
// (biased, as PyTorch's layer norm): two passes, so no large squares cancel.
template <class T>
RowMoments<T> row_moments(const T* x, Dim n, T eps) {
  const T mean = lane_sum<T>(n, [x](Dim j) { return x[j]; }) / static_cast<T>(n);
  const T squares = lane_sum<T>(n, [x, mean](Dim j) {
    const T d = x[j] - mean;
    return d * d;
  });
  return {mean, T(1) / std::sqrt(squares / static_cast<T>(n) + eps)};
}

// ShapeError unless x's width is known and `row` (gain, bias) is 1 x that width.
inline void check_layer_norm_row(Shape x, Shape row, std::string_view what) {
  if (x.cols == batch) throw ShapeError("the width of x must be known, not " + to_string(x));
  if (row != Shape{1, x.cols}) {
    throw ShapeError(std::string(what) + " must be 1x" + std::to_string(x.cols) + ", one value a column of x, not " +
                     to_string(row));
  }
}

// GraphError unless eps is a positive finite number: the op of `key` on x.
inline void check_layer_norm_eps(const LayerNormOptions& options, std::string_view key, const Node& x) {
  if (options.eps > 0 && std::isfinite(options.eps)) return;
  std::ostringstream s;
  s << key << " of '" << x.name() << "': eps must be a positive number, not " << options.eps;
  throw GraphError(s.str());
}

}  // namespace dagrad::detail
