// Bytes to T in [0, 1] (value / 255) for chosen rows of a byte matrix, into
// storage the caller has sized: scale_rows (idx.hpp) converts a batch of
// images with it, and Features::gather shares a batch's rows among threads.
//   detail::scale_indexed_rows(bytes, 784, rows.subspan(k, n), out.data() + k * 784);
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dagrad::detail {

// Row i of `out` (`width` values) is row indices[i] of `bytes`, a row-major
// matrix `width` bytes wide. The indices are not checked here: callers have.
template <class T>
void scale_indexed_rows(const std::uint8_t* bytes, std::size_t width, std::span<const std::size_t> indices,
                        T* out);

// n bytes to n values of T, value / 255.
template <class T>
void scale_bytes(const std::uint8_t* bytes, std::size_t n, T* out);

extern template void scale_bytes<float>(const std::uint8_t*, std::size_t, float*);
extern template void scale_bytes<double>(const std::uint8_t*, std::size_t, double*);
extern template void scale_indexed_rows<float>(const std::uint8_t*, std::size_t, std::span<const std::size_t>,
                                               float*);
extern template void scale_indexed_rows<double>(const std::uint8_t*, std::size_t, std::span<const std::size_t>,
                                                double*);

}  // namespace dagrad::detail
