// Work inside one node (or one step) shared among the current arena's
// threads in numbered chunks: f(0), ..., f(count - 1), all done on return.
//   detail::parallel_chunks(blocks, [&](std::int64_t k) { rows(k * 64, ...); });
#pragma once

#include <oneapi/tbb/parallel_for.h>

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

}  // namespace dagrad::detail
