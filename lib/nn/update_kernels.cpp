// The optimizers' per-element updates, plain loops the compiler vectorizes
// for the instruction set this file is built for: lib/meson.build compiles
// it once per set (DAGRAD_ISA names the namespace), with -fno-math-errno so
// that sqrt needs no errno check and vectorizes, and -ffp-contract=off so
// that no multiply and add fuse into one rounding. Each operation is the
// one the rule states, in the order it states it, and sqrt is correctly
// rounded, so every build gives the same bits on the same data.
#include "update_kernels.hpp"

#include <cmath>

#ifndef DAGRAD_ISA
#define DAGRAD_ISA baseline
#endif

namespace dagrad::nn::detail::DAGRAD_ISA {
namespace {

template <class T>
void sgd(T* __restrict w, const T* __restrict g, T* __restrict velocity, std::int64_t n, SgdStep<T> s) {
  const T mu = s.momentum, step = s.step;
  for (std::int64_t i = 0; i < n; ++i) velocity[i] = mu * velocity[i] - step * g[i];
  if (s.nesterov) {
    for (std::int64_t i = 0; i < n; ++i) w[i] += mu * velocity[i] - step * g[i];
  } else {
    for (std::int64_t i = 0; i < n; ++i) w[i] += velocity[i];
  }
}

template <class T>
void adam(T* __restrict w, const T* __restrict g, T* __restrict m, T* __restrict v, std::int64_t n,
          AdamStep<T> s) {
  const T b1 = s.beta_1, b2 = s.beta_2, c1 = T(1) - s.beta_1, c2 = T(1) - s.beta_2;
  const T step = s.step, eps = s.epsilon;
  if (s.decoupled) {
    for (std::int64_t i = 0; i < n; ++i) w[i] *= s.shrink;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + c1 * g[i];
    v[i] = b2 * v[i] + c2 * (g[i] * g[i]);
    w[i] -= step * m[i] / (std::sqrt(v[i]) + eps);
  }
}

}  // namespace

const UpdateTable& update_kernels() {
  static const UpdateTable table{{sgd<float>, adam<float>}, {sgd<double>, adam<double>}};
  return table;
}

}  // namespace dagrad::nn::detail::DAGRAD_ISA
