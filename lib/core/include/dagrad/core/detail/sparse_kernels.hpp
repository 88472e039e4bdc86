// The sparse route's inner loops as a table of plain functions, one table
// per instruction set the library was built for; sparse_product picks one at
// run time (kernel_isa() says which).
//   detail::sparse_kernels_in_use().f32.product(a, inner, b, m, 0, rows, c);
#pragma once

#include <dagrad/core/detail/isa.hpp>

#include <cstddef>
#include <vector>

namespace dagrad::detail {

template <class T>
struct SparseRowKernels {
  // Rows [first, last) of C = A · B: A has `inner` columns, B is inner x m,
  // C has m columns; all row-major and dense.
  void (*product)(const T* a, std::ptrdiff_t inner, const T* b, std::ptrdiff_t m, std::ptrdiff_t first,
                  std::ptrdiff_t last, T* c);
  // Rows [first, last) of C = Aᵀ · B, first a multiple of 8: A is rows x
  // inner, B is rows x m, C is inner x m.
  void (*transposed)(const T* a, std::ptrdiff_t rows, std::ptrdiff_t inner, const T* b, std::ptrdiff_t m,
                     std::ptrdiff_t first, std::ptrdiff_t last, T* c);
};

struct SparseKernels {
  const char* name;  // the build's namespace: "baseline", "avx2" or "avx512"
  const char* isa;   // what it was compiled for: SSE2, AVX2+FMA, AVX-512
  SparseRowKernels<float> f32;
  SparseRowKernels<double> f64;
};

// Each build of lib/core/sparse_kernels.cpp defines one, in its own namespace.
DAGRAD_ISA_BUILDS(SparseKernels, sparse_kernels)

// The table of each instruction set in isas_available() (detail/isa.hpp),
// baseline first, and the one of isa_in_use().
const std::vector<const SparseKernels*>& sparse_kernel_tables();
const SparseKernels& sparse_kernels_in_use();

}  // namespace dagrad::detail
