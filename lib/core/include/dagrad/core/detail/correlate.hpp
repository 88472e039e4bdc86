// Direct correlation for stride-1 convolutions: each output row is a
// weighted sum of shifted runs of one source buffer,
//   out[g][t] = Σ_r coef[g][r] · src[offset[r] + t],
// which is conv2d's forward pass on the wide grid (detail/conv.hpp) and,
// with the kernel turned around, its input gradient. No im2col copy and no
// GEMM packing: each tap r reads its run of src once per tile of outputs.
//   detail::correlate(coef, coef_ld, groups, offsets, src, out, out_ld, length);
#pragma once

#include <dagrad/core/tensor.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <span>

// Eigen's packet types are vector types with attributes, which GCC and
// clang drop, with a warning, when one is a template argument; Eigen's own
// headers silence the same warning around the same use.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace dagrad::detail {

// Outputs computed together along t: two SIMD packets, so each tap's loads
// feed up to 8 × 2 fused multiply-adds held in registers.
template <class T>
constexpr Dim correlate_tile() {
  constexpr Dim tile = 2 * Eigen::internal::packet_traits<T>::size;
  static_assert(tile <= 64, "ImageGrid leaves 64 values of slack for a tile's overrun");
  return tile;
}

// Rows [0, Groups) of one tile: acc[g][·] = Σ_r coef[g][r] · src[offset[r] + t0 + ·],
// the taps added in order r = 0, 1, ... into one accumulator per output,
// so an output's value does not depend on the tile or block it falls in.
template <int Groups, class T>
void correlate_tile(const T* coef, Dim coef_ld, std::span<const Dim> offset, const T* src, T* out,
                    Dim out_ld, Dim t0) {
  using Packet = typename Eigen::internal::packet_traits<T>::type;
  constexpr int size = Eigen::internal::packet_traits<T>::size;
  Packet acc[Groups][2];
  for (int g = 0; g < Groups; ++g) acc[g][0] = acc[g][1] = Eigen::internal::pset1<Packet>(T(0));
  const Dim taps = static_cast<Dim>(offset.size());
  for (Dim r = 0; r < taps; ++r) {
    const T* s = src + offset[std::size_t(r)] + t0;
    const Packet x0 = Eigen::internal::ploadu<Packet>(s), x1 = Eigen::internal::ploadu<Packet>(s + size);
    for (int g = 0; g < Groups; ++g) {
      const Packet w = Eigen::internal::pset1<Packet>(coef[g * coef_ld + r]);
      acc[g][0] = Eigen::internal::pmadd(w, x0, acc[g][0]);
      acc[g][1] = Eigen::internal::pmadd(w, x1, acc[g][1]);
    }
  }
  for (int g = 0; g < Groups; ++g) {
    Eigen::internal::pstoreu(out + g * out_ld + t0, acc[g][0]);
    Eigen::internal::pstoreu(out + g * out_ld + t0 + size, acc[g][1]);
  }
}

template <int Groups, class T>
void correlate_rows(const T* coef, Dim coef_ld, std::span<const Dim> offset, const T* src, T* out,
                    Dim out_ld, Dim length) {
  for (Dim t0 = 0; t0 < length; t0 += correlate_tile<T>()) {
    correlate_tile<Groups>(coef, coef_ld, offset, src, out, out_ld, t0);
  }
}

// out[g][t] for g < groups and t < length rounded up to a whole tile: out's
// rows (out_ld apart) must have room for that, and src must be readable up
// to the largest offset + that rounded length. Rows go eight at a time.
template <class T>
void correlate(const T* coef, Dim coef_ld, Dim groups, std::span<const Dim> offset, const T* src,
               T* out, Dim out_ld, Dim length) {
  for (Dim g0 = 0; g0 < groups; g0 += 8) {
    const T* c = coef + g0 * coef_ld;
    T* o = out + g0 * out_ld;
    switch (std::min<Dim>(8, groups - g0)) {
      case 1: correlate_rows<1>(c, coef_ld, offset, src, o, out_ld, length); break;
      case 2: correlate_rows<2>(c, coef_ld, offset, src, o, out_ld, length); break;
      case 3: correlate_rows<3>(c, coef_ld, offset, src, o, out_ld, length); break;
      case 4: correlate_rows<4>(c, coef_ld, offset, src, o, out_ld, length); break;
      case 5: correlate_rows<5>(c, coef_ld, offset, src, o, out_ld, length); break;
      case 6: correlate_rows<6>(c, coef_ld, offset, src, o, out_ld, length); break;
      case 7: correlate_rows<7>(c, coef_ld, offset, src, o, out_ld, length); break;
      default: correlate_rows<8>(c, coef_ld, offset, src, o, out_ld, length); break;
    }
  }
}

// `length` rounded up to a whole number of tiles.
template <class T>
Dim tiles_cover(Dim length) {
  return (length + correlate_tile<T>() - 1) / correlate_tile<T>() * correlate_tile<T>();
}

// The filter gradient's side: for rows o of d and taps r,
//   sums[o][r][l] += Σ_(t mod P = l) d[o][t] · src[offset[r] + t],   t < length,
// kept as P lane sums (P = the SIMD packet size) so that adding images and
// blocks costs no horizontal reduction; the caller adds the lanes once at
// the end. `rows` must be a multiple of sum_rows and offset.size() of
// sum_taps (callers pad d with zero rows and offset with repeats, and drop
// those sums), d must hold zeros from `length` up to a whole packet, and
// sums has rows × offset.size() × P elements.
template <class T>
constexpr Dim lanes() {
  return Eigen::internal::packet_traits<T>::size;
}

// One pass over t holds 4 rows × 5 taps of accumulators: 20 packets, and
// 9 loaded ones, in AVX-512's 32 registers. 5 divides a 5×5 kernel's taps
// (LeNet's 25 and 150); rows per pass of 3 for LeNet's 6 channels, against
// 4 with two zero rows, measured no faster.
inline constexpr Dim sum_rows = 4, sum_taps = 5;

//
// `images` images at once: image n's d starts n·length columns into d's rows
// and its src n·src_stride values into src. Each pass keeps its sums in
// registers across the images, adding them in image order: the bits of one
// call per image, without storing and reloading the sums between images.
template <class T>
void correlate_sums(const T* d, Dim d_ld, Dim rows, std::span<const Dim> offset, const T* src, Dim src_stride,
                    Dim images, Dim length, T* sums) {
  using Packet = typename Eigen::internal::packet_traits<T>::type;
  constexpr Dim size = lanes<T>();
  constexpr int Rows = int(sum_rows), taps_per_pass = int(sum_taps);
  const Dim taps = static_cast<Dim>(offset.size());
  for (Dim o0 = 0; o0 < rows; o0 += Rows) {
    for (Dim r0 = 0; r0 < taps; r0 += taps_per_pass) {
      Packet acc[Rows][taps_per_pass];
      for (int g = 0; g < Rows; ++g) {
        for (int j = 0; j < taps_per_pass; ++j) {
          acc[g][j] = Eigen::internal::ploadu<Packet>(sums + ((o0 + g) * taps + r0 + j) * size);
        }
      }
      for (Dim n = 0; n < images; ++n) {
        const T* s[taps_per_pass];
        for (int j = 0; j < taps_per_pass; ++j) s[j] = src + n * src_stride + offset[std::size_t(r0 + j)];
        const T* dn = d + o0 * d_ld + n * length;
        for (Dim t = 0; t < length; t += size) {
          Packet x[taps_per_pass];
          for (int j = 0; j < taps_per_pass; ++j) x[j] = Eigen::internal::ploadu<Packet>(s[j] + t);
          for (int g = 0; g < Rows; ++g) {
            const Packet dv = Eigen::internal::ploadu<Packet>(dn + g * d_ld + t);
            for (int j = 0; j < taps_per_pass; ++j) acc[g][j] = Eigen::internal::pmadd(dv, x[j], acc[g][j]);
          }
        }
      }
      for (int g = 0; g < Rows; ++g) {
        for (int j = 0; j < taps_per_pass; ++j) {
          Eigen::internal::pstoreu(sums + ((o0 + g) * taps + r0 + j) * size, acc[g][j]);
        }
      }
    }
  }
}

}  // namespace dagrad::detail

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
