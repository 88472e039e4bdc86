// 2×2 max pools with windows side by side, eight windows at a time: the
// common pool (LeNet's), whose rows of 14 or 5 windows are too short for a
// compiler to vectorize one window per lane. Here a window's four pixels
// are spread over the two lanes of its top row's pixels, so one 16-lane
// vector holds eight windows, and every lane works out the same scan as
// window_max (pixels in row-major order, the first maximum kept, a NaN
// never picked after the first pixel) with compares and selects.
//   max_pool_2x2_image(x_row, shape, y_row);  route_2x2_image(x_row, dy_row, shape, dx_row[, positive_only]);
// GCC's and clang's vector extensions, so any target builds it.
#pragma once

#include <dagrad/core/tensor.hpp>

#include <algorithm>
#include <cstring>

namespace dagrad::detail {

// 16 values of T as one vector (a 64-byte register of floats with AVX-512).
template <class T>
struct Vec16;
template <>
struct Vec16<float> {
  typedef float type __attribute__((vector_size(16 * sizeof(float))));
  typedef float half __attribute__((vector_size(8 * sizeof(float))));
};
template <>
struct Vec16<double> {
  typedef double type __attribute__((vector_size(16 * sizeof(double))));
  typedef double half __attribute__((vector_size(8 * sizeof(double))));
};

template <class T>
struct Windows2x2 {
  using V = typename Vec16<T>::type;
  using Mask = decltype(V{} > V{});
  V a, b, c, d;         // top-left, top-right, bottom-left, bottom-right
  Mask b_wins_a, c_wins, d_wins;  // b > a; c > max(a, b); d > max(a, b, c)
  V best;               // the window's maximum

  Windows2x2(const T* r0, const T* r1, Dim n, bool whole) {
    V top{}, bottom{};
    if (whole) {
      std::memcpy(&top, r0, sizeof top);
      std::memcpy(&bottom, r1, sizeof bottom);
    } else {
      std::memcpy(&top, r0, std::size_t(n) * sizeof(T));
      std::memcpy(&bottom, r1, std::size_t(n) * sizeof(T));
    }
    a = __builtin_shufflevector(top, top, 0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14);
    b = __builtin_shufflevector(top, top, 1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15);
    c = __builtin_shufflevector(bottom, bottom, 0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14);
    d = __builtin_shufflevector(bottom, bottom, 1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15);
    // std::max(best, v) keeps best unless v > best, as window_max does.
    // (Selects as bit masks: (m & yes) | (~m & no). No function takes or
    // returns a vector, so no call's ABI depends on the vector ISA.)
    b_wins_a = b > a;
    best = V((b_wins_a & Mask(b)) | (~b_wins_a & Mask(a)));
    c_wins = c > best;
    best = V((c_wins & Mask(c)) | (~c_wins & Mask(best)));
    d_wins = d > best;
    best = V((d_wins & Mask(d)) | (~d_wins & Mask(best)));
  }
};

// One image's pool: y (C × H/2 × W/2) from x (C × H × W), a pair of input
// rows at a time, 8 windows a step. A row's last step may store up to 8
// values past its end: into the next output row, which a later step
// writes; the image's very last step stores only its own.
template <class T>
void max_pool_2x2_image(const T* x, const ImageShape& in, T* y) {
  using W = Windows2x2<T>;
  const Dim w = in.width, ow = w / 2, pairs = in.channels * (in.height / 2);
  const T* x_end = x + pairs * 2 * w;
  const T* y_end = y + pairs * ow;
  for (Dim pair = 0; pair < pairs; ++pair) {
    const T* r0 = x + pair * 2 * w;
    T* out = y + pair * ow;
    for (Dim j = 0; j < w; j += 16) {
      const Dim n = std::min<Dim>(16, w - j);
      const W win(r0 + j, r0 + w + j, n, r0 + w + j + 16 <= x_end);
      const auto packed = __builtin_shufflevector(win.best, win.best, 0, 2, 4, 6, 8, 10, 12, 14);
      if (out + j / 2 + 8 <= y_end) {
        std::memcpy(out + j / 2, &packed, sizeof packed);
      } else {
        std::memcpy(out + j / 2, &packed, std::size_t(n / 2) * sizeof(T));
      }
    }
  }
}

// One image's gradient: dx (C × H × W) gets each window's gradient from dy
// (C × H/2 × W/2) at the window's first maximum in x, zero at its other
// three pixels. A row pair's steps go from its last to its first: a last
// step stores 16 values into each row, running past the first row into
// the second (which the pair's later steps write again) and past the
// second into the next pair (written after); the image's very last step
// stores only its own.
template <class T>
void route_2x2_image(const T* x, const T* dy, const ImageShape& in, T* dx, bool positive_only = false) {
  using W = Windows2x2<T>;
  using V = typename W::V;
  using Mask = typename W::Mask;
  const Dim w = in.width, ow = w / 2, pairs = in.channels * (in.height / 2);
  const T* x_end = x + pairs * 2 * w;
  const T* dy_end = dy + pairs * ow;
  const Mask left = {-1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0};
  for (Dim pair = 0; pair < pairs; ++pair) {
    const T* r0 = x + pair * 2 * w;
    const T* g = dy + pair * ow;
    T* d0 = dx + pair * 2 * w;
    for (Dim j = (w - 1) / 16 * 16; j >= 0; j -= 16) {
      const Dim n = std::min<Dim>(16, w - j);
      const W win(r0 + j, r0 + w + j, n, r0 + w + j + 16 <= x_end);
      // Eight gradients, one a window, loaded as a vector of eight (a load
      // of 16 over a copy of 8 would wait for the copy to reach memory).
      typename Vec16<T>::half half{};
      if (g + j / 2 + 8 <= dy_end) {
        std::memcpy(&half, g + j / 2, sizeof half);
      } else {
        std::memcpy(&half, g + j / 2, std::size_t(n / 2) * sizeof(T));
      }
      const V spread = __builtin_shufflevector(half, half, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
      const Mask later = win.c_wins | win.d_wins;
      // Top row: a wins where nothing after it did, b where it beat a and
      // nothing after it won; bottom row: c where d did not win, d where it did.
      Mask top = (left & ~(win.b_wins_a | later)) | (~left & win.b_wins_a & ~later);
      Mask bottom = (left & win.c_wins & ~win.d_wins) | (~left & win.d_wins);
      // relu_grad(x, dx) applied (the epilogue): the maximum's gradient
      // kept only where that maximum is > 0 (a NaN is not).
      if (positive_only) {
        const Mask keep = win.best > V{};
        top &= keep;
        bottom &= keep;
      }
      const V upper = V(top & Mask(spread)), lower = V(bottom & Mask(spread));
      if (d0 + w + j + 16 <= dx + pairs * 2 * w) {
        std::memcpy(d0 + j, &upper, sizeof upper);
        std::memcpy(d0 + w + j, &lower, sizeof lower);
      } else {
        std::memcpy(d0 + j, &upper, std::size_t(n) * sizeof(T));
        std::memcpy(d0 + w + j, &lower, std::size_t(n) * sizeof(T));
      }
    }
  }
}

}  // namespace dagrad::detail
