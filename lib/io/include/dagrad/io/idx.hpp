// Reads IDX files, the format MNIST ships in (plain or gzip-compressed), from
// disk or memory into uint8 images and labels, and scales batches of images to
// [0,1] for training.
//   Mnist m = load_mnist(default_mnist_dir());  Matrix<float> x;
//   scale_rows(m.train.images, 0, 32, x);     // 32 x 784, pixel / 255
#pragma once

#include <dagrad/core/error.hpp>
#include <dagrad/core/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dagrad {

// No IDX file dagrad reads may declare more data than this (1 GiB), checked
// against the header before anything is allocated.
inline constexpr std::uint64_t max_idx_bytes = std::uint64_t{1} << 30;

// The contents of an unsigned-byte IDX file (type code 0x08): its dimensions
// from the header and the data in row-major order (last dimension fastest).
struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

// Reads a plain or gzip-compressed IDX file (told apart by the gzip magic
// bytes 1f 8b, whatever the name). Throws DataError naming the path and the
// problem: cannot open, bad magic number, a type other than 0x08, a truncated
// file or gzip stream, bytes past the declared data, a size over max_idx_bytes.
IdxArray read_idx(const std::string& path);
// As read_idx, from a file's bytes in memory (plain or gzip-compressed); `name`
// stands for the path in messages, which are read_idx's word for word.
IdxArray parse_idx(std::span<const std::uint8_t> bytes, const std::string& name);

struct Images {
  std::size_t count = 0, rows = 0, cols = 0;
  // count x (rows*cols), row-major: each image unrolled into one row of
  // rows*cols values, as numpy's reshape does. Pixel (k, r, c) is at
  // pixels[k*rows*cols + r*cols + c].
  std::vector<std::uint8_t> pixels;

  std::size_t features() const { return rows * cols; }
};

// Every entry of a file: the default of the max_count arguments below.
inline constexpr std::size_t all_rows = std::numeric_limits<std::size_t>::max();

// A 3-D IDX file: count x rows x cols, none of them zero. With max_count,
// only the first max_count images are read (all, when the file holds
// fewer), so a program that trains on a few rows reads only those. A plain
// file's size is still checked against its header; of a gzip-compressed
// one, only what is read is decompressed and checked.
Images read_images(const std::string& path, std::size_t max_count = all_rows);
Images parse_images(std::span<const std::uint8_t> bytes, const std::string& name);

// A 3-D IDX file of images left on disk and read as they are used: the
// header, and a plain file's size against it, are checked when it is opened
// (with read_images' messages); each read then takes only the images asked
// for (pread), so a program training on MNIST keeps its 47 MB of pixels out
// of its own memory (the kernel's page cache holds them, shared and given
// back under pressure). A gzip-compressed file cannot be read at an offset:
// its first max_count images are decompressed into memory when it is
// opened. Reads from several threads at once are safe.
//   ImageFile train(mnist_file(dir, "train-images-idx3-ubyte"));  Features X(train);
class ImageFile {
 public:
  explicit ImageFile(const std::string& path, std::size_t max_count = all_rows);
  ~ImageFile();
  ImageFile(ImageFile&&) noexcept;
  ImageFile& operator=(ImageFile&&) noexcept;

  const std::string& path() const;
  std::size_t count() const;     // the images this file serves (the first max_count)
  std::size_t declared() const;  // the images its header declares
  std::size_t rows() const;
  std::size_t cols() const;
  std::size_t features() const { return rows() * cols(); }

  // Images [first, first + n) into out, n x features() bytes row by row.
  // Throws Error for rows out of range, DataError naming the file and the
  // image when the file no longer holds it (it shrank since it was opened).
  void read(std::size_t first, std::size_t n, std::uint8_t* out) const;
  // The images at `indices`, in that order.
  void read(std::span<const std::size_t> indices, std::uint8_t* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A 1-D IDX file of class labels, each in 0-9 (those read: the first
// max_count, as read_images).
std::vector<std::uint8_t> read_labels(const std::string& path, std::size_t max_count = all_rows);
std::vector<std::uint8_t> parse_labels(std::span<const std::uint8_t> bytes, const std::string& name);

struct Dataset {
  Images images;
  std::vector<std::uint8_t> labels;
};

// Images and their labels, the first max_count of each; throws DataError
// unless the files' counts agree.
Dataset read_dataset(const std::string& images_path, const std::string& labels_path,
                     std::size_t max_count = all_rows);

// As read_dataset, the images left on disk (ImageFile), the labels read.
struct DatasetFile {
  ImageFile images;
  std::vector<std::uint8_t> labels;
};
DatasetFile open_dataset(const std::string& images_path, const std::string& labels_path,
                         std::size_t max_count = all_rows);

struct Mnist {
  Dataset train, test;
};

// dir/name, or dir/name.gz when only that exists; DataError naming dir/name
// when neither does.
std::string mnist_file(const std::string& dir, const std::string& name);

// The four standard MNIST files in dir (train-images-idx3-ubyte, ...), each
// also accepted with a .gz suffix when the plain one is missing; of each
// set, the first max_train and max_test rows.
Mnist load_mnist(const std::string& dir, std::size_t max_train = all_rows, std::size_t max_test = all_rows);

// As load_mnist, the images left on disk (ImageFile), the labels read.
struct MnistFiles {
  DatasetFile train, test;
};
MnistFiles open_mnist(const std::string& dir, std::size_t max_train = all_rows, std::size_t max_test = all_rows);

// Where scripts/setup.sh puts MNIST: $DAGRAD_DATA if set, else
// $HOME/.cache/dagrad/mnist.
std::string default_mnist_dir();

// Images [first, first+count) as T in [0,1] (pixel / 255), one image per row
// of out, which is resized to count x features(). The images stay uint8.
template <class T>
void scale_rows(const Images& im, std::size_t first, std::size_t count, Matrix<T>& out);

// The images at the given indices, in that order (a shuffled batch).
template <class T>
void scale_rows(const Images& im, std::span<const std::size_t> indices, Matrix<T>& out);

extern template void scale_rows<float>(const Images&, std::size_t, std::size_t, Matrix<float>&);
extern template void scale_rows<double>(const Images&, std::size_t, std::size_t, Matrix<double>&);
extern template void scale_rows<float>(const Images&, std::span<const std::size_t>,
                                       Matrix<float>&);
extern template void scale_rows<double>(const Images&, std::span<const std::size_t>,
                                        Matrix<double>&);

}  // namespace dagrad
