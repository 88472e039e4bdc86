#include <dagrad/idx.hpp>

#include <zlib.h>

#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

namespace dagrad {

namespace {

constexpr std::uint8_t unsigned_byte_type = 0x08;
// Past the declared data, a gzip stream is decompressed only this far to count
// the extra bytes; beyond it the message says "more than".
constexpr std::size_t trailing_count_limit = std::size_t{1} << 20;
constexpr std::size_t chunk_bytes = std::size_t{1} << 20;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw DataError(path + ": " + problem);
}

std::string hex_byte(std::uint8_t b) {
  char s[5];
  std::snprintf(s, sizeof s, "0x%02X", static_cast<unsigned>(b));
  return s;
}

std::string type_name(std::uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit int";
    case 0x0C: return "32-bit int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "not an IDX type";
  }
}

std::string dims_text(const std::vector<std::uint32_t>& dims) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i) s += " x ";
    s += std::to_string(dims[i]);
  }
  return s;
}

// The bytes of a file, decompressed when it starts with the gzip magic 1f 8b.
class Source {
 public:
  explicit Source(const std::string& path) : path_(path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) fail(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (fstat(fileno(f), &st) != 0) {
      const int err = errno;
      std::fclose(f);
      fail(path, std::string("cannot open: ") + std::strerror(err));
    }
    if (S_ISDIR(st.st_mode)) {
      std::fclose(f);
      fail(path, "cannot open: is a directory");
    }
    std::array<std::uint8_t, 2> magic{};
    const std::size_t n = std::fread(magic.data(), 1, magic.size(), f);
    if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      std::fclose(f);
      gz_ = gzopen(path.c_str(), "rb");
      if (!gz_) fail(path, std::string("cannot open as gzip: ") + std::strerror(errno));
      gzbuffer(gz_, 128 * 1024);
      return;
    }
    file_ = f;
    if (std::fseek(file_, 0, SEEK_SET) != 0) {
      std::fclose(file_);
      fail(path, std::string("cannot rewind: ") + std::strerror(errno));
    }
    if (S_ISREG(st.st_mode)) size_ = static_cast<std::uint64_t>(st.st_size);
  }

  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  ~Source() {
    if (file_) std::fclose(file_);
    if (gz_) gzclose_r(gz_);
  }

  bool gzip() const { return gz_ != nullptr; }

  // The size of a plain regular file; unknown for gzip until decompressed.
  std::optional<std::uint64_t> size() const { return size_; }

  // Up to n bytes; fewer only at the end of the data. A read error or a
  // corrupt or truncated gzip stream throws.
  std::size_t read(std::uint8_t* buf, std::size_t n) {
    if (file_) {
      const std::size_t got = std::fread(buf, 1, n, file_);
      if (got < n && std::ferror(file_)) {
        fail(path_, std::string("read error: ") + std::strerror(errno));
      }
      return got;
    }
    std::size_t total = 0;
    while (total < n) {
      const auto want = static_cast<unsigned>(std::min(n - total, chunk_bytes));
      const int got = gzread(gz_, buf + total, want);
      if (got < 0) gzip_failed();
      total += static_cast<std::size_t>(got);
      if (static_cast<unsigned>(got) < want) {
        // gzread stops short only at the end of the input: it must be the
        // clean end of a gzip stream, not the middle of one.
        int code = Z_OK;
        gzerror(gz_, &code);
        if (code != Z_OK) gzip_failed();
        break;
      }
    }
    return total;
  }

 private:
  [[noreturn]] void gzip_failed() {
    int code = Z_OK;
    const char* msg = gzerror(gz_, &code);
    if (code == Z_BUF_ERROR) fail(path_, "truncated gzip stream: the compressed data ends early");
    if (code == Z_ERRNO) fail(path_, std::string("read error: ") + std::strerror(errno));
    // zlib's message repeats the path as "path: problem"; keep the problem.
    std::string problem = msg && *msg ? msg : "unknown error";
    if (problem.starts_with(path_ + ": ")) problem.erase(0, path_.size() + 2);
    fail(path_, "corrupt gzip stream: " + problem);
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  gzFile gz_ = nullptr;
  std::optional<std::uint64_t> size_;
};

// Reads an unsigned-byte IDX file; when expected_dims is non-zero, any other
// dimension count is rejected before the data is read. `what` names the
// file's contents for that message ("images", "labels").
// Training reads image rows in shuffled order: with 4 KiB pages nearly every
// row costs a TLB miss. Asking for transparent huge pages over a large,
// still untouched buffer (the kernel honours it when THP is set to
// "madvise") removes most of them; where refused, nothing changes.
void prefer_huge_pages(void* data, std::size_t bytes) {
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + huge - 1) & ~(huge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(huge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

IdxArray read_idx_checked(const std::string& path, std::size_t expected_dims, const char* what) {
  Source in(path);
  const char* kind = in.gzip() ? " (after gzip decompression)" : "";

  std::array<std::uint8_t, 4> magic{};
  const std::size_t got_magic = in.read(magic.data(), magic.size());
  if (got_magic < magic.size()) {
    fail(path, "truncated: " + std::to_string(got_magic) + " bytes" + kind +
                   ", too short for the 4-byte IDX magic number");
  }
  if (magic[0] != 0 || magic[1] != 0) {
    fail(path, "not an IDX file: wrong magic number " + hex_byte(magic[0]) + " " +
                   hex_byte(magic[1]) + " " + hex_byte(magic[2]) + " " + hex_byte(magic[3]) +
                   kind + ", expected 0x0000 then type 0x08");
  }
  if (magic[2] != unsigned_byte_type) {
    fail(path, "IDX type code " + hex_byte(magic[2]) + " (" + type_name(magic[2]) +
                   "): only type 0x08 (unsigned byte) is supported");
  }
  const std::size_t ndims = magic[3];
  if (ndims == 0) fail(path, "the IDX header declares 0 dimensions");
  if (expected_dims != 0 && ndims != expected_dims) {
    fail(path, std::string(what) + " need " + std::to_string(expected_dims) +
                   (expected_dims == 1 ? " dimension" : " dimensions") + ", the header declares " +
                   std::to_string(ndims));
  }

  std::vector<std::uint8_t> header(4 * ndims);
  const std::size_t got_header = in.read(header.data(), header.size());
  if (got_header < header.size()) {
    fail(path, "truncated header: " + std::to_string(ndims) + " dimensions need " +
                   std::to_string(header.size()) + " bytes after the magic number, found " +
                   std::to_string(got_header));
  }
  IdxArray arr;
  arr.dims.resize(ndims);
  for (std::size_t i = 0; i < ndims; ++i) {
    const std::uint8_t* p = &header[4 * i];
    arr.dims[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                  (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  }

  // The data size, checked against the limit at every step so that the
  // product can neither overflow nor lead to a huge allocation.
  std::uint64_t data_bytes = 1;
  const bool empty = std::find(arr.dims.begin(), arr.dims.end(), 0u) != arr.dims.end();
  if (empty) {
    data_bytes = 0;
  } else {
    for (const std::uint32_t d : arr.dims) {
      if (data_bytes > max_idx_bytes / d) {
        fail(path, "the header declares dimensions " + dims_text(arr.dims) +
                       ", more data than the limit of " + std::to_string(max_idx_bytes) +
                       " bytes (1 GiB)");
      }
      data_bytes *= d;
    }
  }
  const std::uint64_t header_bytes = 4 + header.size();
  const std::string declared = "the header declares " + dims_text(arr.dims) + " = " +
                               std::to_string(data_bytes) + " bytes of data";

  if (const auto size = in.size()) {
    const std::uint64_t found = *size > header_bytes ? *size - header_bytes : 0;
    if (found < data_bytes) {
      fail(path, "truncated: " + declared + ", found " + std::to_string(found));
    }
    if (found > data_bytes) {
      fail(path, std::to_string(found - data_bytes) + " trailing bytes: " + declared +
                     ", found " + std::to_string(found));
    }
    arr.data.reserve(static_cast<std::size_t>(data_bytes));
    prefer_huge_pages(arr.data.data(), arr.data.capacity());
    arr.data.resize(static_cast<std::size_t>(data_bytes));
    const std::size_t got = in.read(arr.data.data(), arr.data.size());
    if (got < arr.data.size()) {  // the file shrank while being read
      fail(path, "truncated: " + declared + ", found " + std::to_string(got));
    }
    return arr;
  }

  // A gzip stream: its size is known only after decompression, so the buffer
  // grows as data arrives rather than trusting the header up front.
  std::size_t have = 0;
  while (have < data_bytes) {
    const std::size_t step =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes, data_bytes - have));
    arr.data.resize(have + step);
    const std::size_t got = in.read(arr.data.data() + have, step);
    have += got;
    if (got < step) {
      fail(path, "truncated: " + declared + ", found " + std::to_string(have) + kind);
    }
  }
  std::array<std::uint8_t, 64 * 1024> rest{};
  std::size_t extra = 0;
  while (extra <= trailing_count_limit) {
    const std::size_t got = in.read(rest.data(), rest.size());
    extra += got;
    if (got < rest.size()) break;
  }
  if (extra > trailing_count_limit) {
    fail(path, "more than " + std::to_string(trailing_count_limit) +
                   " trailing bytes: " + declared + kind);
  }
  if (extra > 0) {
    fail(path, std::to_string(extra) + " trailing bytes: " + declared + ", found " +
                   std::to_string(data_bytes + extra) + kind);
  }
  return arr;
}

std::string join(const std::string& dir, const char* name) {
  return (std::filesystem::path(dir) / name).string();
}

// dir/name, or dir/name.gz when only that exists.
std::string mnist_file(const std::string& dir, const char* name) {
  const std::string plain = join(dir, name);
  std::error_code ec;
  if (std::filesystem::exists(plain, ec)) return plain;
  const std::string gz = plain + ".gz";
  if (std::filesystem::exists(gz, ec)) return gz;
  fail(plain, "not found (nor " + std::string(name) +
                  ".gz); run scripts/setup.sh to download MNIST");
}

void check_rows(const Images& im, std::size_t first, std::size_t count) {
  if (first > im.count || count > im.count - first) {
    throw Error("scale_rows: rows [" + std::to_string(first) + ", " + std::to_string(first) +
                " + " + std::to_string(count) + ") are outside the " + std::to_string(im.count) +
                " images");
  }
}

// byte / 255 for every byte, each correctly rounded in T as the division
// itself would be; a table lookup is several times faster than dividing.
// One row of pixels as T in [0, 1]: value / 255, correctly rounded, so every
// dtype sees exactly the numbers scikit-learn's `X / 255.` gives (float32:
// the same value after rounding). Written as a plain loop the compiler turns
// into SIMD conversions and divisions; a lookup table cannot vectorise.
template <class T>
void scale_span(const std::uint8_t* __restrict src, T* __restrict dst, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) dst[j] = static_cast<T>(src[j]) / T(255);
}

}  // namespace

IdxArray read_idx(const std::string& path) { return read_idx_checked(path, 0, "arrays"); }

Images read_images(const std::string& path) {
  IdxArray arr = read_idx_checked(path, 3, "images");
  if (arr.dims[0] == 0) fail(path, "the header declares 0 images");
  if (arr.dims[1] == 0 || arr.dims[2] == 0) {
    fail(path, "the header declares an image size of " + std::to_string(arr.dims[1]) + "x" +
                   std::to_string(arr.dims[2]) + "; neither may be 0");
  }
  Images im;
  im.count = arr.dims[0];
  im.rows = arr.dims[1];
  im.cols = arr.dims[2];
  im.pixels = std::move(arr.data);
  return im;
}

std::vector<std::uint8_t> read_labels(const std::string& path) {
  IdxArray arr = read_idx_checked(path, 1, "labels");
  if (arr.dims[0] == 0) fail(path, "the header declares 0 labels");
  for (std::size_t i = 0; i < arr.data.size(); ++i) {
    if (arr.data[i] > 9) {
      fail(path, "label " + std::to_string(i) + " is " + std::to_string(arr.data[i]) +
                     ", outside 0-9");
    }
  }
  return std::move(arr.data);
}

Dataset read_dataset(const std::string& images_path, const std::string& labels_path) {
  Dataset d{read_images(images_path), read_labels(labels_path)};
  if (d.images.count != d.labels.size()) {
    throw DataError(images_path + " holds " + std::to_string(d.images.count) + " images but " +
                    labels_path + " holds " + std::to_string(d.labels.size()) +
                    " labels; the counts must agree");
  }
  return d;
}

Mnist load_mnist(const std::string& dir) {
  // Named in order so that a missing folder is reported by its first file.
  const std::string train_images = mnist_file(dir, "train-images-idx3-ubyte");
  const std::string train_labels = mnist_file(dir, "train-labels-idx1-ubyte");
  const std::string test_images = mnist_file(dir, "t10k-images-idx3-ubyte");
  const std::string test_labels = mnist_file(dir, "t10k-labels-idx1-ubyte");
  Mnist m;
  m.train = read_dataset(train_images, train_labels);
  m.test = read_dataset(test_images, test_labels);
  return m;
}

std::string default_mnist_dir() {
  if (const char* data = std::getenv("DAGRAD_DATA"); data && *data) return data;
  const char* home = std::getenv("HOME");
  if (!home || !*home) {
    throw DataError("default_mnist_dir: neither DAGRAD_DATA nor HOME is set");
  }
  return join(home, ".cache/dagrad/mnist");
}

template <class T>
void scale_rows(const Images& im, std::size_t first, std::size_t count, Matrix<T>& out) {
  check_rows(im, first, count);
  const std::size_t f = im.features();
  out.resize(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(f));
  scale_span(im.pixels.data() + first * f, out.data(), count * f);
}

template <class T>
void scale_rows(const Images& im, std::span<const std::size_t> indices, Matrix<T>& out) {
  const std::size_t f = im.features();
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= im.count) {
      throw Error("scale_rows: index " + std::to_string(i) + " is image " +
                  std::to_string(indices[i]) + ", outside the " + std::to_string(im.count) +
                  " images");
    }
  }
  out.resize(static_cast<Eigen::Index>(indices.size()), static_cast<Eigen::Index>(f));
  // Shuffled rows sit anywhere in the images: their loads would miss cache
  // every time, so the rows a few steps ahead are asked for early.
  constexpr std::size_t ahead = 4;
  auto prefetch = [&](std::size_t i) {
    const std::uint8_t* row = im.pixels.data() + indices[i] * f;
    for (std::size_t b = 0; b < f; b += 64) __builtin_prefetch(row + b);
  };
  for (std::size_t i = 0; i < std::min(ahead, indices.size()); ++i) prefetch(i);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (i + ahead < indices.size()) prefetch(i + ahead);
    scale_span(im.pixels.data() + indices[i] * f, out.data() + i * f, f);
  }
}

template void scale_rows<float>(const Images&, std::size_t, std::size_t, Matrix<float>&);
template void scale_rows<double>(const Images&, std::size_t, std::size_t, Matrix<double>&);
template void scale_rows<float>(const Images&, std::span<const std::size_t>, Matrix<float>&);
template void scale_rows<double>(const Images&, std::span<const std::size_t>, Matrix<double>&);

}  // namespace dagrad
