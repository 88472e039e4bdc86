// The optimizers' per-element updates as a table of plain functions, one
// table per instruction set (lib/nn/update_kernels.cpp is compiled once per
// set, like the core's sparse kernels); optim.cpp takes the table of
// detail::isa_in_use(). Each call updates elements [0, n) of its arrays.
//   update_kernels<float>().adam(w, g, m, v, n, {.beta_1 = ...});
#pragma once

#include <dagrad/core/detail/isa.hpp>

#include <cstdint>

namespace dagrad::nn::detail {

template <class T>
struct SgdStep {
  T momentum, step;  // velocity = momentum · velocity - step · g
  bool nesterov;     // w += momentum · velocity - step · g, else w += velocity
};

template <class T>
struct AdamStep {
  T beta_1, beta_2, step, epsilon;  // step: the learning rate with the bias correction
  T shrink;                         // AdamW's decoupled decay: w *= shrink first
  bool decoupled;
};

template <class T>
struct UpdateKernels {
  void (*sgd)(T* w, const T* g, T* velocity, std::int64_t n, SgdStep<T> s);
  void (*adam)(T* w, const T* g, T* m, T* v, std::int64_t n, AdamStep<T> s);
};

using UpdateTable = dagrad::detail::TypedKernels<UpdateKernels>;
DAGRAD_ISA_BUILDS(UpdateTable, update_kernels)

// The table of one instruction set this library carries.
const UpdateTable& update_kernels_for(dagrad::detail::Isa isa);

template <class T>
const UpdateKernels<T>& update_kernels() {
  static const UpdateTable& table = update_kernels_for(dagrad::detail::isa_in_use());
  if constexpr (sizeof(T) == sizeof(float)) {
    return table.f32;
  } else {
    return table.f64;
  }
}

}  // namespace dagrad::nn::detail
