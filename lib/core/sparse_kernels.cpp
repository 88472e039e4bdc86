// The sparse route's inner loops on plain row-major arrays, built once for
// each instruction set the library can choose at run time (lib/meson.build
// compiles this file again with -march=x86-64-v3 and DAGRAD_ISA=avx2, and
// with -march=x86-64-v4 and DAGRAD_ISA=avx512, when the library is
// portable): each build's functions live in their own namespace.
// No Eigen here, and every function but the table has internal linkage, so
// no inline code of one build can stand in for another's.
//   C = A · B:   C[r, :] = sum over A[r, p] != 0 of A[r, p] · B[p, :]
//   C = Aᵀ · B:  C[p, :] = sum over A[r, p] != 0 of A[r, p] · B[r, :]
// Both keep a strip of a C row in SIMD registers while they walk the list of
// that row's terms: for A · B the nonzeros of A's row r (packed row by row),
// for Aᵀ · B those of A's column p (A's tiles transposed, then packed).
#include <dagrad/core/detail/sparse_kernels.hpp>

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

#ifndef DAGRAD_ISA
#define DAGRAD_ISA baseline
#endif

namespace dagrad::detail::DAGRAD_ISA {
namespace {

using Index = std::ptrdiff_t;



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

#ifdef DAGRAD_SPARSE_AVX2
// Packs the nonzero lanes of v (bit i of mask set for lane i) to the front
// of value + k, and the same lanes of lanes_index (each lane's column or row)
// to index + k; returns k plus their count.
inline Index pack_lanes(__m256 v, __m256i lanes_index, int mask, std::int32_t* index, float* value, Index k) {
  const __m256i order = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(packing()[at(mask)].data()));
  _mm256_storeu_ps(value + k, _mm256_permutevar8x32_ps(v, order));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(index + k), _mm256_permutevar8x32_epi32(lanes_index, order));
  return k + std::popcount(static_cast<unsigned>(mask));
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
      k = pack_lanes(v, _mm256_add_epi32(_mm256_set1_epi32(static_cast<std::int32_t>(j)), step), mask, column, value, k);
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

// Lists of terms, one per C row: list i holds the terms index[k], value[k]
// for k in [begin[i], end[i]), index increasing. C row i is the sum of
// value[k] · B[index[k], :] over list i, added one after another from zero.
template <class T>
struct Lists {
  std::vector<std::int32_t> index;
  std::vector<T> value;
  std::vector<Index> begin, end;
};

// For each strip of C's columns, B's rows are taken a block at a time, a
// block small enough to stay in the first-level cache, and every C row adds
// the terms of its list that fall in that block to its strip, kept in
// registers meanwhile. Walked list by list, B's rows would be read from the
// second-level cache once per term (the lesson's W1 has 784 rows, 157 KB;
// its dZ1, 200 rows, 40 KB: both more than the first level holds); a block
// is read from there once per task. The terms of a row are still added in
// list order from zero: the same bits as a list walked whole.
//
// Each block is first copied, its strip of every row padded with zeros to
// whole registers and aligned to them: read in place, rows of 50 floats
// (200 bytes) make half the loads straddle two cache lines (the copy
// measured faster: docs/benchmarks.md). The copy also keeps every
// read inside B.
//
// The n lists' sums are C's rows first, first + 1, ... of c (m columns);
// B is inner x m.
template <class T>
void sum_lists(const Lists<T>& lists, Index n, const T* b, Index inner, Index m, Index first, T* c_rows) {
  constexpr int L = lanes<T>;
  constexpr Index strip_width = strip_registers * L;
  // C's rows are summed in a copy padded to whole registers, so a strip's
  // spare lanes never land in the next row's partial sums.
  const Index stride = (m + L - 1) / L * L;
  thread_local std::vector<T> padded_sums;
  thread_local std::vector<Index> at_term;
  thread_local std::vector<T> block_copy;
  padded_sums.resize(at(n * stride));
  at_term.resize(at(n));
  // Plain pointers for the inner loop (the vectors would otherwise be
  // reloaded after every store).
  const std::int32_t* const index = lists.index.data();
  const T* const value = lists.value.data();
  const Index* const ends = lists.end.data();
  Index* const next = at_term.data();
  T* const sums = padded_sums.data();
  for (Index col0 = 0; col0 < m; col0 += strip_width) {
    const Index width = std::min(strip_width, m - col0);
    with_registers<T>(width, [&]<int NV>() {
      constexpr Index padded = NV * L;
      // As many B rows as fill about 24 KiB of strip, in equal blocks.
      const Index most = std::max<Index>(16, 24 * 1024 / (padded * Index{sizeof(T)}));
      const Index blocks = (inner + most - 1) / most;
      const Index block = (inner + blocks - 1) / blocks;
      block_copy.resize(at(block * padded + 32 / sizeof(T)));
      T* const rows = block_copy.data() + (-reinterpret_cast<std::uintptr_t>(block_copy.data()) % 32) / sizeof(T);
      std::copy_n(lists.begin.data(), n, next);
      for (Index k0 = 0; k0 < inner; k0 += block) {
        const Index count = std::min(block, inner - k0);
        for (Index p = 0; p < count; ++p) {
          std::copy_n(b + (k0 + p) * m + col0, width, rows + p * padded);
          std::fill(rows + p * padded + width, rows + (p + 1) * padded, T(0));
        }
        const auto last = static_cast<std::int32_t>(k0 + count);
        for (Index r = 0; r < n; ++r) {
          T* c = sums + r * stride + col0;
          Register<T> acc[NV];
          if (k0 == 0) {
            for (auto& x : acc) x = zero(T{});
          } else {
            for (int i = 0; i < NV; ++i) acc[i] = load(c + i * L);
          }
          Index k = next[r];
          const Index list_end = ends[r];
          for (; k < list_end && index[k] < last; ++k) {
            const T v = value[k];
            const T* row = rows + (index[k] - k0) * padded;
            for (int i = 0; i < NV; ++i) acc[i] = multiply_add(v, load(row + i * L), acc[i]);
          }
          next[r] = k;
          for (int i = 0; i < NV; ++i) store(c + i * L, acc[i]);
        }
      }
    });
  }
  for (Index r = 0; r < n; ++r) std::copy_n(sums + r * stride, m, c_rows + (first + r) * m);
}

// Rows [first, last) of C = A · B (A with `inner` columns, B inner x m):
// the rows' nonzeros are packed (CSR: columns and values, row after row),
// then summed by sum_lists.
template <class T>
void product_rows(const T* a, Index inner, const T* b, Index m, Index first, Index last, T* c) {
  const Index n = last - first;
  // Kept per thread and reused: packing into fresh memory each call would
  // cost more in page faults than the product.
  thread_local Lists<T> lists;
  lists.index.resize(at(n * inner + 8));
  lists.value.resize(at(n * inner + 8));
  lists.begin.resize(at(n));
  lists.end.resize(at(n));
  Index k = 0;
  for (Index r = 0; r < n; ++r) {
    lists.begin[at(r)] = k;
    k += pack(a + (first + r) * inner, inner, lists.index.data() + k, lists.value.data() + k);
    lists.end[at(r)] = k;
  }
  sum_lists(lists, n, b, inner, m, first, c);
}

#ifdef DAGRAD_SPARSE_AVX2
// Transposes eight rows of eight floats in registers: afterwards v[j] holds
// what was column j.
inline void transpose8(__m256 v[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
  const __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
  const __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
  const __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  v[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  v[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  v[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  v[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  v[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  v[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  v[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  v[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}
#endif

// Rows [first, last) of C = Aᵀ · B (columns of A; A is rows x inner, B
// rows x m), `first` a multiple of 8.
// The nonzeros of each column, with their rows, are listed in increasing
// row order, eight columns at a time (from 8x8 tiles transposed in
// registers, then packed as rows are; a tile of zeros is skipped whole);
// then sum_lists sums each C row from its column's list, reading B's rows:
// only loads and multiply-adds, where adding A's rows into C's rows one by
// one would load and store C for every nonzero.
template <class T>
void transposed_rows(const T* a, Index rows, Index inner, const T* b, Index m, Index first, Index last, T* c) {
  const Index n = last - first;
  const Index capacity = rows + 8;  // a packed register may write 8 past the count
  thread_local Lists<T> lists;
  lists.index.resize(at(n * capacity));
  lists.value.resize(at(n * capacity));
  lists.begin.resize(at(n));
  lists.end.resize(at(n));
  const T* const data = a;
  for (Index p0 = first; p0 < last; p0 += 8) {
    const Index g = std::min<Index>(8, last - p0);
    std::int32_t* const list_row = lists.index.data() + (p0 - first) * capacity;
    T* const list_value = lists.value.data() + (p0 - first) * capacity;
    Index count[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    Index r0 = 0;
#ifdef DAGRAD_SPARSE_AVX2
    if constexpr (std::is_same_v<T, float>) {
      if (g == 8) {
        const __m256i step = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        for (; r0 + 8 <= rows; r0 += 8) {
          __m256 v[8];
          int any = 0;
          for (int i = 0; i < 8; ++i) {
            v[i] = _mm256_loadu_ps(data + (r0 + i) * inner + p0);
            any |= _mm256_movemask_ps(_mm256_cmp_ps(v[i], _mm256_setzero_ps(), _CMP_NEQ_UQ));
          }
          if (any == 0) continue;
          transpose8(v);
          const __m256i tile_rows = _mm256_add_epi32(_mm256_set1_epi32(static_cast<std::int32_t>(r0)), step);
          for (int j = 0; j < 8; ++j) {
            const int mask = _mm256_movemask_ps(_mm256_cmp_ps(v[j], _mm256_setzero_ps(), _CMP_NEQ_UQ));
            if (mask == 0) continue;
            count[j] = pack_lanes(v[j], tile_rows, mask, list_row + j * capacity, list_value + j * capacity, count[j]);
          }
        }
      }
    }
#endif
    for (Index r = r0; r < rows; ++r) {  // the rest, branch-free as pack's tail
      const T* row = data + r * inner + p0;
      for (Index j = 0; j < g; ++j) {
        list_row[j * capacity + count[j]] = static_cast<std::int32_t>(r);
        list_value[j * capacity + count[j]] = row[j];
        count[j] += row[j] != T(0);
      }
    }
    for (Index j = 0; j < g; ++j) {
      lists.begin[at(p0 - first + j)] = (p0 - first + j) * capacity;
      lists.end[at(p0 - first + j)] = (p0 - first + j) * capacity + count[j];
    }
  }
  sum_lists(lists, n, b, rows, m, first, c);
}

}  // namespace

const SparseKernels& sparse_kernels() {
#if defined(__AVX512F__)
  static constexpr const char* isa = "AVX-512";
#elif defined(DAGRAD_SPARSE_AVX2)
  static constexpr const char* isa = "AVX2+FMA";
#else
  static constexpr const char* isa = "SSE2";
#endif
#define DAGRAD_STRING(x) #x
#define DAGRAD_NAME(x) DAGRAD_STRING(x)
  static const SparseKernels table{DAGRAD_NAME(DAGRAD_ISA), isa,
                                   {product_rows<float>, transposed_rows<float>},
                                   {product_rows<double>, transposed_rows<double>}};
  return table;
}

}  // namespace dagrad::detail::DAGRAD_ISA
