// Stride-1 convolutions with the images in the SIMD lanes: a group of P
// images (P = the packet size, 16 floats with AVX-512) is turned so that
// each pixel becomes one packet holding that pixel of all P images. A
// convolution over the group is then the scalar convolution with every
// multiply-add a packet wide: no wide grid (whose extra columns cost LeNet's
// second layer 40% more work), no unaligned or cache-line-split loads, and
// outputs tiled in registers so that each loaded packet feeds several
// multiply-adds. conv2d gathers (lanes_correlate), conv2d_grad_input
// scatters (lanes_scatter), conv2d_grad_filter sums (lanes_filter_sums).
//   const T* src = pad_lanes(rows, ld, count, shape, pad, scratch);
//   lanes_correlate(coef, coef_ld, groups, offsets, src, src_width, out_h, out_w, out, out_plane);
//   from_lanes(out, out_size, rows_out, ld_out, count);
#pragma once

#include <dagrad/core/detail/conv.hpp>
#include <dagrad/core/detail/correlate.hpp>
#include <dagrad/core/detail/scratch.hpp>
#include <dagrad/core/tensor.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <span>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace dagrad::detail {

template <class T>
using LanePacket = typename Eigen::internal::packet_traits<T>::type;

// Vector registers the kernels below plan their tiles for: 32 with
// AVX-512's 64-byte packets, 16 otherwise (SSE, AVX2).
template <class T>
constexpr int lane_registers() {
  return sizeof(LanePacket<T>) >= 64 ? 32 : 16;
}

// Whether a convolution runs with its images in lanes: stride 1, output
// rows wide enough for conv2d's register tiles (up to 8 positions), and
// at least one whole group of images (smaller batches would leave most
// lanes empty; they take the wide grid's path).
template <class T>
bool lanes_path(const ConvGeometry& g, Dim images) {
  return g.stride == 1 && g.out_width >= 8 && images >= lanes<T>();
}

// dst[j·P + i] = src[i·ld + j] for j < n and i < count (count <= P), and
// zero in lanes i >= count: `count` rows turned into n packets. Whole P×P
// blocks go through registers (Eigen's ptranspose); the last n mod P
// columns one value at a time.
template <class T>
void to_lanes(const T* src, Dim ld, Dim count, Dim n, T* dst) {
  using Packet = LanePacket<T>;
  constexpr int P = int(lanes<T>());
  Dim j = 0;
  for (; j + P <= n; j += P) {
    Eigen::internal::PacketBlock<Packet, P> block;
    for (int i = 0; i < P; ++i) {
      block.packet[i] = i < count ? Eigen::internal::ploadu<Packet>(src + i * ld + j)
                                  : Eigen::internal::pset1<Packet>(T(0));
    }
    Eigen::internal::ptranspose(block);
    for (int i = 0; i < P; ++i) Eigen::internal::pstore(dst + (j + i) * P, block.packet[i]);
  }
  for (; j < n; ++j) {
    for (Dim i = 0; i < P; ++i) dst[j * P + i] = i < count ? src[i * ld + j] : T(0);
  }
}

// What from_lanes may do to each value before it stores it (an epilogue,
// Op::epilogue): add add_row[j] (a channel's bias spread over a row; null
// for none), then take relu's max(v, 0). Eigen's packet and scalar max,
// as relu's kernel calls them, so the bits are those of the ops alone.
template <class T>
struct LaneEpilogue {
  const T* add_row = nullptr;
  bool relu = false;
};

template <bool Add, bool Relu, class T>
void from_lanes_with(const T* src, Dim n, T* dst, Dim ld, Dim count, const T* add_row) {
  using Packet = LanePacket<T>;
  constexpr int P = int(lanes<T>());
  const Packet zero = Eigen::internal::pset1<Packet>(T(0));
  Dim j = 0;
  for (; j + P <= n; j += P) {
    Eigen::internal::PacketBlock<Packet, P> block;
    for (int i = 0; i < P; ++i) block.packet[i] = Eigen::internal::pload<Packet>(src + (j + i) * P);
    Eigen::internal::ptranspose(block);
    Packet add = zero;
    if constexpr (Add) add = Eigen::internal::ploadu<Packet>(add_row + j);
    // Over all P lanes, a loop the compiler unrolls, so the block stays in
    // registers; only the first `count` are stored.
    for (int i = 0; i < P; ++i) {
      Packet v = block.packet[i];
      if constexpr (Add) v = Eigen::internal::padd(v, add);
      if constexpr (Relu) v = Eigen::internal::pmax(v, zero);
      if (i < count) Eigen::internal::pstoreu(dst + i * ld + j, v);
    }
  }
  for (; j < n; ++j) {
    for (Dim i = 0; i < count; ++i) {
      T v = src[j * P + i];
      if constexpr (Add) v = v + add_row[j];
      if constexpr (Relu) v = Eigen::numext::maxi(v, T(0));
      dst[i * ld + j] = v;
    }
  }
}

// The reverse: dst[i·ld + j] = src[j·P + i] for j < n and i < count, with
// the epilogue applied.
template <class T>
void from_lanes(const T* src, Dim n, T* dst, Dim ld, Dim count, LaneEpilogue<T> e = {}) {
  if (e.add_row && e.relu) return from_lanes_with<true, true>(src, n, dst, ld, count, e.add_row);
  if (e.add_row) return from_lanes_with<true, false>(src, n, dst, ld, count, e.add_row);
  if (e.relu) return from_lanes_with<false, true>(src, n, dst, ld, count, e.add_row);
  from_lanes_with<false, false>(src, n, dst, ld, count, e.add_row);
}

// `count` images (rows `ld` apart, each channels × height × width) turned
// into lanes, each channel in the middle of a zero border `pad` wide:
// [c][height + 2·pad][width + 2·pad] packets, from this task's scratch.
template <class T>
const T* pad_lanes(const T* rows, Dim ld, Dim count, const ImageShape& s, Dim pad, Scratch& scratch) {
  constexpr Dim P = lanes<T>();
  const Dim hp = s.height + 2 * pad, wp = s.width + 2 * pad;
  T* padded = scratch.take<T>(s.channels * hp * wp * P);
  if (pad == 0) {
    to_lanes(rows, ld, count, s.channels * s.height * s.width, padded);
    return padded;
  }
  T* turned = scratch.take<T>(s.channels * s.height * s.width * P);
  to_lanes(rows, ld, count, s.channels * s.height * s.width, turned);
  for (Dim c = 0; c < s.channels; ++c) {
    T* plane = padded + c * hp * wp * P;
    std::fill(plane, plane + pad * wp * P, T(0));
    for (Dim y = 0; y < s.height; ++y) {
      T* line = plane + (y + pad) * wp * P;
      std::fill(line, line + pad * P, T(0));
      const T* from = turned + (c * s.height + y) * s.width * P;
      std::copy(from, from + s.width * P, line + pad * P);
      std::fill(line + (pad + s.width) * P, line + wp * P, T(0));
    }
    std::fill(plane + (pad + s.height) * wp * P, plane + hp * wp * P, T(0));
  }
  return padded;
}

// A loaded packet the compiler must keep in a register: without this, GCC
// folds the load into each of the G multiply-adds that use it, which loads
// it G times and makes the tiles bound by loads instead of arithmetic.
template <class Packet>
inline Packet in_register(Packet p) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+v"(p));
#endif
  return p;
}

// A tile of accumulators set to zero, in loops the compiler unrolls, so
// the tile can live in registers.
template <class Packet, int A, int B>
inline void zero_tile(Packet (&acc)[A][B]) {
  using T = typename Eigen::internal::unpacket_traits<Packet>::type;
#pragma GCC unroll 8
  for (int a = 0; a < A; ++a) {
#pragma GCC unroll 8
    for (int b = 0; b < B; ++b) acc[a][b] = Eigen::internal::pset1<Packet>(T(0));
  }
}

// Output positions a tile holds along a row, for G rows of coefficients:
// G × X accumulators, G broadcast coefficients and two loaded packets in
// the registers.
template <class T, int G>
constexpr int lanes_tile_width() {
  return std::min(8, (lane_registers<T>() - G - 2) / G);
}

// out[g][y][x] = Σ_r coef[g][r] · src[y·src_width + x + offset[r]] (in
// packets) for g < G and x in [x0, x0 + X): the taps added in order into
// one accumulator per output, as detail::correlate does, so an output has
// the same bits on either path.
template <int G, int X, class T>
void lanes_tile(const T* coef, Dim coef_ld, std::span<const Dim> offset, const T* src, T* out, Dim out_plane,
                Dim at) {
  using Packet = LanePacket<T>;
  constexpr Dim P = lanes<T>();
  Packet acc[G][X];
  zero_tile(acc);
  const Dim taps = static_cast<Dim>(offset.size());
  for (Dim r = 0; r < taps; ++r) {
    Packet w[G];
    for (int g = 0; g < G; ++g) w[g] = Eigen::internal::pset1<Packet>(coef[g * coef_ld + r]);
    const T* s = src + offset[std::size_t(r)] * P;
    for (int x = 0; x < X; ++x) {
      const Packet v = in_register(Eigen::internal::pload<Packet>(s + x * P));
      for (int g = 0; g < G; ++g) acc[g][x] = Eigen::internal::pmadd(w[g], v, acc[g][x]);
    }
  }
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
#pragma GCC unroll 8
    for (int x = 0; x < X; ++x) Eigen::internal::pstore(out + (g * out_plane + at + x) * P, acc[g][x]);
  }
}

// Rows [0, G) of coefficients over every output position, X at a time
// along a row. A row's last tile starts at out_w - X, so it may compute a
// few outputs again, with the same bits (out_w >= X: lanes_path asks for 8).
template <int G, int X, class T>
void lanes_rows(const T* coef, Dim coef_ld, std::span<const Dim> offset, const T* src, Dim src_width, Dim out_h,
                Dim out_w, T* out, Dim out_plane) {
  constexpr Dim P = lanes<T>();
  for (Dim y = 0; y < out_h; ++y) {
    for (Dim x0 = 0; x0 < out_w; x0 += X) {
      const Dim x = std::min<Dim>(x0, out_w - X);
      lanes_tile<G, X>(coef, coef_ld, offset, src + (y * src_width + x) * P, out, out_plane, y * out_w + x);
    }
  }
}

// The widest tile, or one narrower when that covers a row exactly and the
// widest does not (LeNet's rows of 28, 14 and 10).
template <int G, class T>
void lanes_rows(const T* coef, Dim coef_ld, std::span<const Dim> offset, const T* src, Dim src_width, Dim out_h,
                Dim out_w, T* out, Dim out_plane) {
  constexpr int X = lanes_tile_width<T, G>();
  if (out_w % X != 0 && out_w % (X - 1) == 0) {
    return lanes_rows<G, X - 1>(coef, coef_ld, offset, src, src_width, out_h, out_w, out, out_plane);
  }
  lanes_rows<G, X>(coef, coef_ld, offset, src, src_width, out_h, out_w, out, out_plane);
}

// out[g][y][x] for all g < groups, y < out_h, x < out_w (out: groups planes
// out_plane packets apart, each row out_w packets long); src must hold
// every position read.
template <class T>
void lanes_correlate(const T* coef, Dim coef_ld, Dim groups, std::span<const Dim> offset, const T* src,
                     Dim src_width, Dim out_h, Dim out_w, T* out, Dim out_plane) {
  constexpr Dim P = lanes<T>();
  // Row blocks of at most 4, as even as they can be (6 rows: 3 + 3).
  const Dim blocks = (groups + 3) / 4, per = (groups + blocks - 1) / blocks;
  for (Dim g0 = 0; g0 < groups; g0 += per) {
    const T* c = coef + g0 * coef_ld;
    T* o = out + g0 * out_plane * P;
    switch (std::min(per, groups - g0)) {
      case 1: lanes_rows<1>(c, coef_ld, offset, src, src_width, out_h, out_w, o, out_plane); break;
      case 2: lanes_rows<2>(c, coef_ld, offset, src, src_width, out_h, out_w, o, out_plane); break;
      case 3: lanes_rows<3>(c, coef_ld, offset, src, src_width, out_h, out_w, o, out_plane); break;
      default: lanes_rows<4>(c, coef_ld, offset, src, src_width, out_h, out_w, o, out_plane); break;
    }
  }
}

// The filter gradient's taps a pass holds, for G rows of d: 5 (a 5×5
// kernel's taps in whole passes) where the registers allow.
template <class T, int G>
constexpr int lanes_sum_taps() {
  return std::min(5, (lane_registers<T>() - G - 2) / G);
}

// sums[g][r - r0] += Σ over the images' lanes of Σ_(y, x) d[g][y][x] ·
// src[y·src_width + x + offset[r]] for g < G and the taps [r0, r0 + J):
// each pass keeps G × J lane accumulators over every position, then adds
// each one's lanes.
template <int G, int J, class T>
void lanes_sum_tile(const T* d, Dim d_plane, const Dim* offset, const T* src, Dim src_width, Dim out_h, Dim out_w,
                    T* sums, Dim sums_ld) {
  using Packet = LanePacket<T>;
  constexpr Dim P = lanes<T>();
  Packet acc[G][J];
  zero_tile(acc);
  // One loop over the positions, the row's end a jump of src's pointer:
  // nested loops over y and x made GCC spill accumulators at each row.
  const T* dy = d;
  const T* s = src;
  const Dim skip = (src_width - out_w) * P;
  for (Dim t = 0, x = 0; t < out_h * out_w; ++t) {
    Packet dv[G];
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) dv[g] = Eigen::internal::pload<Packet>(dy + g * d_plane * P);
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) {
      const Packet v = in_register(Eigen::internal::pload<Packet>(s + offset[j] * P));
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) acc[g][j] = Eigen::internal::pmadd(dv[g], v, acc[g][j]);
    }
    dy += P;
    s += P;
    if (++x == out_w) {
      x = 0;
      s += skip;
    }
  }
  for (int g = 0; g < G; ++g) {
    for (int j = 0; j < J; ++j) sums[g * sums_ld + j] += Eigen::internal::predux(acc[g][j]);
  }
}

template <int G, class T>
void lanes_sum_rows(const T* d, Dim d_plane, std::span<const Dim> offset, const T* src, Dim src_width, Dim out_h,
                    Dim out_w, T* sums, Dim sums_ld) {
  constexpr int J = lanes_sum_taps<T, G>();
  const Dim taps = static_cast<Dim>(offset.size());
  Dim r = 0;
  for (; r + J <= taps; r += J) {
    lanes_sum_tile<G, J>(d, d_plane, offset.data() + r, src, src_width, out_h, out_w, sums + r, sums_ld);
  }
  if (r == taps) return;
  // The last taps, fewer than J: one narrower pass.
  const Dim* at = offset.data() + r;
  switch (taps - r) {
    case 1: lanes_sum_tile<G, 1>(d, d_plane, at, src, src_width, out_h, out_w, sums + r, sums_ld); break;
    case 2: lanes_sum_tile<G, 2>(d, d_plane, at, src, src_width, out_h, out_w, sums + r, sums_ld); break;
    case 3: lanes_sum_tile<G, 3>(d, d_plane, at, src, src_width, out_h, out_w, sums + r, sums_ld); break;
    default: lanes_sum_tile<G, 4>(d, d_plane, at, src, src_width, out_h, out_w, sums + r, sums_ld); break;
  }
}

// The filter gradient of one group of images:
//   sums[o][r] += Σ_lanes Σ_(y, x) d[o][y][x] · src[y·src_width + x + offset[r]]
// for o < rows (d: rows planes of out_h × out_w packets) and r < taps.
template <class T>
void lanes_filter_sums(const T* d, Dim rows, std::span<const Dim> offset, const T* src, Dim src_width, Dim out_h,
                       Dim out_w, T* sums) {
  constexpr Dim P = lanes<T>();
  const Dim plane = out_h * out_w, taps = static_cast<Dim>(offset.size());
  const Dim most = lane_registers<T>() >= 32 ? 4 : 2;
  const Dim blocks = (rows + most - 1) / most, per = (rows + blocks - 1) / blocks;
  for (Dim o0 = 0; o0 < rows; o0 += per) {
    const T* dn = d + o0 * plane * P;
    T* s = sums + o0 * taps;
    switch (std::min(per, rows - o0)) {
      case 1: lanes_sum_rows<1>(dn, plane, offset, src, src_width, out_h, out_w, s, taps); break;
      case 2: lanes_sum_rows<2>(dn, plane, offset, src, src_width, out_h, out_w, s, taps); break;
      case 3: lanes_sum_rows<3>(dn, plane, offset, src, src_width, out_h, out_w, s, taps); break;
      default: lanes_sum_rows<4>(dn, plane, offset, src, src_width, out_h, out_w, s, taps); break;
    }
  }
}

// The input gradient, scattered: each output-gradient position adds to
// the input pixels its window read,
//   dXp[c][y + ki][x + kj] += Σ_o W[o][(c, ki, kj)] · dY[o][y][x],
// dXp being dX in a zero border p wide. A tile sums over o for J taps
// (kj0 .. kj0 + J - 1) and X positions at once, then adds its J × X sums
// onto the J + X - 1 pixels they land on, the sums for one pixel in order
// of j. No term reads the zero border, which the gather form
// (lanes_correlate over dY padded by k - 1 - p) spends half its work on
// at LeNet's second layer.
template <int J, int X, class T>
void lanes_scatter_tile(const T* coef, Dim coef_ld, Dim outs, const T* d, Dim d_plane, T* dst) {
  using Packet = LanePacket<T>;
  constexpr Dim P = lanes<T>();
  Packet acc[J][X];
  zero_tile(acc);
  for (Dim o = 0; o < outs; ++o) {
    Packet w[J];
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) w[j] = Eigen::internal::pset1<Packet>(coef[o * coef_ld + j]);
#pragma GCC unroll 8
    for (int x = 0; x < X; ++x) {
      const Packet v = in_register(Eigen::internal::pload<Packet>(d + (o * d_plane + x) * P));
#pragma GCC unroll 8
      for (int j = 0; j < J; ++j) acc[j][x] = Eigen::internal::pmadd(w[j], v, acc[j][x]);
    }
  }
#pragma GCC unroll 16
  for (int s = 0; s < J + X - 1; ++s) {
    Packet sum = Eigen::internal::pload<Packet>(dst + s * P);
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) {
      if (s - j >= 0 && s - j < X) sum = Eigen::internal::padd(sum, acc[j][s - j]);
    }
    Eigen::internal::pstore(dst + s * P, sum);
  }
}

template <int J, class T>
void lanes_scatter_row(const T* coef, Dim coef_ld, Dim outs, const T* d, Dim d_plane, Dim out_w, T* dst) {
  constexpr Dim P = lanes<T>();
  constexpr int X = std::min(5, (lane_registers<T>() - J - 2) / J);
  Dim x = 0;
  for (; x + X <= out_w; x += X) lanes_scatter_tile<J, X>(coef, coef_ld, outs, d + x * P, d_plane, dst + x * P);
  for (; x < out_w; ++x) lanes_scatter_tile<J, 1>(coef, coef_ld, outs, d + x * P, d_plane, dst + x * P);
}

// dXp (channels planes of (OH + k - 1) × (OW + k - 1) packets, zeroed by
// the caller) += the scatter of d (outs planes of OH × OW packets) through
// weights w (outs × channels·k·k, row-major, w_ld apart).
template <class T>
void lanes_scatter(const T* w, Dim w_ld, Dim outs, Dim channels, Dim k, const T* d, Dim out_h, Dim out_w,
                   T* dxp) {
  constexpr Dim P = lanes<T>();
  const Dim wp = out_w + k - 1, hp = out_h + k - 1, most = lane_registers<T>() >= 32 ? 5 : 2;
  for (Dim c = 0; c < channels; ++c) {
    for (Dim ki = 0; ki < k; ++ki) {
      for (Dim kj0 = 0; kj0 < k; kj0 += most) {
        const T* coef = w + (c * k + ki) * k + kj0;
        for (Dim y = 0; y < out_h; ++y) {
          const T* dy = d + y * out_w * P;
          T* dst = dxp + ((c * hp + y + ki) * wp + kj0) * P;
          switch (std::min(most, k - kj0)) {
            case 1: lanes_scatter_row<1>(coef, w_ld, outs, dy, out_h * out_w, out_w, dst); break;
            case 2: lanes_scatter_row<2>(coef, w_ld, outs, dy, out_h * out_w, out_w, dst); break;
            case 3: lanes_scatter_row<3>(coef, w_ld, outs, dy, out_h * out_w, out_w, dst); break;
            case 4: lanes_scatter_row<4>(coef, w_ld, outs, dy, out_h * out_w, out_w, dst); break;
            default: lanes_scatter_row<5>(coef, w_ld, outs, dy, out_h * out_w, out_w, dst); break;
          }
        }
      }
    }
  }
}

}  // namespace dagrad::detail

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
