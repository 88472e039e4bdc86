// Work inside one node (or one step) shared among the current arena's
// threads in numbered chunks: f(0), ..., f(count - 1), all done on return.
//   detail::parallel_chunks(blocks, [&](std::int64_t k) { rows(k * 64, ...); });
#pragma once

#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cstdint>

namespace dagrad::detail {

// Callers give each chunk its own rows or elements, and fix the chunks by
// the shape alone, so no result depends on which thread ran which chunk.
//
// Under ThreadSanitizer the chunks run one after another on the calling
// thread. Debian's oneTBB is not built for TSan, and parallel_for's
// hand-offs happen in TBB code inlined into the caller, where neither an
// annotation (a task reads its captures before it could state anything) nor
// a suppression (inlined frames lose their namespace) can reach them. The
// chunks touch disjoint outputs by construction; what TSan checks is how
// nodes, training runs and grid searches share data, and those still run
// concurrently.
template <class F>
void parallel_chunks(std::int64_t count, const F& f) {
#if defined(__SANITIZE_THREAD__)
  for (std::int64_t k = 0; k < count; ++k) f(k);
#else
  tbb::parallel_for(std::int64_t{0}, count, [&f](std::int64_t k) { f(k); });
#endif
}

// Below this many elements one thread does a node's work: sharing costs
// more than it saves.
inline constexpr std::int64_t elements_alone = 32768;

// Element-wise work over [0, size): f(first, count) for each block. Under
// elements_alone one call does it all; above, an even number of blocks, each
// a whole number of 16-element groups, fixed by the size alone. Element-wise
// results do not depend on the cut.
template <class F>
void parallel_elements(std::int64_t size, const F& f) {
  constexpr std::int64_t alone = elements_alone, group = 16;
  if (size < alone) {
    f(std::int64_t{0}, size);
    return;
  }
  const std::int64_t blocks = (size + alone - 1) / alone * 2;
  const std::int64_t block = ((size + blocks - 1) / blocks + group - 1) / group * group;
  parallel_chunks((size + block - 1) / block, [&](std::int64_t k) {
    const std::int64_t first = k * block;
    f(first, std::min(block, size - first));
  });
}

// Row-wise work over the rows [0, rows) of a rows x cols matrix, for kernels
// whose rows are independent (layer_norm, cross_entropy): f(first, count)
// for each block of whole rows, cut as parallel_elements cuts elements, by
// the shape alone.
template <class F>
void parallel_rows(std::int64_t rows, std::int64_t cols, const F& f) {
  const std::int64_t size = rows * std::max<std::int64_t>(cols, 1);
  if (size < elements_alone || rows < 2) {
    f(std::int64_t{0}, rows);
    return;
  }
  const std::int64_t blocks = std::min(rows, (size + elements_alone - 1) / elements_alone * 2);
  const std::int64_t block = (rows + blocks - 1) / blocks;
  parallel_chunks((rows + block - 1) / block, [&](std::int64_t k) {
    const std::int64_t first = k * block;
    f(first, std::min(block, rows - first));
  });
}

}  // namespace dagrad::detail
