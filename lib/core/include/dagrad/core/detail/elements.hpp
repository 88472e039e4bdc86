// Element-wise kernels over a value's storage, shared among threads when
// large (detail::parallel_elements); the executor has sized `out`:
//   detail::parallel_elements(out.size(), [&](auto first, auto n) {
//     detail::elements(out, first, n) = detail::elements(x, first, n).square(); });
#pragma once

#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/tensor.hpp>

#include <cstdint>

namespace dagrad::detail {

// Elements [first, first + count) of m's storage as a column array.
template <class T>
Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> elements(View<T>& m, std::int64_t first, std::int64_t count) {
  return {m.data() + first, count};
}
template <class T>
Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> elements(const ConstView<T>& m, std::int64_t first,
                                                              std::int64_t count) {
  return {m.data() + first, count};
}

// out = f(x), element by element, for f a function of an Eigen array: the
// loop of the elementwise op families (lib/core/include/dagrad/core/op_family.hpp), and so of
// scale and of mul by a 1x1.
template <class T, class F>
void map_elements(const ConstView<T>& x, const F& f, View<T> out) {
  parallel_elements(out.size(), [&](auto first, auto n) { elements(out, first, n) = f(elements(x, first, n)); });
}

// out = x · factor, shared among threads as map_elements does, by the loop
// of the instruction set this process runs (Eigen's, built per set): the
// element loop of scale and of mul by a 1x1.
void scale_elements(const ConstView<float>& x, float factor, View<float> out);
void scale_elements(const ConstView<double>& x, double factor, View<double> out);
// out[0, n) = x[0, n) · factor by the same loop, on one thread: a block of
// scale_elements' work (x and out on 64-byte boundaries).
void scale_range(const float* x, float factor, float* out, std::int64_t n);
void scale_range(const double* x, double factor, double* out, std::int64_t n);

}  // namespace dagrad::detail
