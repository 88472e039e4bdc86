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

// Eigen's matrix product, less its allocations. For a product large enough
// for GEMM, Eigen packs blocks of the operands into two buffers sized to the
// caches (gemm_blocking_space) and allocates them afresh on every product:
// 39 of the 40 calls to the allocator an MLP training step made. Here they
// come from buffers each thread keeps and only grows (a few MiB at most:
// the blocks are sized to the caches). Everything else is Eigen's own: the
// same choice of path (GeneralMatrixMatrix.h: a coefficient loop for tiny
// products, GEMV for a vector, GEMM otherwise), the same block sizes, the
// same kernel; so the same bits.
template <class T>
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { Eigen::internal::aligned_free(data_); }
  T* at_least(std::ptrdiff_t n) {
    if (n > size_) {
      Eigen::internal::aligned_free(data_);
      data_ = nullptr;  // should the allocation throw
      data_ = static_cast<T*>(Eigen::internal::aligned_malloc(std::size_t(n) * sizeof(T)));
      size_ = n;
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  std::ptrdiff_t size_ = 0;
};

// Eigen's blocking for a row-major result, its two buffers this thread's.
template <class T>
class KeptBlocking
    : public Eigen::internal::gemm_blocking_space<Eigen::RowMajor, T, T, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic> {
 public:
  KeptBlocking(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth)
      : Eigen::internal::gemm_blocking_space<Eigen::RowMajor, T, T, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic>(
            rows, cols, depth, 1, true) {
    thread_local Scratch<T> a, b;
    this->m_blockA = a.at_least(this->mc() * this->kc());
    this->m_blockB = b.at_least(this->kc() * this->nc());
  }
  KeptBlocking(const KeptBlocking&) = delete;
  KeptBlocking& operator=(const KeptBlocking&) = delete;
  // The buffers are the thread's: Eigen's destructor must not free them.
  ~KeptBlocking() { this->m_blockA = this->m_blockB = nullptr; }
};

// dst = lhs * rhs as Eigen computes `dst.noalias() = lhs * rhs` (dst
// row-major), GEMM's buffers kept (GeneralMatrixMatrix.h's evalTo and
// scaleAndAddTo, restated with KeptBlocking).
template <class Dst, class Lhs, class Rhs>
void multiply(Dst& dst, const Lhs& lhs, const Rhs& rhs) {
  namespace internal = Eigen::internal;
  using T = typename Dst::Scalar;
  const Eigen::Index m = dst.rows(), n = dst.cols(), k = lhs.cols();
  if (k == 0 || m <= 1 || n <= 1 || k + m + n < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD) {
    dst.noalias() = lhs * rhs;  // Eigen's own paths for tiny products and vectors
    return;
  }
  using LhsTraits = internal::blas_traits<Lhs>;
  using RhsTraits = internal::blas_traits<Rhs>;
  using LhsPlain = typename internal::remove_all<typename LhsTraits::DirectLinearAccessType>::type;
  using RhsPlain = typename internal::remove_all<typename RhsTraits::DirectLinearAccessType>::type;
  using Gemm = internal::general_matrix_matrix_product<
      Eigen::Index, T, (LhsPlain::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor,
      bool(LhsTraits::NeedToConjugate), T, (RhsPlain::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor,
      bool(RhsTraits::NeedToConjugate), Eigen::RowMajor, Dst::InnerStrideAtCompileTime>;
  using Functor = internal::gemm_functor<T, Eigen::Index, Gemm, LhsPlain, RhsPlain, Dst, KeptBlocking<T>>;
  static_assert(Dst::Flags & Eigen::RowMajorBit);
  dst.setZero();
  const auto& a = LhsTraits::extract(lhs);
  const auto& b = RhsTraits::extract(rhs);
  const T alpha = internal::combine_scalar_factors(T(1), lhs, rhs);
  KeptBlocking<T> blocking(m, n, k);
  internal::parallelize_gemm<true>(Functor(a, b, dst, alpha, blocking), m, n, k, true);
}

template <class T>
void product(const T* a, std::ptrdiff_t a_rows, std::ptrdiff_t a_cols, bool ta, const T* b, std::ptrdiff_t b_rows,
             std::ptrdiff_t b_cols, bool tb, std::ptrdiff_t first, std::ptrdiff_t count, T* c) {
  const In<T> am(a, a_rows, a_cols), bm(b, b_rows, b_cols);
  Eigen::Map<Rows<T>> dst(c + first * (tb ? b_rows : b_cols), count, tb ? b_rows : b_cols);
  if (ta && tb) {
    multiply(dst, am.middleCols(first, count).transpose(), bm.transpose());
  } else if (ta) {
    multiply(dst, am.middleCols(first, count).transpose(), bm);
  } else if (tb) {
    multiply(dst, am.middleRows(first, count), bm.transpose());
  } else {
    multiply(dst, am.middleRows(first, count), bm);
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
    multiply(dst, am.transpose(), bm.transpose());
  } else if (ta) {
    multiply(dst, am.transpose(), bm);
  } else if (tb) {
    multiply(dst, am, bm.transpose());
  } else {
    multiply(dst, am, bm);
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
