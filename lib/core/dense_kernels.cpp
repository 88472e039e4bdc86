// Eigen's matrix product and two element loops over plain arrays, built once per
// instruction set the library can choose at run time (lib/meson.build
// compiles this file again with -march=x86-64-v3 and -v4 when the library is
// portable; DAGRAD_ISA names each build's namespace).
//
// Eigen picks its SIMD width when it is compiled, and its templates carry
// no trace of it in their names: two builds in one library would share one
// copy of, say, general_matrix_matrix_product::run, and the linker would
// keep the first (SSE2) for all. So each build renames Eigen's namespace
// before including it (the macro below), and its whole Eigen is its own.
// Nothing of Eigen crosses this file's interface, only pointers and sizes.
#ifndef DAGRAD_ISA
#define DAGRAD_ISA baseline
#endif
#define DAGRAD_CONCAT_(a, b) a##b
#define DAGRAD_CONCAT(a, b) DAGRAD_CONCAT_(a, b)
#define Eigen DAGRAD_CONCAT(dagrad_eigen_, DAGRAD_ISA)

#include <Eigen/Core>

#include <dagrad/core/detail/dense_kernels.hpp>

namespace dagrad::detail::DAGRAD_ISA {
namespace {

template <class T>
using Rows = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using In = Eigen::Map<const Rows<T>>;

template <class T>
void product(const T* a, std::ptrdiff_t a_rows, std::ptrdiff_t a_cols, bool ta, const T* b, std::ptrdiff_t b_rows,
             std::ptrdiff_t b_cols, bool tb, std::ptrdiff_t first, std::ptrdiff_t count, T* c) {
  const In<T> am(a, a_rows, a_cols), bm(b, b_rows, b_cols);
  Eigen::Map<Rows<T>> dst(c + first * (tb ? b_rows : b_cols), count, tb ? b_rows : b_cols);
  if (ta && tb) {
    dst.noalias() = am.middleCols(first, count).transpose() * bm.transpose();
  } else if (ta) {
    dst.noalias() = am.middleCols(first, count).transpose() * bm;
  } else if (tb) {
    dst.noalias() = am.middleRows(first, count) * bm.transpose();
  } else {
    dst.noalias() = am.middleRows(first, count) * bm;
  }
}

template <class T>
using Strided = Eigen::Map<const Rows<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

template <class T>
void block_product(const T* a, std::ptrdiff_t lda, bool ta, const T* b, std::ptrdiff_t ldb, bool tb,
                   std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, T* c, std::ptrdiff_t ldc) {
  // A stored block is op(A) transposed where ta says: k x m then, else m x k.
  const Strided<T> am(a, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
  const Strided<T> bm(b, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
  Eigen::Map<Rows<T>, Eigen::Unaligned, Eigen::OuterStride<>> dst(c, m, n, Eigen::OuterStride<>(ldc));
  if (ta && tb) {
    dst.noalias() = am.transpose() * bm.transpose();
  } else if (ta) {
    dst.noalias() = am.transpose() * bm;
  } else if (tb) {
    dst.noalias() = am * bm.transpose();
  } else {
    dst.noalias() = am * bm;
  }
}

template <class T>
using Elements = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

template <class T>
T sum_squares(const T* x, std::ptrdiff_t n) {
  return Elements<T>(x, n).square().sum();
}

template <class T>
void scale(const T* x, T factor, T* out, std::ptrdiff_t n) {
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(out, n) = Elements<T>(x, n) * factor;
}

}  // namespace

const DenseTable& dense_kernels() {
  static const DenseTable table{{product<float>, block_product<float>, sum_squares<float>, scale<float>},
                                {product<double>, block_product<double>, sum_squares<double>, scale<double>}};
  return table;
}

}  // namespace dagrad::detail::DAGRAD_ISA
