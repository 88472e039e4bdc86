// Element-wise kernels over a matrix's storage, shared among threads when
// large (detail::parallel_elements):
//   out.resize(x.rows(), x.cols());
//   detail::for_elements(out.size(), [&](auto first, auto n) {
//     detail::elements(out, first, n) = detail::elements(x, first, n) * 2; });
#pragma once

#include <dagrad/detail/parallel.hpp>
#include <dagrad/tensor.hpp>

#include <cstdint>

namespace dagrad::detail {

// Elements [first, first + count) of m's storage as a column array.
template <class T>
Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> elements(Matrix<T>& m, std::int64_t first, std::int64_t count) {
  return {m.data() + first, count};
}
template <class T>
Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> elements(const Matrix<T>& m, std::int64_t first,
                                                              std::int64_t count) {
  return {m.data() + first, count};
}

template <class F>
void for_elements(Eigen::Index size, const F& f) {
  parallel_elements(static_cast<std::int64_t>(size), f);
}

}  // namespace dagrad::detail
