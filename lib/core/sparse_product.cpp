// The sparse route of matmul: decides whether A is sparse enough, sizes C,
// shares C's rows among tasks, and runs the inner loops of the instruction
// set this CPU has (lib/core/sparse_kernels.cpp, built once per set).
#include <dagrad/core/detail/isa.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/detail/sparse_kernels.hpp>
#include <dagrad/core/detail/sparse_product.hpp>

#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace dagrad::detail {

namespace {

const SparseKernels& sparse_kernels_for(Isa isa) { return DAGRAD_ISA_BUILD(isa, sparse_kernels); }

}  // namespace

const std::vector<const SparseKernels*>& sparse_kernel_tables() {
  static const std::vector<const SparseKernels*> tables = [] {
    std::vector<const SparseKernels*> t;
    for (Isa isa : isas_available()) t.push_back(&sparse_kernels_for(isa));
    return t;
  }();
  return tables;
}

const SparseKernels& sparse_kernels_in_use() {
  static const SparseKernels& chosen = sparse_kernels_for(isa_in_use());
  return chosen;
}

namespace {

using Index = Eigen::Index;

template <class T>
const SparseRowKernels<T>& kernels_for() {
  if constexpr (std::is_same_v<T, float>) {
    return sparse_kernels_in_use().f32;
  } else {
    return sparse_kernels_in_use().f64;
  }
}

// Whether A looks sparse enough to pay, judged from up to 32 rows spread
// over it (a full count would cost a fifth of the product it decides on).
template <class T>
bool looks_sparse(const ConstView<T>& a) {
  const Index step = std::max<Index>(1, a.rows() / 32);
  Index seen = 0, nonzeros = 0;
  for (Index r = 0; r < a.rows(); r += step) {
    const T* p = a.data() + r * a.cols();
    for (Index j = 0; j < a.cols(); ++j) nonzeros += p[j] != T(0);
    seen += a.cols();
  }
  return double(nonzeros) <= sparse_density_limit * double(seen);
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
bool sparse_product(const ConstView<T>& a, bool transpose_a, const ConstView<T>& b, View<T> out) {
  const Index m = b.cols();
  if (a.size() == 0 || m == 0 || a.rows() > INT32_MAX || a.cols() > INT32_MAX) return false;
  if (!looks_sparse(a)) return false;
  // An estimate for choosing between one thread and many, never a result.
  const double flops = 2.0 * sparse_density_limit * double(a.size()) * double(m);
  // Each C row's sum order is fixed, so how the rows are cut among tasks
  // changes no bit: the cut follows the threads.
  const Index tasks = std::max<Index>(1, tbb::this_task_arena::max_concurrency());

  if (!transpose_a) {
    const auto product = kernels_for<T>().product;
    share_rows(a.rows(), flops, std::max<Index>(8, (a.rows() + tasks - 1) / tasks), [&](Index first, Index last) {
      product(a.data(), a.cols(), b.data(), m, first, last, out.data());
    });
    return true;
  }

  // C = Aᵀ B: C's rows (A's columns) shared in whole groups of eight, up to
  // four chunks a thread, so a thread that starts late still finds work.
  const Index groups = (a.cols() + 7) / 8;
  const auto transposed = kernels_for<T>().transposed;
  share_rows(a.cols(), flops, (groups + 4 * tasks - 1) / (4 * tasks) * 8, [&](Index first, Index last) {
    transposed(a.data(), a.rows(), a.cols(), b.data(), m, first, last, out.data());
  });
  return true;
}

template bool sparse_product<float>(const ConstView<float>&, bool, const ConstView<float>&, View<float>);
template bool sparse_product<double>(const ConstView<double>&, bool, const ConstView<double>&, View<double>);

}  // namespace dagrad::detail
