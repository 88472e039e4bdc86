// Per-thread scratch memory for kernels: taken in a frame, given back all
// at once when the frame ends. The same bytes then serve every kernel a
// thread runs, and a settled training step asks the allocator for nothing.
//   detail::Scratch scratch;
//   T* sums = scratch.take<T>(n);                // uninitialized, 64-byte aligned
//   auto y = scratch.matrix<T>(rows, cols);      // an Eigen::Map over such memory
//
// Why frames on a stack, and not a thread_local buffer per kernel: a kernel
// that waits in a parallel_for may run other tasks on its thread meanwhile
// (oneTBB lets a waiting thread take work), among them another node's run
// of the same kernel. A thread_local buffer held across the wait would be
// shared by the two; a frame is not: whatever the thread runs during the
// wait opens its frames above the waiting one and closes them before the
// wait returns. Memory taken in a frame stays put until the frame ends,
// whatever is taken after it, so other threads may write into it (a
// parallel_for's blocks filling their parts of a sum).
#pragma once

#include <dagrad/core/tensor.hpp>

#include <cstddef>

namespace dagrad::detail {

class Scratch {
 public:
  Scratch() noexcept;
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // `bytes` of this thread's scratch, 64-byte aligned and uninitialized,
  // until this frame ends. Only on the thread that opened the frame.
  void* take_bytes(std::size_t bytes);

  template <class T>
  T* take(Dim count) {
    return static_cast<T*>(take_bytes(static_cast<std::size_t>(count) * sizeof(T)));
  }

  // A rows × cols row-major matrix over scratch memory (uninitialized).
  template <class T>
  Eigen::Map<Matrix<T>, Eigen::Aligned64> matrix(Dim rows, Dim cols) {
    return Eigen::Map<Matrix<T>, Eigen::Aligned64>(take<T>(rows * cols), rows, cols);
  }

 private:
  std::size_t chunk_, used_;  // where this thread's arena stood when the frame opened
};

// The bytes the calling thread's arena holds, taken or not.
std::size_t scratch_bytes();

// Gives every thread's arena back to the allocator: the calling thread's at
// once (unless it has a frame open), each other thread's when it next opens
// a frame with none open, so no thread frees memory another is using.
// Executor::trim() calls it, and a run whose planned values need less than
// half of the arena it had: scratch, too, follows the batch.
void release_scratch();

}  // namespace dagrad::detail
