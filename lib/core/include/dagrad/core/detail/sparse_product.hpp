// Products whose left factor is mostly zeros (pixel batches, ReLU outputs):
// only the nonzeros of op(A) are multiplied, row by row. Used by matmul.
//   if (!detail::sparse_product(a, transpose_a, b, out)) out = op(a) * b;
#pragma once

#include <dagrad/core/tensor.hpp>

namespace dagrad::detail {

// At or below this share of nonzeros in A (judged from sampled rows) the
// sparse route is taken. At the lesson's shapes and 10-20% nonzero (a real
// MNIST batch has 19%) the sparse products measured clearly faster than
// Eigen's GEMM, and about level with it near 50%: 25% keeps a clear margin
// (figures: docs/benchmarks.md).
inline constexpr double sparse_density_limit = 0.25;

// out = op(A) · B, with op(A) = Aᵀ when transpose_a, when A holds few enough
// nonzeros to pay (returns false, out untouched, otherwise). B is never
// transposed here. Each element of out is the sum over the nonzeros of its
// row of op(A), in increasing column order: one fixed order whatever the
// thread count, so results are bit-identical on 1 or many threads, however
// the rows are shared among tasks (that follows the thread count).
// A zero of A is skipped, not multiplied: 0 · inf contributes 0 here.
template <class T>
bool sparse_product(const ConstView<T>& a, bool transpose_a, const ConstView<T>& b, View<T> out);

}  // namespace dagrad::detail
