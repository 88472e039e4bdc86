// Happens-before edges for ThreadSanitizer where oneTBB makes them. Debian's
// libtbb is not built for TSan, so the ordering its task scheduler gives
// (a flow-graph node runs after its predecessors; parallel_for returns after
// its bodies) is invisible and every hand-off looks like a race. dagrad says
// each hand-off out loud: release(token) where a value is finished,
// acquire(token) where it is read. Both do nothing in other builds.
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace dagrad::tsan {

#if defined(__SANITIZE_THREAD__)
inline void release(const void* token) { __tsan_release(const_cast<void*>(token)); }
inline void acquire(const void* token) { __tsan_acquire(const_cast<void*>(token)); }
#else
inline void release(const void*) {}
inline void acquire(const void*) {}
#endif

// release(token) when the scope ends, on every path out of a task.
struct ReleaseAtExit {
  const void* token;
  ~ReleaseAtExit() { release(token); }
};

}  // namespace dagrad::tsan
