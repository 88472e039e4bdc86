// Eigen's code on plain arrays as a table of functions, one table per
// instruction set (lib/core/dense_kernels.cpp is compiled once per set, like the
// sparse kernels): Eigen's SIMD width is fixed when it is compiled, so a
// portable library builds these for SSE2, AVX2 and AVX-512. matmul's dense
// route, attention's per-head products, and the hot element loops of an L2
// penalty (sum_squares, and the product of a matrix with one number: mul by
// a 1x1, scale).
//   detail::dense_kernels<float>().product(a, 200, 50, false, b, 50, 10, false, 0, 200, c);
#pragma once

#include <dagrad/core/detail/isa.hpp>

#include <cstddef>

namespace dagrad::detail {

template <class T>
struct DenseKernels {
  // Rows [first, first + count) of C = op(A) · op(B), op transposing where
  // ta / tb say. A is a_rows x a_cols and B b_rows x b_cols, both row-major
  // and dense; C is row-major with op(B)'s columns, and only its rows
  // [first, first + count) are written.
  void (*product)(const T* a, std::ptrdiff_t a_rows, std::ptrdiff_t a_cols, bool ta, const T* b,
                  std::ptrdiff_t b_rows, std::ptrdiff_t b_cols, bool tb, std::ptrdiff_t first,
                  std::ptrdiff_t count, T* c);
  // C = op(A) · op(B) on blocks inside larger row-major matrices: op(A) is
  // m x k, op(B) k x n and C m x n, and lda, ldb, ldc are the distances
  // between the starts of consecutive stored rows of A, B and C (so a head's
  // columns of a wide matrix are used where they lie, without a copy).
  void (*block_product)(const T* a, std::ptrdiff_t lda, bool ta, const T* b, std::ptrdiff_t ldb, bool tb,
                        std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, T* c, std::ptrdiff_t ldc);
  // Σ x[i]², Eigen's reduction (x 64-byte aligned, as Matrix storage is).
  T (*sum_squares)(const T* x, std::ptrdiff_t n);
  // out[i] = x[i] · factor.
  void (*scale)(const T* x, T factor, T* out, std::ptrdiff_t n);
};

using DenseTable = TypedKernels<DenseKernels>;
DAGRAD_ISA_BUILDS(DenseTable, dense_kernels)

// The table of isa_in_use() (detail/isa.hpp).
const DenseTable& dense_table_in_use();

template <class T>
const DenseKernels<T>& dense_kernels() {
  if constexpr (sizeof(T) == sizeof(float)) {
    return dense_table_in_use().f32;
  } else {
    return dense_table_in_use().f64;
  }
}

}  // namespace dagrad::detail
