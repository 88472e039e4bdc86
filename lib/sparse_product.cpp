// The sparse route of matmul. Each row of A is first packed into the list
// of its nonzeros (column and value); then
//   C = A · B:   C[r, :] = sum over A[r, p] != 0 of A[r, p] · B[p, :]
//   C = Aᵀ · B:  C[p, :] = sum over A[r, p] != 0 of A[r, p] · B[r, :]
// The first keeps a strip of C's row in SIMD registers while it walks the
// row's nonzeros; the second keeps a strip of B's row in registers and adds
// it into every C row that row r's nonzeros name.
#include <dagrad/detail/sparse_product.hpp>
#include <dagrad/detail/parallel.hpp>

#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <type_traits>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define DAGRAD_SPARSE_AVX2 1
#endif

namespace dagrad::detail {
namespace {

using Index = Eigen::Index;

#ifdef DAGRAD_SPARSE_AVX2
// Values per 32-byte register, and the few things a strip does with one.
// (Masked loads and stores would handle a strip's ragged end, but they are
// slow on AMD's cores; whole registers are used and the spare lanes dropped.)
template <class T>
constexpr int lanes = 32 / static_cast<int>(sizeof(T));
inline __m256 load(const float* p) { return _mm256_loadu_ps(p); }
inline __m256d load(const double* p) { return _mm256_loadu_pd(p); }
inline void store(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
inline void store(double* p, __m256d v) { _mm256_storeu_pd(p, v); }
inline __m256 zero(float) { return _mm256_setzero_ps(); }
inline __m256d zero(double) { return _mm256_setzero_pd(); }
inline __m256 multiply_add(float a, __m256 b, __m256 c) { return _mm256_fmadd_ps(_mm256_set1_ps(a), b, c); }
inline __m256d multiply_add(double a, __m256d b, __m256d c) { return _mm256_fmadd_pd(_mm256_set1_pd(a), b, c); }
#else
// Without AVX2 and FMA a "register" is one value; the compiler does the rest.
template <class T>
constexpr int lanes = 1;
template <class T> T load(const T* p) { return *p; }
template <class T> void store(T* p, T v) { *p = v; }
template <class T> T zero(T) { return T(0); }
template <class T> T multiply_add(T a, T b, T c) { return a * b + c; }
#endif

template <class T>
using Register = decltype(zero(T{}));

// Registers per strip: a strip of C (or of B) stays in registers, with room
// left for the operands.
constexpr int strip_registers = 7;

constexpr std::size_t at(Index i) { return static_cast<std::size_t>(i); }

// The nonzeros of one row of op(A): their columns and values.
template <class T>
struct SparseRow {
  const std::int32_t* column;
  const T* value;
  Index size;
};

// Room for the nonzeros of one row of n values, plus a register's slack.
template <class T>
struct PackedRow {
  explicit PackedRow(Index n) : column(at(n) + 8), value(at(n) + 8) {}
  std::vector<std::int32_t> column;
  std::vector<T> value;
  Index size = 0;
  SparseRow<T> view() const { return {column.data(), value.data(), size}; }
};

#ifdef DAGRAD_SPARSE_AVX2
// For each 8-bit mask, the lanes whose bits are set, in order: the
// permutation that packs those lanes to the front of a register.
inline const std::array<std::array<std::int32_t, 8>, 256>& packing() {
  static const auto table = [] {
    std::array<std::array<std::int32_t, 8>, 256> t{};
    for (int mask = 0; mask < 256; ++mask) {
      int to = 0;
      for (int lane = 0; lane < 8; ++lane) {
        if (mask & (1 << lane)) t[at(mask)][at(to++)] = lane;
      }
    }
    return t;
  }();
  return table;
}
#endif

// Packs the nonzeros of row[0, n) into `out`, in increasing column order.
template <class T>
Index pack(const T* __restrict row, Index n, std::int32_t* __restrict column, T* __restrict value) {
  Index k = 0, j = 0;
#ifdef DAGRAD_SPARSE_AVX2
  if constexpr (std::is_same_v<T, float>) {
    // Eight at a time: a permutation looked up from the nonzero lanes' bit
    // mask moves them to the front, and all eight are stored at once.
    const __m256i step = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (; j + 8 <= n; j += 8) {
      const __m256 v = _mm256_loadu_ps(row + j);
      const int mask = _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_UQ));
      if (mask == 0) continue;
      const __m256i order = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(packing()[at(mask)].data()));
      const __m256i columns = _mm256_add_epi32(_mm256_set1_epi32(static_cast<std::int32_t>(j)), step);
      _mm256_storeu_ps(value + k, _mm256_permutevar8x32_ps(v, order));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(column + k), _mm256_permutevar8x32_epi32(columns, order));
      k += std::popcount(static_cast<unsigned>(mask));
    }
  }
#endif
  for (; j < n; ++j) {  // branch-free: write always, advance past a nonzero
    column[k] = static_cast<std::int32_t>(j);
    value[k] = row[j];
    k += row[j] != T(0);
  }
  return k;
}

template <class T>
void pack(const T* row, Index n, PackedRow<T>& out) {
  out.size = pack(row, n, out.column.data(), out.value.data());
}

// Two rows of A side by side: the columns where either is nonzero, with
// both rows' values there (one of them may be zero).
template <class T>
struct PackedPair {
  explicit PackedPair(Index n) : column(at(n) + 8), first(at(n) + 8), second(at(n) + 8) {}
  std::vector<std::int32_t> column;
  std::vector<T> first, second;
  Index size = 0;
};

template <class T>
void pack_pair(const T* __restrict a, const T* __restrict b, Index n, PackedPair<T>& out) {
  std::int32_t* __restrict column = out.column.data();
  T* __restrict first = out.first.data();
  T* __restrict second = out.second.data();
  Index k = 0, j = 0;
#ifdef DAGRAD_SPARSE_AVX2
  if constexpr (std::is_same_v<T, float>) {
    const __m256i step = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (; j + 8 <= n; j += 8) {
      const __m256 va = _mm256_loadu_ps(a + j), vb = _mm256_loadu_ps(b + j);
      const __m256 either = _mm256_or_ps(_mm256_cmp_ps(va, _mm256_setzero_ps(), _CMP_NEQ_UQ),
                                         _mm256_cmp_ps(vb, _mm256_setzero_ps(), _CMP_NEQ_UQ));
      const int mask = _mm256_movemask_ps(either);
      if (mask == 0) continue;
      const __m256i order = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(packing()[at(mask)].data()));
      const __m256i columns = _mm256_add_epi32(_mm256_set1_epi32(static_cast<std::int32_t>(j)), step);
      _mm256_storeu_ps(first + k, _mm256_permutevar8x32_ps(va, order));
      _mm256_storeu_ps(second + k, _mm256_permutevar8x32_ps(vb, order));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(column + k), _mm256_permutevar8x32_epi32(columns, order));
      k += std::popcount(static_cast<unsigned>(mask));
    }
  }
#endif
  for (; j < n; ++j) {  // branch-free, as pack
    column[k] = static_cast<std::int32_t>(j);
    first[k] = a[j];
    second[k] = b[j];
    k += (a[j] != T(0)) | (b[j] != T(0));
  }
  out.size = k;
}

// Whether A looks sparse enough to pay, judged from up to 32 rows spread
// over it (a full count would cost a fifth of the product it decides on).
template <class T>
bool looks_sparse(const Matrix<T>& a) {
  const Index step = std::max<Index>(1, a.rows() / 32);
  Index seen = 0, nonzeros = 0;
  for (Index r = 0; r < a.rows(); r += step) {
    const T* p = a.data() + r * a.cols();
    for (Index j = 0; j < a.cols(); ++j) nonzeros += p[j] != T(0);
    seen += a.cols();
  }
  return double(nonzeros) <= sparse_density_limit * double(seen);
}

// B's rows read a whole register at a time: a strip's last register may
// reach past the row's end into the next rows (its spare lanes are never
// stored), but never past the matrix's end. Rows too near the end for that
// are read from a copy padded with zeros.
template <class T>
class Rows {
 public:
  explicit Rows(const Matrix<T>& b) : b_(b) {
    const Index m = b.cols();
    padded_ = (m + lanes<T> - 1) / lanes<T> * lanes<T>;
    // Row r may be read in place while (rows - r) * m >= padded.
    const Index reach = (padded_ + m - 1) / m;
    first_copied_ = std::max<Index>(0, b.rows() - reach + 1);
    tail_.assign(at((b.rows() - first_copied_) * padded_), T(0));
    for (Index r = first_copied_; r < b.rows(); ++r) {
      std::copy_n(b.data() + r * m, m, tail_.data() + (r - first_copied_) * padded_);
    }
  }
  const T* operator()(Index r, Index col0) const {
    if (r >= first_copied_) return tail(r, col0);
    return b_.data() + r * b_.cols() + col0;
  }
  // Rows from first_copied() on are read from the padded copy.
  Index first_copied() const { return first_copied_; }
  const T* data() const { return b_.data(); }
  const T* tail(Index r, Index col0) const { return tail_.data() + (r - first_copied_) * padded_ + col0; }

 private:
  const Matrix<T>& b_;
  Index padded_ = 0, first_copied_ = 0;
  std::vector<T> tail_;
};

// For one row r of A (its nonzeros in `a`, columns counted from the
// block's first) and C = Aᵀ · B: adds A[r, p] times B's row r, columns
// [col0, ...), into row p of the block c, whose rows are padded to whole
// registers.
template <class T, int NV>
void scatter_strip(SparseRow<T> a, const T* b_row, T* c, Index c_stride) {
  constexpr int L = lanes<T>;
  Register<T> from[NV];
  for (int i = 0; i < NV; ++i) from[i] = load(b_row + i * L);
  for (Index k = 0; k < a.size; ++k) {
    const T v = a.value[at(k)];
    T* row = c + Index{a.column[at(k)]} * c_stride;
    for (int i = 0; i < NV; ++i) store(row + i * L, multiply_add(v, from[i], load(row + i * L)));
  }
}

// Rows r and r + 1 of A at once, for C = Aᵀ · B: each C row their nonzeros
// name is loaded and stored once for both, adding row r's term, then row
// r + 1's (the order row by row would take; a zero of one row adds 0).
// Two MNIST images share about half their nonzero pixels, so this moves a
// quarter less data than row by row.
template <class T, int NV>
void pair_scatter_strip(const PackedPair<T>& a, const T* b_first, const T* b_second, T* c,
                        Index c_stride) {
  constexpr int L = lanes<T>;
  Register<T> from1[NV], from2[NV];
  for (int i = 0; i < NV; ++i) from1[i] = load(b_first + i * L);
  for (int i = 0; i < NV; ++i) from2[i] = load(b_second + i * L);
  for (Index k = 0; k < a.size; ++k) {
    const T v1 = a.first[at(k)], v2 = a.second[at(k)];
    T* row = c + Index{a.column[at(k)]} * c_stride;
    for (int i = 0; i < NV; ++i) {
      store(row + i * L, multiply_add(v2, from2[i], multiply_add(v1, from1[i], load(row + i * L))));
    }
  }
}

// Calls f.template operator()<NV>() with the fewest registers that hold
// `width` values.
template <class T, int NV = strip_registers, class F>
void with_registers(Index width, F&& f) {
  if constexpr (NV > 1) {
    if (width <= (NV - 1) * lanes<T>) {
      with_registers<T, NV - 1>(width, f);
      return;
    }
  }
  f.template operator()<NV>();
}

// Rows [first, last) of C = A · B. The rows' nonzeros are packed first
// (CSR: columns and values, row after row). Then, for each strip of C's
// columns, B's rows are taken a block at a time, a block small enough to
// stay in the first-level cache, and every row adds the terms of its
// nonzeros in that block to its strip, kept in registers meanwhile. Row by
// row, B's 784 rows of the lesson would be read from the second-level cache
// for every image; a block is read from there once per task.
// Each C element is still the sum over its row's nonzeros in increasing
// column order, added one after another from zero: the same bits as a row
// walked whole.
template <class T>
void product_rows(const Matrix<T>& a, const Rows<T>& b, Index first, Index last, Matrix<T>& out) {
  constexpr int L = lanes<T>;
  constexpr Index strip_width = strip_registers * L;
  const Index n = last - first, inner = a.cols(), m = out.cols();
  // Kept per thread and reused: packing into fresh memory each call would
  // cost more in page faults than the product.
  thread_local std::vector<std::int32_t> column;
  thread_local std::vector<T> value;
  thread_local std::vector<Index> start, at_column;
  thread_local std::vector<T> sums;
  column.resize(at(n * inner + 8));
  value.resize(at(n * inner + 8));
  start.resize(at(n + 1));
  at_column.resize(at(n));
  start[0] = 0;
  for (Index r = 0; r < n; ++r) {
    start[at(r + 1)] = start[at(r)] + pack(a.data() + (first + r) * inner, inner,
                                           column.data() + start[at(r)], value.data() + start[at(r)]);
  }
  // C's rows are summed in a copy padded to whole registers, so a strip's
  // spare lanes never land in the next row's partial sums.
  const Index stride = (m + L - 1) / L * L;
  sums.resize(at(n * stride));
  // Plain pointers for the inner loop (the thread_local vectors and b's
  // members would otherwise be reloaded after every store).
  const std::int32_t* const columns = column.data();
  const T* const values = value.data();
  const Index* const starts = start.data();
  Index* const next = at_column.data();
  const T* const b_data = b.data();
  const Index copied = b.first_copied();
  for (Index col0 = 0; col0 < m; col0 += strip_width) {
    const Index width = std::min(strip_width, m - col0);
    with_registers<T>(width, [&]<int NV>() {
      // As many B rows as fill about 24 KiB of strip, in equal blocks.
      const Index most = std::max<Index>(16, 24 * 1024 / (NV * 32));
      const Index blocks = (inner + most - 1) / most;
      const Index block = (inner + blocks - 1) / blocks;
      std::copy_n(starts, n, next);
      for (Index k0 = 0; k0 < inner; k0 += block) {
        const auto end = static_cast<std::int32_t>(std::min(inner, k0 + block));
        for (Index r = 0; r < n; ++r) {
          T* c = sums.data() + r * stride + col0;
          Register<T> acc[NV];
          if (k0 == 0) {
            for (auto& x : acc) x = zero(T{});
          } else {
            for (int i = 0; i < NV; ++i) acc[i] = load(c + i * L);
          }
          Index k = next[r];
          const Index row_end = starts[r + 1];
          for (; k < row_end && columns[k] < end; ++k) {
            const T v = values[k];
            const Index p = columns[k];
            const T* row = p < copied ? b_data + p * m + col0 : b.tail(p, col0);
            for (int i = 0; i < NV; ++i) acc[i] = multiply_add(v, load(row + i * L), acc[i]);
          }
          next[r] = k;
          for (int i = 0; i < NV; ++i) store(c + i * L, acc[i]);
        }
      }
    });
  }
  for (Index r = 0; r < n; ++r) std::copy_n(sums.data() + r * stride, m, out.data() + (first + r) * m);
}

// Runs body(first, last) over [0, n): on the calling thread when the work is
// small, else shared among tasks. Every row of the result is computed the
// same way however the range is cut, so the cut changes no bit.
template <class Body>
void share_rows(Index n, double flops, Index grain, Body&& body) {
  if (flops < 2e6) {
    body(Index{0}, n);
    return;
  }
  parallel_chunks((n + grain - 1) / grain, [&](std::int64_t chunk) {
    body(chunk * grain, std::min(n, (chunk + 1) * grain));
  });
}

}  // namespace

template <class T>
bool sparse_product(const Matrix<T>& a, bool transpose_a, const Matrix<T>& b, Matrix<T>& out) {
  const Index m = b.cols();
  if (a.size() == 0 || m == 0 || a.rows() > INT32_MAX || a.cols() > INT32_MAX) return false;
  if (!looks_sparse(a)) return false;
  constexpr Index strip_width = strip_registers * lanes<T>;
  const Rows<T> rows(b);
  // An estimate for choosing between one thread and many, never a result.
  const double flops = 2.0 * sparse_density_limit * double(a.size()) * double(m);

  if (!transpose_a) {
    out.resize(a.rows(), m);
    // Each row's sum order is fixed (increasing column), so how the rows
    // are cut among tasks changes no bit: the cut follows the threads.
    const Index tasks = std::max<Index>(1, tbb::this_task_arena::max_concurrency());
    share_rows(a.rows(), flops, std::max<Index>(8, (a.rows() + tasks - 1) / tasks),
               [&](Index first, Index last) { product_rows(a, rows, first, last, out); });
    return true;
  }

  // C = Aᵀ B, a block of C's rows at a time, small enough to stay in the
  // first-level cache: walk every row r of A in order, adding A[r, p] times
  // B's row r into C's row p for the block's columns p of A. Each C row is
  // thus summed in increasing r, however the blocks are shared out.
  // At most 64 rows a block, and as many blocks as make equal shares for
  // the threads (784 rows on two threads: 14 blocks of 56, not 13 of 64).
  // How C's rows are cut changes no bit, as said above.
  const Index tasks = std::max<Index>(1, tbb::this_task_arena::max_concurrency());
  const Index blocks = ((a.cols() + 63) / 64 + tasks - 1) / tasks * tasks;
  const Index block_rows = (a.cols() + blocks - 1) / blocks;
  const Index stride = (m + lanes<T> - 1) / lanes<T> * lanes<T>;
  out.resize(a.cols(), m);
  share_rows(a.cols(), flops, block_rows, [&](Index first, Index last) {
    std::vector<T> block(at(block_rows * stride));
    PackedRow<T> packed(block_rows);
    PackedPair<T> pair(block_rows);
    constexpr int pair_registers = 4;
    constexpr Index pair_width = pair_registers * lanes<T>;
    for (Index p0 = first; p0 < last; p0 += block_rows) {
      const Index n = std::min(block_rows, last - p0);
      std::fill(block.begin(), block.end(), T(0));
      Index r = 0;
      for (; r + 1 < a.rows(); r += 2) {
        pack_pair(a.data() + r * a.cols() + p0, a.data() + (r + 1) * a.cols() + p0, n, pair);
        if (pair.size == 0) continue;
        for (Index col0 = 0; col0 < m; col0 += pair_width) {
          with_registers<T, pair_registers>(std::min(pair_width, m - col0), [&]<int NV>() {
            pair_scatter_strip<T, NV>(pair, rows(r, col0), rows(r + 1, col0), block.data() + col0, stride);
          });
        }
      }
      if (r < a.rows()) {  // an odd last row
        pack(a.data() + r * a.cols() + p0, n, packed);
        for (Index col0 = 0; col0 < m && packed.size > 0; col0 += strip_width) {
          with_registers<T>(std::min(strip_width, m - col0), [&]<int NV>() {
            scatter_strip<T, NV>(packed.view(), rows(r, col0), block.data() + col0, stride);
          });
        }
      }
      for (Index p = 0; p < n; ++p) std::copy_n(block.data() + p * stride, m, out.data() + (p0 + p) * m);
    }
  });
  return true;
}

template bool sparse_product<float>(const Matrix<float>&, bool, const Matrix<float>&, Matrix<float>&);
template bool sparse_product<double>(const Matrix<double>&, bool, const Matrix<double>&, Matrix<double>&);

}  // namespace dagrad::detail
