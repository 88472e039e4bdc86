#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/io/detail/scale_rows.hpp>
#include <dagrad/io/features.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace dagrad {

Features Features::subset(std::span<const std::size_t> indices) const {
  const std::size_t n = rows();
  auto picked = std::make_shared<std::vector<std::size_t>>();
  picked->reserve(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= n) {
      throw DataError("features: subset index " + std::to_string(i) + " is row " + std::to_string(indices[i]) +
                      ", out of range (" + std::to_string(n) + " rows)");
    }
    picked->push_back(subset_ ? (*subset_)[indices[i]] : indices[i]);
  }
  Features view = *this;
  view.subset_ = std::move(picked);
  return view;
}

std::size_t Features::rows() const {
  if (subset_) return subset_->size();
  return std::visit(
      [](auto* s) -> std::size_t {
        if constexpr (std::is_same_v<decltype(s), const Images*>) {
          return s->count;
        } else if constexpr (std::is_same_v<decltype(s), const ImageFile*>) {
          return s->count();
        } else {
          return static_cast<std::size_t>(s->rows());
        }
      },
      source_);
}

std::size_t Features::cols() const {
  return std::visit(
      [](auto* s) -> std::size_t {
        if constexpr (std::is_same_v<decltype(s), const Images*> || std::is_same_v<decltype(s), const ImageFile*>) {
          return s->features();
        } else {
          return static_cast<std::size_t>(s->cols());
        }
      },
      source_);
}

namespace {
void check_range(std::size_t first, std::size_t count, std::size_t rows) {
  if (first > rows || count > rows - first) {
    throw Error("features: rows " + std::to_string(first) + " to " +
                std::to_string(first + count) + " are out of range (" + std::to_string(rows) +
                " rows)");
  }
}
// Rows of a batch are shared among tasks in blocks of this many; each row
// is converted alone, so the blocks change no value.
constexpr std::size_t gather_block = 64;

// rows(first, last) over [0, n), by as many tasks as the arena allows, a
// span of rows each.
template <class Rows>
void parallel_rows(std::size_t n, const Rows& rows, std::size_t most = gather_block) {
  if (n <= most) {
    rows(0, n);
    return;
  }
  // An even number of blocks of at most `most` rows, as equal as may be
  // (200 rows: four of 50, not 64, 64, 64 and 8), so two threads share
  // them evenly. Each row is converted alone: the cut changes no value.
  const std::size_t blocks = (n + 2 * most - 1) / (2 * most) * 2;
  const std::size_t block = (n + blocks - 1) / blocks;
  detail::parallel_chunks(static_cast<std::int64_t>((n + block - 1) / block), [&](std::int64_t b) {
    const auto first = static_cast<std::size_t>(b) * block;
    rows(first, std::min(n, first + block));
  });
}

// The images at `indices` as T in [0, 1] (value / 255, as scale_rows).
template <class T>
void gather_images(const Images& im, std::span<const std::size_t> indices, Matrix<T>& out) {
  const std::size_t f = im.features();
  out.resize(static_cast<Eigen::Index>(indices.size()), static_cast<Eigen::Index>(f));
  parallel_rows(indices.size(), [&](std::size_t first, std::size_t last) {
    detail::scale_indexed_rows(im.pixels.data(), f, indices.subspan(first, last - first), out.data() + first * f);
  });
}

// The same from a file, each task reading its rows into bytes of its
// thread's own (kept from batch to batch) before it scales them. A shuffled
// row is a read (a system call) of its own, so the tasks take smaller
// blocks than in memory: a batch of 64 is read by two threads, not one.
constexpr std::size_t file_block = 16;
template <class T>
void gather_file(const ImageFile& file, std::span<const std::size_t> indices, Matrix<T>& out) {
  const std::size_t f = file.features();
  out.resize(static_cast<Eigen::Index>(indices.size()), static_cast<Eigen::Index>(f));
  parallel_rows(
      indices.size(),
      [&](std::size_t first, std::size_t last) {
        thread_local std::vector<std::uint8_t> bytes;
        bytes.resize((last - first) * f);
        file.read(indices.subspan(first, last - first), bytes.data());
        detail::scale_bytes(bytes.data(), bytes.size(), out.data() + first * f);
      },
      file_block);
}

}  // namespace

template <class T>
void Features::slice(std::size_t first, std::size_t count, Matrix<T>& out) const {
  check_range(first, count, rows());
  if (subset_) {
    gather_source(std::span<const std::size_t>(*subset_).subspan(first, count), out);
    return;
  }
  std::visit(
      [&](auto* s) {
        if constexpr (std::is_same_v<decltype(s), const Images*>) {
          scale_rows(*s, first, count, out);
        } else if constexpr (std::is_same_v<decltype(s), const ImageFile*>) {
          std::vector<std::size_t> rows(count);
          std::iota(rows.begin(), rows.end(), first);
          gather_file(*s, std::span<const std::size_t>(rows), out);  // a read a task's run
        } else {
          out = s->middleRows(static_cast<Eigen::Index>(first), static_cast<Eigen::Index>(count))
                    .template cast<T>();
        }
      },
      source_);
}

template <class T>
void Features::gather(std::span<const std::size_t> indices, Matrix<T>& out) const {
  const std::size_t n = rows();
  for (std::size_t i : indices) {
    if (i >= n) throw Error("features: row " + std::to_string(i) + " is out of range (" +
                            std::to_string(n) + " rows)");
  }
  if (!subset_) {
    gather_source(indices, out);
    return;
  }
  // The source's rows, in a buffer each thread keeps: a training step
  // gathers every batch, and allocates nothing once it has grown.
  thread_local std::vector<std::size_t> source_rows;
  source_rows.clear();
  for (std::size_t i : indices) source_rows.push_back((*subset_)[i]);
  gather_source(std::span<const std::size_t>(source_rows), out);
}

template <class T>
void Features::gather_source(std::span<const std::size_t> indices, Matrix<T>& out) const {
  std::visit(
      [&](auto* s) {
        if constexpr (std::is_same_v<decltype(s), const Images*>) {
          gather_images(*s, indices, out);
        } else if constexpr (std::is_same_v<decltype(s), const ImageFile*>) {
          gather_file(*s, indices, out);
        } else {
          out.resize(static_cast<Eigen::Index>(indices.size()), s->cols());
          for (std::size_t r = 0; r < indices.size(); ++r) {
            out.row(static_cast<Eigen::Index>(r)) =
                s->row(static_cast<Eigen::Index>(indices[r])).template cast<T>();
          }
        }
      },
      source_);
}

bool Features::find_nonfinite(std::size_t& row, std::size_t& col) const {
  return std::visit(
      [&](auto* s) {
        if constexpr (std::is_same_v<decltype(s), const Images*> || std::is_same_v<decltype(s), const ImageFile*>) {
          return false;  // bytes are always finite
        } else {
          for (std::size_t r = 0; r < rows(); ++r) {
            const auto source_row = static_cast<Eigen::Index>(subset_ ? (*subset_)[r] : r);
            for (Eigen::Index c = 0; c < s->cols(); ++c) {
              if (!std::isfinite((*s)(source_row, c))) {
                row = r;
                col = static_cast<std::size_t>(c);
                return true;
              }
            }
          }
          return false;
        }
      },
      source_);
}

namespace {
template <class Label>
Matrix<float> one_hot_rows(std::span<const Label> labels, int classes) {
  if (classes < 1) throw DataError("one_hot: classes must be at least 1, got " + std::to_string(classes));
  Matrix<float> rows = Matrix<float>::Zero(static_cast<Eigen::Index>(labels.size()), classes);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto label = static_cast<std::int64_t>(labels[i]);
    if (label < 0 || label >= classes) {
      throw DataError("one_hot: the label at row " + std::to_string(i) + " is " + std::to_string(label) +
                      ", not one of the " + std::to_string(classes) + " classes 0 to " +
                      std::to_string(classes - 1));
    }
    rows(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(label)) = 1;
  }
  return rows;
}
}  // namespace

Matrix<float> one_hot(std::span<const std::uint8_t> labels, int classes) { return one_hot_rows(labels, classes); }
Matrix<float> one_hot(std::span<const std::int32_t> labels, int classes) { return one_hot_rows(labels, classes); }

template void Features::slice<float>(std::size_t, std::size_t, Matrix<float>&) const;
template void Features::slice<double>(std::size_t, std::size_t, Matrix<double>&) const;
template void Features::gather<float>(std::span<const std::size_t>, Matrix<float>&) const;
template void Features::gather<double>(std::span<const std::size_t>, Matrix<double>&) const;

}  // namespace dagrad
