// Image bytes to T in [0, 1] (value / 255) for chosen rows, into storage the
// caller has sized: scale_rows (idx.hpp) converts a batch with it, and
// Features::gather shares a batch's rows among threads, a span each.
//   detail::scale_indexed_rows(images, rows.subspan(k, n), out.data() + k * 784);
#pragma once

#include <dagrad/idx.hpp>

#include <cstddef>
#include <span>

namespace dagrad::detail {

// Row i of `out` (im.features() values) is image indices[i]. The indices
// are not checked here: callers have.
template <class T>
void scale_indexed_rows(const Images& im, std::span<const std::size_t> indices, T* out);

extern template void scale_indexed_rows<float>(const Images&, std::span<const std::size_t>, float*);
extern template void scale_indexed_rows<double>(const Images&, std::span<const std::size_t>, double*);

}  // namespace dagrad::detail
