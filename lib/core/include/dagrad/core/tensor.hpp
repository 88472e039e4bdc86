// Tensors and shapes: every value in dagrad is a 2-D row-major matrix.
//   dagrad::Matrix<float> m(2, 3);  dagrad::Shape s{dagrad::batch, 784};
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <string>

// Matrices are allocated on one side of the library boundary and resized or
// freed on the other, so both sides must align them alike whatever their
// -march: pkg-config --cflags dagrad, the CMake target dagrad::dagrad and
// meson's dependency('dagrad') all pass -DEIGEN_MAX_ALIGN_BYTES=64.
#if EIGEN_MAX_ALIGN_BYTES != 64
#error "dagrad needs -DEIGEN_MAX_ALIGN_BYTES=64 on every file that includes Eigen (pkg-config --cflags dagrad gives it); without it, matrices passed to or from libdagrad are freed with the wrong allocator"
#endif

namespace dagrad {

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

using Dim = std::int64_t;

// A dimension left open at build time and fixed by the feed at run time
// (the batch dimension: g.input("x", {batch, 784})).
inline constexpr Dim batch = -1;

struct Shape {
  Dim rows = 1;
  Dim cols = 1;

  bool known() const { return rows >= 0 && cols >= 0; }
  bool is_scalar() const { return rows == 1 && cols == 1; }
  Dim size() const { return rows * cols; }
  friend bool operator==(const Shape&, const Shape&) = default;
};

// "4x3", "?x784" for an open dimension.
std::string to_string(Shape s);

// A value as a kernel reads and writes it: a map over storage that the
// executor owns (a matrix of its own, or a place in the memory shared by a
// run's values) and has sized before the kernel runs, so kernels never
// resize. Storage starts on a 64-byte boundary, as Matrix storage does, so
// Eigen's loops over a view and over a matrix are the same loops.
template <class T>
using ConstView = Eigen::Map<const Matrix<T>, Eigen::Aligned64>;
template <class T>
using View = Eigen::Map<Matrix<T>, Eigen::Aligned64>;

// A matrix's storage as a view, for a kernel's helper given a scratch matrix.
template <class T>
ConstView<T> view_of(const Matrix<T>& m) {
  return ConstView<T>(m.data(), m.rows(), m.cols());
}
template <class T>
View<T> view_of(Matrix<T>& m) {
  return View<T>(m.data(), m.rows(), m.cols());
}

template <class Derived>
Shape shape_of(const Eigen::EigenBase<Derived>& m) {
  return {static_cast<Dim>(m.rows()), static_cast<Dim>(m.cols())};
}

// True when a concrete shape fits a build-time shape (open dims match anything).
bool fits(Shape concrete, Shape declared);

}  // namespace dagrad
