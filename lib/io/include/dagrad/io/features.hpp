// A read-only view of the rows a model learns from: uint8 images (scaled to
// [0, 1] only when a batch is read, so MNIST stays 47 MB in memory), images
// left on disk (ImageFile: only a batch's bytes are read) or a float/double
// matrix. The view does not own its data.
//   Features X(mnist.train.images);  Matrix<float> batch; X.gather(idx, batch);
#pragma once

#include <dagrad/core/tensor.hpp>
#include <dagrad/io/idx.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <variant>
#include <vector>

namespace dagrad {

class Features {
 public:
  Features(const Images& images) : source_(&images) {}
  Features(const ImageFile& images) : source_(&images) {}
  Features(const Matrix<float>& m) : source_(&m) {}
  Features(const Matrix<double>& m) : source_(&m) {}

  // A view of some of these rows, in the order given (repeats allowed): its
  // row i is row indices[i] here. The indices are copied; the data is not.
  // Throws DataError naming the first index out of range.
  //   Features train = X.subset(split.train), held_out = X.subset(split.validation);
  Features subset(std::span<const std::size_t> indices) const;

  std::size_t rows() const;
  std::size_t cols() const;

  // Rows [first, first + count) as T, into out (resized).
  template <class T>
  void slice(std::size_t first, std::size_t count, Matrix<T>& out) const;
  // The rows at `indices`, in that order, into out (resized).
  template <class T>
  void gather(std::span<const std::size_t> indices, Matrix<T>& out) const;

  // The first non-finite value, as (row, col), or false when all are finite.
  bool find_nonfinite(std::size_t& row, std::size_t& col) const;

 private:
  // The source's rows at `indices`, which are in range.
  template <class T>
  void gather_source(std::span<const std::size_t> indices, Matrix<T>& out) const;

  std::variant<const Images*, const ImageFile*, const Matrix<float>*, const Matrix<double>*> source_;
  // With subset(): the source's rows this view shows, in order.
  std::shared_ptr<const std::vector<std::size_t>> subset_;
};

// Class labels as one-hot rows, what softmax_cross_entropy compares logits
// with: row i has a 1 in column labels[i] and 0 elsewhere. Throws DataError
// naming the row of a label outside [0, classes), or a classes below 1.
//   trainer.fit(Features(mnist.train.images), Features(one_hot(mnist.train.labels, 10)));
Matrix<float> one_hot(std::span<const std::uint8_t> labels, int classes);
Matrix<float> one_hot(std::span<const std::int32_t> labels, int classes);

extern template void Features::slice<float>(std::size_t, std::size_t, Matrix<float>&) const;
extern template void Features::slice<double>(std::size_t, std::size_t, Matrix<double>&) const;
extern template void Features::gather<float>(std::span<const std::size_t>, Matrix<float>&) const;
extern template void Features::gather<double>(std::span<const std::size_t>, Matrix<double>&) const;

}  // namespace dagrad
