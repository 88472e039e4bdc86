#include <dagrad/core/detail/dispatch.hpp>
#include <dagrad/io/detail/scale_rows.hpp>
#include <dagrad/io/idx.hpp>
#include "file_problem.hpp"

#include <zlib.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

namespace dagrad {

namespace {

constexpr std::uint8_t unsigned_byte_type = 0x08;
// Past the declared data, a gzip stream is decompressed only this far to count
// the extra bytes; beyond it the message says "more than".
constexpr std::size_t trailing_count_limit = std::size_t{1} << 20;
constexpr std::size_t chunk_bytes = std::size_t{1} << 20;

using io_files::fail;

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

// The bytes of a file or of a buffer, decompressed when they start with the
// gzip magic 1f 8b. Compressed input is taken 128 KiB at a time (from the
// file, or as a window on the buffer) and inflated straight into the
// caller's memory; members written one after another are read as one
// stream, and bytes after a member that do not start another are ignored,
// as gzip itself does. A file and the same bytes in memory go through the
// same code, so they give the same data and the same messages.
class Source {
 public:
  explicit Source(const std::string& path) : path_(path) {
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) fail(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (fstat(fileno(file_.get()), &st) != 0) {
      fail(path, std::string("cannot open: ") + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) fail(path, "cannot open: is a directory");
    std::array<std::uint8_t, 2> magic{};
    const std::size_t n = std::fread(magic.data(), 1, magic.size(), file_.get());
    if (std::fseek(file_.get(), 0, SEEK_SET) != 0) {
      fail(path, std::string("cannot rewind: ") + std::strerror(errno));
    }
    if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      start_gzip();
    } else if (S_ISREG(st.st_mode)) {
      size_ = static_cast<std::uint64_t>(st.st_size);
    }
  }

  Source(std::span<const std::uint8_t> bytes, const std::string& name) : path_(name), memory_(bytes) {
    if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
      start_gzip();
    } else {
      size_ = bytes.size();
    }
  }

  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  ~Source() {
    if (gzip_) inflateEnd(&strm_);
  }

  bool gzip() const { return gzip_; }

  // The size of plain bytes, from a regular file or memory; unknown for gzip
  // until decompressed.
  std::optional<std::uint64_t> size() const { return size_; }

  // Up to n bytes; fewer only at the end of the data. A read error or a
  // corrupt or truncated gzip stream throws.
  std::size_t read(std::uint8_t* buf, std::size_t n) {
    if (!gzip_) return load(buf, n);
    std::size_t total = 0;
    while (total < n && !ended_) {
      // zlib counts in 32 bits: hand it at most a chunk at a time.
      const std::size_t want = std::min(n - total, chunk_bytes);
      strm_.next_out = buf + total;
      strm_.avail_out = static_cast<unsigned>(want);
      inflate_some();
      total += want - strm_.avail_out;
    }
    return total;
  }

 private:
  static constexpr std::size_t in_size = 128 * 1024;

  // Up to n raw bytes; fewer only at the end of the file or buffer.
  std::size_t load(std::uint8_t* buf, std::size_t n) {
    if (!file_) {
      const std::size_t got = std::min(n, memory_.size() - loaded_);
      if (got) std::memcpy(buf, memory_.data() + loaded_, got);
      loaded_ += got;
      return got;
    }
    const std::size_t got = std::fread(buf, 1, n, file_.get());
    if (got < n && std::ferror(file_.get())) fail(path_, std::string("read error: ") + std::strerror(errno));
    return got;
  }

  void start_gzip() {
    // Not zeroed: every byte is written by a read before inflate sees it.
    if (file_) in_ = std::make_unique_for_overwrite<std::uint8_t[]>(in_size);
    if (inflateInit2(&strm_, 15 + 16) != Z_OK) fail(path_, "corrupt gzip stream: out of memory");
    gzip_ = true;  // from here on the destructor ends the inflate stream
  }

  // Makes at least `want` (1 or 2) compressed bytes available when the
  // input still holds them, keeping any left over; returns how many are.
  unsigned have_input(unsigned want) {
    if (strm_.avail_in >= want) return strm_.avail_in;
    if (file_) {
      if (strm_.avail_in) std::memmove(in_.get(), strm_.next_in, strm_.avail_in);
      const std::size_t got = load(in_.get() + strm_.avail_in, in_size - strm_.avail_in);
      strm_.next_in = in_.get();
      strm_.avail_in += static_cast<unsigned>(got);
    } else {
      // The window on the buffer grows: what is left sits just before the
      // bytes not yet taken. inflate only reads its input; zlib's type lacks
      // the const.
      if (strm_.avail_in == 0) strm_.next_in = const_cast<std::uint8_t*>(memory_.data() + loaded_);
      const std::size_t got = std::min(in_size, memory_.size() - loaded_);
      loaded_ += got;
      strm_.avail_in += static_cast<unsigned>(got);
    }
    return strm_.avail_in;
  }

  // Inflates into next_out until avail_out is used up or the data ends.
  void inflate_some() {
    while (strm_.avail_out > 0) {
      if (between_members_) {
        // The data goes on only if another member follows; anything else
        // after a member is trailing bytes, left unread.
        if (have_input(2) < 2 || strm_.next_in[0] != 0x1f || strm_.next_in[1] != 0x8b) break;
        inflateReset(&strm_);
        between_members_ = false;
      }
      if (have_input(1) == 0) fail(path_, "truncated gzip stream: the compressed data ends early");
      const int ret = inflate(&strm_, Z_NO_FLUSH);
      if (ret == Z_STREAM_END) {
        between_members_ = true;
      } else if (ret == Z_DATA_ERROR) {
        fail(path_, std::string("corrupt gzip stream: ") + (strm_.msg ? strm_.msg : "compressed data error"));
      } else if (ret == Z_MEM_ERROR) {
        fail(path_, "corrupt gzip stream: out of memory");
      } else if (ret != Z_OK && !(ret == Z_BUF_ERROR && strm_.avail_in == 0)) {
        fail(path_, "corrupt gzip stream: internal error: inflate stream corrupt");
      }
    }
    if (strm_.avail_out > 0) ended_ = true;
  }

  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  std::string path_;
  std::unique_ptr<std::FILE, Closer> file_;
  std::span<const std::uint8_t> memory_;
  std::size_t loaded_ = 0;  // bytes of memory_ (or the file) taken so far
  std::optional<std::uint64_t> size_;

  bool gzip_ = false;
  z_stream strm_{};
  bool between_members_ = false;  // a member ended; another may follow
  bool ended_ = false;            // no more data
  std::unique_ptr<std::uint8_t[]> in_;
};

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

// Reads an unsigned-byte IDX file from `in`, named `path` in messages; when
// expected_dims is non-zero, any other dimension count is rejected before the
// data is read. `what` names the file's contents for that message ("images",
// "labels").
// The magic number and the dimensions, checked against what the caller expects.
std::vector<std::uint32_t> read_idx_header(Source& in, const std::string& path, std::size_t expected_dims,
                                           const char* what, const char* kind) {
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
  std::vector<std::uint32_t> dims(ndims);
  for (std::size_t i = 0; i < ndims; ++i) {
    const std::uint8_t* p = &header[4 * i];
    dims[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
              std::uint32_t{p[3]};
  }
  return dims;
}

// The data size the dimensions declare, checked against the limit at every
// step so that the product can neither overflow nor lead to a huge allocation.
std::uint64_t declared_bytes(const std::vector<std::uint32_t>& dims, const std::string& path) {
  if (std::find(dims.begin(), dims.end(), 0u) != dims.end()) return 0;
  std::uint64_t bytes = 1;
  for (const std::uint32_t d : dims) {
    if (bytes > max_idx_bytes / d) {
      fail(path, "the header declares dimensions " + dims_text(dims) + ", more data than the limit of " +
                     std::to_string(max_idx_bytes) + " bytes (1 GiB)");
    }
    bytes *= d;
  }
  return bytes;
}

// A file of known size: the size is checked against the declared data before
// the first read_bytes of it are read at once.
// A plain file's size against what its header declares: no byte short,
// none over.
void check_size(const std::string& path, std::uint64_t file_size, std::uint64_t header_bytes,
                std::uint64_t data_bytes, const std::string& declared) {
  const std::uint64_t found = file_size > header_bytes ? file_size - header_bytes : 0;
  if (found < data_bytes) fail(path, "truncated: " + declared + ", found " + std::to_string(found));
  if (found > data_bytes) {
    fail(path, std::to_string(found - data_bytes) + " trailing bytes: " + declared + ", found " +
                   std::to_string(found));
  }
}

void read_sized_data(Source& in, const std::string& path, std::uint64_t file_size, std::uint64_t header_bytes,
                     std::uint64_t data_bytes, std::uint64_t read_bytes, const std::string& declared,
                     std::vector<std::uint8_t>& data) {
  check_size(path, file_size, header_bytes, data_bytes, declared);
  data.reserve(static_cast<std::size_t>(read_bytes));
  prefer_huge_pages(data.data(), data.capacity());
  data.resize(static_cast<std::size_t>(read_bytes));
  const std::size_t got = in.read(data.data(), data.size());
  if (got < data.size()) {  // the file shrank while being read
    fail(path, "truncated: " + declared + ", found " + std::to_string(got));
  }
}

// A gzip stream: its size is known only after decompression, so the buffer
// grows as data arrives rather than trusting the header up front. Only the
// first read_bytes are decompressed; when that is all the declared data,
// what follows it is counted (up to a limit) for the message.
void read_streamed_data(Source& in, const std::string& path, std::uint64_t data_bytes, std::uint64_t read_bytes,
                        const std::string& declared, const char* kind, std::vector<std::uint8_t>& data) {
  std::size_t have = 0;
  while (have < read_bytes) {
    const std::size_t step = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes, read_bytes - have));
    data.resize(have + step);
    const std::size_t got = in.read(data.data() + have, step);
    have += got;
    if (got < step) fail(path, "truncated: " + declared + ", found " + std::to_string(have) + kind);
  }
  if (read_bytes < data_bytes) return;
  std::array<std::uint8_t, 64 * 1024> rest{};
  std::size_t extra = 0;
  while (extra <= trailing_count_limit) {
    const std::size_t got = in.read(rest.data(), rest.size());
    extra += got;
    if (got < rest.size()) break;
  }
  if (extra > trailing_count_limit) {
    fail(path, "more than " + std::to_string(trailing_count_limit) + " trailing bytes: " + declared + kind);
  }
  if (extra > 0) {
    fail(path, std::to_string(extra) + " trailing bytes: " + declared + ", found " +
                   std::to_string(data_bytes + extra) + kind);
  }
}

std::string declaration(const std::vector<std::uint32_t>& dims, std::uint64_t data_bytes) {
  return "the header declares " + dims_text(dims) + " = " + std::to_string(data_bytes) + " bytes of data";
}

// The header and the data of the first max_first entries of the first
// dimension (images, labels); arr.dims stays what the header declares.
IdxArray read_idx_checked(Source& in, const std::string& path, std::size_t expected_dims, const char* what,
                          std::size_t max_first = all_rows) {
  const char* kind = in.gzip() ? " (after gzip decompression)" : "";
  IdxArray arr;
  arr.dims = read_idx_header(in, path, expected_dims, what, kind);
  const std::uint64_t data_bytes = declared_bytes(arr.dims, path);
  const std::uint64_t header_bytes = 4 + 4 * arr.dims.size();
  const std::uint64_t first = arr.dims[0];
  const std::uint64_t read_bytes = max_first >= first ? data_bytes : data_bytes / first * max_first;
  const std::string declared = declaration(arr.dims, data_bytes);
  if (const auto size = in.size()) {
    read_sized_data(in, path, *size, header_bytes, data_bytes, read_bytes, declared, arr.data);
  } else {
    read_streamed_data(in, path, data_bytes, read_bytes, declared, kind, arr.data);
  }
  return arr;
}

std::string join(const std::string& dir, const char* name) {
  return (std::filesystem::path(dir) / name).string();
}

void check_rows(const Images& im, std::size_t first, std::size_t count) {
  if (first > im.count || count > im.count - first) {
    throw Error("scale_rows: rows [" + std::to_string(first) + ", " + std::to_string(first) +
                " + " + std::to_string(count) + ") are outside the " + std::to_string(im.count) +
                " images");
  }
}

// One row of pixels as T in [0, 1]: value / 255, correctly rounded, so every
// dtype sees exactly the numbers scikit-learn's `X / 255.` gives (float32:
// the same value after rounding). Written as a plain loop the compiler turns
// into SIMD conversions and divisions; a lookup table cannot vectorise.
// Cloned for AVX2 in a portable library (division is exact in either).
DAGRAD_CLONES void scale_span(const std::uint8_t* __restrict src, float* __restrict dst, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) dst[j] = static_cast<float>(src[j]) / 255.0f;
}
DAGRAD_CLONES void scale_span(const std::uint8_t* __restrict src, double* __restrict dst, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) dst[j] = static_cast<double>(src[j]) / 255.0;
}

// The files' own counts, whatever part of them is read, must agree.
void check_counts(const std::string& images_path, std::uint64_t images, const std::string& labels_path,
                  std::uint64_t labels) {
  if (images != labels) {
    throw DataError(images_path + " holds " + std::to_string(images) + " images but " + labels_path + " holds " +
                    std::to_string(labels) + " labels; the counts must agree");
  }
}

// The checks read_images adds to read_idx's, on a 3-D header.
void check_image_dims(const std::vector<std::uint32_t>& dims, const std::string& path) {
  if (dims[0] == 0) fail(path, "the header declares 0 images");
  if (dims[1] == 0 || dims[2] == 0) {
    fail(path, "the header declares an image size of " + std::to_string(dims[1]) + "x" + std::to_string(dims[2]) +
                   "; neither may be 0");
  }
}

// The images read, checked as read_images checks them.
Images to_images(IdxArray arr, const std::string& path) {
  check_image_dims(arr.dims, path);
  Images im;
  im.count = arr.data.size() / (std::size_t{arr.dims[1]} * arr.dims[2]);
  im.rows = arr.dims[1];
  im.cols = arr.dims[2];
  im.pixels = std::move(arr.data);
  return im;
}

// The checks read_labels adds to read_idx's.
std::vector<std::uint8_t> to_labels(IdxArray arr, const std::string& path) {
  if (arr.dims[0] == 0) fail(path, "the header declares 0 labels");
  for (std::size_t i = 0; i < arr.data.size(); ++i) {
    if (arr.data[i] > 9) {
      fail(path, "label " + std::to_string(i) + " is " + std::to_string(arr.data[i]) +
                     ", outside 0-9");
    }
  }
  return std::move(arr.data);
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  Source in(path);
  return read_idx_checked(in, path, 0, "arrays");
}

IdxArray parse_idx(std::span<const std::uint8_t> bytes, const std::string& name) {
  Source in(bytes, name);
  return read_idx_checked(in, name, 0, "arrays");
}

Images read_images(const std::string& path, std::size_t max_count) {
  Source in(path);
  return to_images(read_idx_checked(in, path, 3, "images", max_count), path);
}

Images parse_images(std::span<const std::uint8_t> bytes, const std::string& name) {
  Source in(bytes, name);
  return to_images(read_idx_checked(in, name, 3, "images"), name);
}

std::vector<std::uint8_t> read_labels(const std::string& path, std::size_t max_count) {
  Source in(path);
  return to_labels(read_idx_checked(in, path, 1, "labels", max_count), path);
}

std::vector<std::uint8_t> parse_labels(std::span<const std::uint8_t> bytes, const std::string& name) {
  Source in(bytes, name);
  return to_labels(read_idx_checked(in, name, 1, "labels"), name);
}

Dataset read_dataset(const std::string& images_path, const std::string& labels_path, std::size_t max_count) {
  Source image_source(images_path);
  IdxArray images = read_idx_checked(image_source, images_path, 3, "images", max_count);
  Source label_source(labels_path);
  IdxArray labels = read_idx_checked(label_source, labels_path, 1, "labels", max_count);
  check_counts(images_path, images.dims[0], labels_path, labels.dims[0]);
  return {to_images(std::move(images), images_path), to_labels(std::move(labels), labels_path)};
}

struct ImageFile::Impl {
  std::string path;
  std::size_t count = 0, declared = 0, rows = 0, cols = 0;
  std::uint64_t offset = 0;  // where the first image starts
  int fd = -1;               // a plain file's, read at offsets
  Images memory;             // a gzip-compressed file's images, decompressed

  ~Impl() {
    if (fd >= 0) close(fd);
  }

  // Images [first, first + n) of the file into out.
  void read_run(std::size_t first, std::size_t n, std::uint8_t* out) const {
    const std::size_t f = rows * cols;
    if (fd < 0) {
      std::memcpy(out, memory.pixels.data() + first * f, n * f);
      return;
    }
    std::size_t done = 0;
    const std::size_t bytes = n * f;
    while (done < bytes) {
      const ssize_t got = pread(fd, out + done, bytes - done, off_t(offset + first * f + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail(path, "image " + std::to_string(first + done / f) + ": read error: " + std::strerror(errno));
      if (got == 0) {
        fail(path, "image " + std::to_string(first + done / f) +
                       ": the file ends before it; it changed since it was opened");
      }
      done += std::size_t(got);
    }
  }
};

ImageFile::ImageFile(const std::string& path, std::size_t max_count) : impl_(std::make_unique<Impl>()) {
  Impl& f = *impl_;
  f.path = path;
  Source in(path);
  if (in.gzip()) {
    IdxArray arr = read_idx_checked(in, path, 3, "images", max_count);
    f.declared = arr.dims[0];
    f.memory = to_images(std::move(arr), path);
    f.count = f.memory.count;
    f.rows = f.memory.rows;
    f.cols = f.memory.cols;
    return;
  }
  const std::vector<std::uint32_t> dims = read_idx_header(in, path, 3, "images", "");
  const std::uint64_t data_bytes = declared_bytes(dims, path);
  check_image_dims(dims, path);
  const std::uint64_t header_bytes = 4 + 4 * dims.size();
  const std::optional<std::uint64_t> size = in.size();
  if (!size) fail(path, "not a regular file; images are read from it as they are used (read_images reads a stream)");
  check_size(path, *size, header_bytes, data_bytes, declaration(dims, data_bytes));
  f.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (f.fd < 0 || fstat(f.fd, &st) != 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  if (std::uint64_t(st.st_size) != *size) fail(path, "changed while it was being opened; open it again");
  f.offset = header_bytes;
  f.declared = dims[0];
  f.count = std::min<std::size_t>(max_count, dims[0]);
  f.rows = dims[1];
  f.cols = dims[2];
}

ImageFile::~ImageFile() = default;
ImageFile::ImageFile(ImageFile&&) noexcept = default;
ImageFile& ImageFile::operator=(ImageFile&&) noexcept = default;

const std::string& ImageFile::path() const { return impl_->path; }
std::size_t ImageFile::count() const { return impl_->count; }
std::size_t ImageFile::declared() const { return impl_->declared; }
std::size_t ImageFile::rows() const { return impl_->rows; }
std::size_t ImageFile::cols() const { return impl_->cols; }

void ImageFile::read(std::size_t first, std::size_t n, std::uint8_t* out) const {
  if (first > impl_->count || n > impl_->count - first) {
    throw Error("ImageFile::read: images [" + std::to_string(first) + ", " + std::to_string(first) + " + " +
                std::to_string(n) + ") are outside the " + std::to_string(impl_->count) + " of " + impl_->path);
  }
  impl_->read_run(first, n, out);
}

void ImageFile::read(std::span<const std::size_t> indices, std::uint8_t* out) const {
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= impl_->count) {
      throw Error("ImageFile::read: index " + std::to_string(i) + " is image " + std::to_string(indices[i]) +
                  ", outside the " + std::to_string(impl_->count) + " of " + impl_->path);
    }
  }
  // Runs of consecutive images (a slice, or rows scored in order) are one
  // read each; a shuffled batch is a read an image.
  const std::size_t f = features();
  for (std::size_t i = 0; i < indices.size();) {
    std::size_t run = 1;
    while (i + run < indices.size() && indices[i + run] == indices[i] + run) ++run;
    impl_->read_run(indices[i], run, out + i * f);
    i += run;
  }
}

DatasetFile open_dataset(const std::string& images_path, const std::string& labels_path, std::size_t max_count) {
  ImageFile images(images_path, max_count);
  Source label_source(labels_path);
  IdxArray labels = read_idx_checked(label_source, labels_path, 1, "labels", max_count);
  check_counts(images_path, images.declared(), labels_path, labels.dims[0]);
  return {std::move(images), to_labels(std::move(labels), labels_path)};
}

std::string mnist_file(const std::string& dir, const std::string& name) {
  const std::string plain = join(dir, name.c_str());
  std::error_code ec;
  if (std::filesystem::exists(plain, ec)) return plain;
  const std::string gz = plain + ".gz";
  if (std::filesystem::exists(gz, ec)) return gz;
  fail(plain, "not found (nor " + name + ".gz); run scripts/setup.sh to download MNIST");
}

namespace {
// The four standard files in dir, named in order so that a missing folder
// is reported by its first file.
struct MnistPaths {
  std::string train_images, train_labels, test_images, test_labels;
};
MnistPaths mnist_paths(const std::string& dir) {
  MnistPaths p;
  p.train_images = mnist_file(dir, "train-images-idx3-ubyte");
  p.train_labels = mnist_file(dir, "train-labels-idx1-ubyte");
  p.test_images = mnist_file(dir, "t10k-images-idx3-ubyte");
  p.test_labels = mnist_file(dir, "t10k-labels-idx1-ubyte");
  return p;
}
}  // namespace

Mnist load_mnist(const std::string& dir, std::size_t max_train, std::size_t max_test) {
  const MnistPaths p = mnist_paths(dir);
  Mnist m;
  m.train = read_dataset(p.train_images, p.train_labels, max_train);
  m.test = read_dataset(p.test_images, p.test_labels, max_test);
  return m;
}

MnistFiles open_mnist(const std::string& dir, std::size_t max_train, std::size_t max_test) {
  const MnistPaths p = mnist_paths(dir);
  return {open_dataset(p.train_images, p.train_labels, max_train),
          open_dataset(p.test_images, p.test_labels, max_test)};
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
  detail::scale_indexed_rows(im.pixels.data(), f, indices, out.data());
}

namespace detail {

template <class T>
void scale_indexed_rows(const std::uint8_t* bytes, std::size_t width, std::span<const std::size_t> indices,
                        T* out) {
  // Shuffled rows sit anywhere in the images: their loads would miss cache
  // every time, so the rows a few steps ahead are asked for early.
  constexpr std::size_t ahead = 4;
  auto prefetch = [&](std::size_t i) {
    const std::uint8_t* row = bytes + indices[i] * width;
    for (std::size_t b = 0; b < width; b += 64) __builtin_prefetch(row + b);
  };
  for (std::size_t i = 0; i < std::min(ahead, indices.size()); ++i) prefetch(i);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (i + ahead < indices.size()) prefetch(i + ahead);
    scale_span(bytes + indices[i] * width, out + i * width, width);
  }
}

template void scale_indexed_rows<float>(const std::uint8_t*, std::size_t, std::span<const std::size_t>, float*);
template void scale_indexed_rows<double>(const std::uint8_t*, std::size_t, std::span<const std::size_t>, double*);

template <class T>
void scale_bytes(const std::uint8_t* bytes, std::size_t n, T* out) {
  scale_span(bytes, out, n);
}

template void scale_bytes<float>(const std::uint8_t*, std::size_t, float*);
template void scale_bytes<double>(const std::uint8_t*, std::size_t, double*);

}  // namespace detail

template void scale_rows<float>(const Images&, std::size_t, std::size_t, Matrix<float>&);
template void scale_rows<double>(const Images&, std::size_t, std::size_t, Matrix<double>&);
template void scale_rows<float>(const Images&, std::span<const std::size_t>, Matrix<float>&);
template void scale_rows<double>(const Images&, std::span<const std::size_t>, Matrix<double>&);

}  // namespace dagrad
