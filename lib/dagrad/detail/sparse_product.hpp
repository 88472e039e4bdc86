// Products whose left factor is mostly zeros (pixel batches, ReLU outputs):
// only the nonzeros of op(A) are multiplied, row by row. Used by matmul.
//   if (!detail::sparse_product(a, transpose_a, b, out)) out = op(a) * b;
#pragma once

#include <dagrad/tensor.hpp>

namespace dagrad::detail {

// At or below this share of nonzeros in A the sparse route is taken. At the
// lesson's shapes (200x784 times 784x50, and its transpose) on this
// project's AVX2 machine, the sparse kernels ran about as fast as Eigen's
// GEMM at half the values nonzero and clearly faster at 30%; 25% keeps them
// a clear win (MNIST batches are 19% nonzero).
inline constexpr double sparse_density_limit = 0.25;

// out = op(A) · B, with op(A) = Aᵀ when transpose_a, when A holds few enough
// nonzeros to pay (returns false, out untouched, otherwise). B is never
// transposed here. Each element of out is the sum over the nonzeros of its
// row of op(A), in increasing column order: one fixed order whatever the
// thread count, so results are bit-identical on 1 or many threads. The
// rows are shared among tasks in blocks fixed by the shape alone.
// A zero of A is skipped, not multiplied: 0 · inf contributes 0 here.
template <class T>
bool sparse_product(const Matrix<T>& a, bool transpose_a, const Matrix<T>& b, Matrix<T>& out);

}  // namespace dagrad::detail
