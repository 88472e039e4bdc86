#include <dagrad/io/features.hpp>
#include <dagrad/io/idx.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "contains.hpp"
#include "temp_dir.hpp"
#include "thrown.hpp"

namespace fs = std::filesystem;
using dagrad::testing::TempDir;
using dagrad::DataError;
using Bytes = std::vector<std::uint8_t>;

namespace {

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::uint32_t crc32(const Bytes& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const std::uint8_t b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void append_le32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A gzip stream (RFC 1952) holding the bytes in stored deflate blocks. The
// test writes the format itself because test programs do not link zlib (the
// library links it privately); gzip_three_images() below covers real
// compressed data.
Bytes gzip_bytes(const Bytes& bytes) {
  Bytes out{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03};
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(bytes.size() - pos, 0xFFFF);
    const bool last = pos + n == bytes.size();
    out.push_back(last ? 1 : 0);  // BFINAL, BTYPE 00: stored
    out.push_back(static_cast<std::uint8_t>(n));
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(~n));
    out.push_back(static_cast<std::uint8_t>(~n >> 8));
    out.insert(out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(pos),
               bytes.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
  } while (pos < bytes.size());
  append_le32(out, crc32(bytes));
  append_le32(out, static_cast<std::uint32_t>(bytes.size()));
  return out;
}

void write_gzip(const std::string& path, const Bytes& bytes) { write_file(path, gzip_bytes(bytes)); }

// An IDX header: 00 00, the type code, the dimension count, then each
// dimension as a big-endian uint32.
Bytes header(std::initializer_list<std::uint32_t> dims, std::uint8_t type = 0x08) {
  Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t d : dims) {
    b.push_back(static_cast<std::uint8_t>(d >> 24));
    b.push_back(static_cast<std::uint8_t>(d >> 16));
    b.push_back(static_cast<std::uint8_t>(d >> 8));
    b.push_back(static_cast<std::uint8_t>(d));
  }
  return b;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Three 2x3 images; image k, row r, col c holds 100*k + 10*r + c.
Bytes three_images_data() {
  Bytes d;
  for (int k = 0; k < 3; ++k)
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) d.push_back(static_cast<std::uint8_t>(100 * k + 10 * r + c));
  return d;
}

Bytes three_images() { return concat(header({3, 2, 3}), three_images_data()); }
// The same images as read_images gives them.
dagrad::Images three_images_read() { return {.count = 3, .rows = 2, .cols = 3, .pixels = three_images_data()}; }
Bytes three_labels() { return concat(header({3}), {7, 0, 9}); }

// three_images() as zlib's gzip writer compresses it (fixed Huffman codes).
Bytes gzip_three_images() {
  return {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x63, 0x60, 0xe0,
          0x60, 0x66, 0x60, 0x60, 0x00, 0x61, 0x26, 0x30, 0xcd, 0xc8, 0xc4, 0xc5, 0xcd,
          0x93, 0x92, 0x9a, 0x96, 0x97, 0x5f, 0x70, 0xe2, 0xe4, 0xa9, 0x4b, 0x97, 0xaf,
          0x00, 0x00, 0xc0, 0x50, 0x56, 0xfc, 0x22, 0x00, 0x00, 0x00};
}

// The message of the DataError that f throws; fails the test if it throws none.
std::string data_error(const std::function<void()>& f) { return thrown<DataError>(f); }

void check_images_are_three_images(const dagrad::Images& im) {
  REQUIRE(im.count == 3);
  REQUIRE(im.rows == 2);
  REQUIRE(im.cols == 3);
  CHECK(im.features() == 6);
  REQUIRE(im.pixels.size() == 18);
  for (std::size_t k = 0; k < 3; ++k)
    for (std::size_t r = 0; r < 2; ++r)
      for (std::size_t c = 0; c < 3; ++c) CHECK(im.pixels[k * 6 + r * 3 + c] == 100 * k + 10 * r + c);
}

}  // namespace

TEST_CASE("A valid image file and label file load with every pixel in place") {
  const TempDir dir("idx");
  write_file(dir.file("images"), three_images());
  write_file(dir.file("labels"), three_labels());

  const dagrad::Dataset d = dagrad::read_dataset(dir.file("images"), dir.file("labels"));
  check_images_are_three_images(d.images);
  CHECK(d.labels == Bytes{7, 0, 9});
}

TEST_CASE("read_idx returns the header's dimensions and the raw bytes") {
  const TempDir dir("idx");
  write_file(dir.file("a"), concat(header({2, 2}), {1, 2, 3, 4}));
  const dagrad::IdxArray a = dagrad::read_idx(dir.file("a"));
  CHECK(a.dims == std::vector<std::uint32_t>{2, 2});
  CHECK(a.data == Bytes{1, 2, 3, 4});

  // A zero dimension is a valid, empty array for read_idx.
  write_file(dir.file("empty"), header({0, 5}));
  const dagrad::IdxArray e = dagrad::read_idx(dir.file("empty"));
  CHECK(e.dims == std::vector<std::uint32_t>{0, 5});
  CHECK(e.data.empty());
}

TEST_CASE("A gzip-compressed file loads the same as the plain one, whatever its name") {
  const TempDir dir("idx");
  write_file(dir.file("images.gz"), gzip_three_images());
  write_gzip(dir.file("stored_images"), three_images());
  write_gzip(dir.file("labels_no_suffix"), three_labels());

  const dagrad::Dataset d = dagrad::read_dataset(dir.file("images.gz"), dir.file("labels_no_suffix"));
  check_images_are_three_images(d.images);
  CHECK(d.labels == Bytes{7, 0, 9});
  check_images_are_three_images(dagrad::read_images(dir.file("stored_images")));
  CHECK(dagrad::read_idx(dir.file("images.gz")).data == three_images_data());
}

TEST_CASE("load_mnist reads the four standard names, plain or with .gz") {
  const TempDir dir("idx");
  write_file(dir.file("train-images-idx3-ubyte"), three_images());
  write_gzip(dir.file("train-labels-idx1-ubyte.gz"), three_labels());
  write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), concat(header({1, 2, 3}), {0, 1, 2, 3, 4, 255}));
  write_file(dir.file("t10k-labels-idx1-ubyte"), concat(header({1}), {4}));

  const dagrad::Mnist m = dagrad::load_mnist(dir.path.string());
  check_images_are_three_images(m.train.images);
  CHECK(m.train.labels == Bytes{7, 0, 9});
  CHECK(m.test.images.count == 1);
  CHECK(m.test.images.pixels == Bytes{0, 1, 2, 3, 4, 255});
  CHECK(m.test.labels == Bytes{4});
}

TEST_CASE("max_count reads only the first rows, and a plain file is still checked whole") {
  const TempDir dir("idx");
  write_file(dir.file("images"), three_images());
  write_gzip(dir.file("labels.gz"), three_labels());
  const Bytes data = three_images_data();

  const dagrad::Dataset two = dagrad::read_dataset(dir.file("images"), dir.file("labels.gz"), 2);
  REQUIRE(two.images.count == 2);
  CHECK(two.images.pixels == Bytes(data.begin(), data.begin() + 12));
  CHECK(two.labels == Bytes{7, 0});
  // More than the file holds: all of it.
  check_images_are_three_images(dagrad::read_images(dir.file("images"), 50));
  CHECK(dagrad::read_labels(dir.file("labels.gz"), 3) == Bytes{7, 0, 9});

  // A plain file's size is checked against its header even when one row is read.
  write_file(dir.file("short"), concat(header({3, 2, 3}), Bytes(data.begin(), data.end() - 1)));
  CHECK(data_error([&] { dagrad::read_images(dir.file("short"), 1); }).find("truncated") != std::string::npos);
  write_file(dir.file("long"), concat(three_images(), {0}));
  CHECK(data_error([&] { dagrad::read_images(dir.file("long"), 1); }).find("1 trailing bytes") != std::string::npos);
  // Of a gzip file, what is read is decompressed and checked: a label past
  // the rows read is not looked at, one among them is.
  write_gzip(dir.file("bad_last.gz"), concat(header({3}), {7, 0, 10}));
  CHECK(dagrad::read_labels(dir.file("bad_last.gz"), 2) == Bytes{7, 0});
  CHECK(data_error([&] { dagrad::read_labels(dir.file("bad_last.gz"), 3); }).find("label 2 is 10") !=
        std::string::npos);

  // The files' own counts must agree, whatever part of them is read.
  write_file(dir.file("four_labels"), concat(header({4}), {1, 2, 3, 4}));
  const std::string msg = data_error([&] { dagrad::read_dataset(dir.file("images"), dir.file("four_labels"), 2); });
  CHECK(msg.find("holds 3 images but") != std::string::npos);
  CHECK(msg.find("holds 4 labels") != std::string::npos);
}

TEST_CASE("load_mnist reads the first max_train and max_test rows of each set") {
  const TempDir dir("idx");
  write_file(dir.file("train-images-idx3-ubyte"), three_images());
  write_file(dir.file("train-labels-idx1-ubyte"), three_labels());
  write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), three_images());
  write_file(dir.file("t10k-labels-idx1-ubyte"), three_labels());
  const dagrad::Mnist m = dagrad::load_mnist(dir.path.string(), 1, 2);
  CHECK(m.train.images.count == 1);
  CHECK(m.train.labels == Bytes{7});
  CHECK(m.test.images.count == 2);
  CHECK(m.test.images.pixels.size() == 12);
  CHECK(dagrad::mnist_file(dir.path.string(), "t10k-images-idx3-ubyte") ==
        dir.file("t10k-images-idx3-ubyte.gz"));
}

TEST_CASE("load_mnist on a folder without the files says to run scripts/setup.sh") {
  const TempDir dir("idx");
  const std::string msg = data_error([&] { dagrad::load_mnist(dir.path.string()); });
  CHECK(msg.find("train-images-idx3-ubyte") != std::string::npos);
  CHECK(msg.find("scripts/setup.sh") != std::string::npos);
}

TEST_CASE("default_mnist_dir follows DAGRAD_DATA, else HOME") {
  const char* old = std::getenv("DAGRAD_DATA");
  const std::string saved = old ? old : "";
  setenv("DAGRAD_DATA", "/some/where", 1);
  CHECK(dagrad::default_mnist_dir() == "/some/where");
  unsetenv("DAGRAD_DATA");
  if (const char* home = std::getenv("HOME")) {
    CHECK(dagrad::default_mnist_dir() == std::string(home) + "/.cache/dagrad/mnist");
  }
  if (old) setenv("DAGRAD_DATA", saved.c_str(), 1);
}

TEST_CASE("Every malformed file is rejected with its path and the problem") {
  const TempDir dir("idx");
  // Writes bytes to a file called name and returns the message of reading it with read.
  auto rejected = [&](const std::string& name, const Bytes& bytes, auto read) {
    const std::string path = dir.file(name);
    write_file(path, bytes);
    const std::string msg = data_error([&] { read(path); });
    CHECK_MESSAGE(msg.find(path) != std::string::npos, msg);
    return msg;
  };
  auto images = [](const std::string& p) { dagrad::read_images(p); };
  auto labels = [](const std::string& p) { dagrad::read_labels(p); };

  SUBCASE("a missing file") {
    const std::string path = dir.file("absent");
    const std::string msg = data_error([&] { dagrad::read_images(path); });
    check_contains(msg, {path, "cannot open", "No such file"});
  }
  SUBCASE("a directory") {
    const std::string msg = data_error([&] { dagrad::read_idx(dir.path.string()); });
    check_contains(msg, {"directory"});
  }
  SUBCASE("a wrong magic number") {
    Bytes b = three_images();
    b[0] = 0x12;
    b[1] = 0x34;
    const std::string msg = rejected("bad_magic", b, images);
    check_contains(msg, {"magic number 0x12 0x34 0x08 0x03", "expected 0x0000 then type 0x08"});
  }
  SUBCASE("a type code other than unsigned byte") {
    const std::string msg = rejected("floats", concat(header({1}, 0x0D), {0, 0, 0, 0}), labels);
    check_contains(msg, {"0x0D", "float"});
  }
  SUBCASE("an unknown type code") {
    check_contains(rejected("type42", concat(header({1}, 0x42), {0}), labels), {"0x42"});
  }
  SUBCASE("images with other than 3 dimensions") {
    const std::string msg = rejected("images_2d", concat(header({2, 3}), Bytes(6)), images);
    check_contains(msg, {"images need 3 dimensions", "declares 2"});
  }
  SUBCASE("labels with other than 1 dimension") {
    const std::string msg = rejected("labels_3d", three_images(), labels);
    check_contains(msg, {"labels need 1 dimension", "declares 3"});
  }
  SUBCASE("zero dimensions in the header") {
    check_contains(rejected("no_dims", Bytes{0, 0, 8, 0}, [](const std::string& p) { dagrad::read_idx(p); }),
                   {"0 dimensions"});
  }
  SUBCASE("a file too short for the magic number") {
    check_contains(rejected("tiny", Bytes{0, 0}, images), {"truncated"});
  }
  SUBCASE("a header cut short") {
    Bytes b = header({3, 2, 3});
    b.resize(9);
    const std::string msg = rejected("short_header", b, images);
    check_contains(msg, {"truncated header", "need 12 bytes", "found 5"});
  }
  SUBCASE("data cut short") {
    Bytes b = three_images();
    b.pop_back();
    const std::string msg = rejected("short_data", b, images);
    check_contains(msg, {"truncated", "3 x 2 x 3 = 18 bytes", "found 17"});
  }
  SUBCASE("bytes past the declared data") {
    const std::string msg = rejected("trailing", concat(three_images(), {1, 2}), images);
    check_contains(msg, {"2 trailing bytes", "18 bytes", "found 20"});
  }
  SUBCASE("dimensions whose product overflows 64 bits") {
    const std::string msg =
        rejected("overflow", header({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}), images);
    check_contains(msg, {"4294967295 x 4294967295 x 4294967295", "limit"});
  }
  SUBCASE("dimensions over the 1 GiB limit, with no data behind them") {
    const std::string msg = rejected("absurd", header({1u << 20, 1u << 11, 1}), images);
    check_contains(msg, {"1048576 x 2048 x 1", "1 GiB"});
  }
  SUBCASE("zero images") {
    check_contains(rejected("zero_images", header({0, 2, 3}), images), {"0 images"});
  }
  SUBCASE("a zero image size") {
    check_contains(rejected("zero_rows", header({3, 0, 3}), images), {"image size of 0x3"});
  }
  SUBCASE("zero labels") {
    check_contains(rejected("zero_labels", header({0}), labels), {"0 labels"});
  }
  SUBCASE("a label outside 0-9") {
    const std::string msg = rejected("label10", concat(header({4}), {1, 9, 10, 3}), labels);
    check_contains(msg, {"label 2 is 10", "outside 0-9"});
  }
  SUBCASE("image and label counts that differ") {
    write_file(dir.file("images"), three_images());
    write_file(dir.file("labels"), concat(header({2}), {1, 2}));
    const std::string msg =
        data_error([&] { dagrad::read_dataset(dir.file("images"), dir.file("labels")); });
    check_contains(msg, {dir.file("images"), dir.file("labels"), "3 images", "2 labels"});
  }
}

TEST_CASE("A corrupt, truncated or oversized gzip stream is rejected") {
  const TempDir dir("idx");
  const Bytes gz = gzip_three_images();

  SUBCASE("a stream cut short") {
    write_file(dir.file("cut.gz"), Bytes(gz.begin(), gz.end() - 10));
    const std::string msg = data_error([&] { dagrad::read_images(dir.file("cut.gz")); });
    check_contains(msg, {dir.file("cut.gz"), "truncated gzip stream"});
  }
  SUBCASE("a stream whose checksum does not match") {
    Bytes bad = gz;
    bad[bad.size() - 8] ^= 0xFF;  // the CRC-32 in the gzip trailer
    write_file(dir.file("crc.gz"), bad);
    const std::string msg = data_error([&] { dagrad::read_images(dir.file("crc.gz")); });
    check_contains(msg, {dir.file("crc.gz"), "corrupt gzip stream"});
  }
  SUBCASE("a stream that is not deflate data") {
    write_file(dir.file("junk.gz"), Bytes{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
    const std::string msg = data_error([&] { dagrad::read_images(dir.file("junk.gz")); });
    check_contains(msg, {"gzip stream"});
  }
  SUBCASE("decompressed data cut short") {
    Bytes b = three_images();
    b.pop_back();
    write_gzip(dir.file("short.gz"), b);
    const std::string msg = data_error([&] { dagrad::read_images(dir.file("short.gz")); });
    check_contains(msg, {"truncated", "found 17"});
  }
  SUBCASE("decompressed data past the declared size") {
    write_gzip(dir.file("long.gz"), concat(three_images(), Bytes(5)));
    const std::string msg = data_error([&] { dagrad::read_images(dir.file("long.gz")); });
    check_contains(msg, {"5 trailing bytes"});
  }
  SUBCASE("a long run of extra data is counted only up to a limit") {
    write_gzip(dir.file("bomb.gz"), concat(three_images(), Bytes(3u << 20)));
    const std::string msg = data_error([&] { dagrad::read_images(dir.file("bomb.gz")); });
    check_contains(msg, {"more than 1048576 trailing bytes"});
  }
  SUBCASE("a header over the size limit, checked before decompressing the data") {
    write_gzip(dir.file("huge.gz"), header({1u << 16, 1u << 16, 1}));
    const std::string msg = data_error([&] { dagrad::read_images(dir.file("huge.gz")); });
    check_contains(msg, {"1 GiB"});
  }
}

TEST_CASE("parse_idx, parse_images and parse_labels read bytes in memory as the readers read files") {
  const dagrad::IdxArray a = dagrad::parse_idx(concat(header({2, 2}), {1, 2, 3, 4}), "mem");
  CHECK(a.dims == std::vector<std::uint32_t>{2, 2});
  CHECK(a.data == Bytes{1, 2, 3, 4});
  check_images_are_three_images(dagrad::parse_images(three_images(), "mem"));
  check_images_are_three_images(dagrad::parse_images(gzip_three_images(), "mem"));
  check_images_are_three_images(dagrad::parse_images(gzip_bytes(three_images()), "mem"));
  CHECK(dagrad::parse_labels(gzip_bytes(three_labels()), "mem") == Bytes{7, 0, 9});

  // The name stands for the path in the file readers' messages.
  CHECK_THROWS_WITH_AS(dagrad::parse_idx(Bytes{0, 0}, "mem"),
                       "mem: truncated: 2 bytes, too short for the 4-byte IDX magic number", DataError);
  CHECK_THROWS_WITH_AS(dagrad::parse_labels(concat(header({4}), {1, 9, 10, 3}), "mem"),
                       "mem: label 2 is 10, outside 0-9", DataError);
  CHECK_THROWS_WITH_AS(dagrad::parse_images(header({0, 2, 3}), "mem"), "mem: the header declares 0 images",
                       DataError);
  const Bytes gz = gzip_three_images();
  CHECK_THROWS_WITH_AS(dagrad::parse_images(Bytes(gz.begin(), gz.end() - 10), "mem"),
                       "mem: truncated gzip stream: the compressed data ends early", DataError);
  CHECK_THROWS_WITH_AS(dagrad::parse_images(gzip_bytes(concat(three_images(), Bytes(5))), "mem"),
                       "mem: 5 trailing bytes: the header declares 3 x 2 x 3 = 18 bytes of data, found 23 "
                       "(after gzip decompression)",
                       DataError);

  // Every outcome, plain and gzip, is the file reader's, word for word.
  const TempDir dir("idx");
  Bytes bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 0xFF;
  Bytes short_data = three_images();
  short_data.pop_back();
  const std::vector<Bytes> cases{
      three_images(), three_labels(), gz, bad_crc, Bytes(gz.begin(), gz.end() - 10), Bytes{0, 0},
      Bytes{}, Bytes{0x1f}, Bytes{0x1f, 0x8b}, header({3, 0, 3}), header({0}), short_data,
      concat(three_images(), {1, 2}), header({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}),
      gzip_bytes(short_data), gzip_bytes(concat(three_images(), Bytes(3u << 20))),
      gzip_bytes(header({1u << 16, 1u << 16, 1})), gzip_bytes(concat(header({4}), {1, 9, 10, 3})),
      Bytes{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  auto outcome = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const DataError& e) {
      return e.what();
    }
    return "loaded";
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    const std::string path = dir.file("case" + std::to_string(i));
    write_file(path, cases[i]);
    const Bytes& b = cases[i];
    CHECK(outcome([&] { dagrad::parse_idx(b, path); }) == outcome([&] { dagrad::read_idx(path); }));
    CHECK(outcome([&] { dagrad::parse_images(b, path); }) == outcome([&] { dagrad::read_images(path); }));
    CHECK(outcome([&] { dagrad::parse_labels(b, path); }) == outcome([&] { dagrad::read_labels(path); }));
  }
}

TEST_CASE("gzip members are joined and what follows the last one is ignored, as zlib's gzread does") {
  const TempDir dir("idx");
  const Bytes whole = three_images();
  const Bytes first(whole.begin(), whole.begin() + 7), second(whole.begin() + 7, whole.end());
  const Bytes joined = concat(gzip_bytes(first), gzip_bytes(second));
  const Bytes junk_after = concat(gzip_three_images(), {'x', 'y', 'z'});
  write_file(dir.file("joined"), joined);
  write_file(dir.file("junk_after"), junk_after);
  check_images_are_three_images(dagrad::read_images(dir.file("joined")));
  check_images_are_three_images(dagrad::parse_images(joined, "mem"));
  check_images_are_three_images(dagrad::read_images(dir.file("junk_after")));
  check_images_are_three_images(dagrad::parse_images(junk_after, "mem"));

  // After a member, 1f 8b starts another, which must then be whole.
  const Bytes cut_member = concat(gzip_three_images(), {0x1f, 0x8b, 0x08});
  write_file(dir.file("cut_member"), cut_member);
  const std::string cut_message = dir.file("cut_member") + ": truncated gzip stream: the compressed data ends early";
  CHECK_THROWS_WITH_AS(dagrad::read_images(dir.file("cut_member")), cut_message.c_str(), DataError);
  CHECK_THROWS_WITH_AS(dagrad::parse_images(cut_member, "mem"),
                       "mem: truncated gzip stream: the compressed data ends early", DataError);
}

TEST_CASE("a gzip stream longer than the read buffers loads whole, and a fault deep inside it is found") {
  // 5 images of 300x300: 450,000 bytes, past the 128 KiB input loads, the
  // 256 KiB output fetches and the 1 MiB reads' first step.
  Bytes data(5 * 300 * 300);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + i / 1000);
  const Bytes plain = concat(header({5, 300, 300}), data);
  const Bytes gz = gzip_bytes(plain);
  const TempDir dir("idx");
  write_file(dir.file("big.gz"), gz);
  const dagrad::Images from_file = dagrad::read_images(dir.file("big.gz"));
  const dagrad::Images from_memory = dagrad::parse_images(gz, "mem");
  CHECK(from_file.pixels == data);
  CHECK(from_memory.pixels == data);

  // A stored block's length check broken in the sixth block, about 330 KB in.
  Bytes bad = gz;
  const std::size_t block = 10 + 5 * (5 + 0xFFFF);
  bad[block + 3] ^= 0x01;
  write_file(dir.file("bad.gz"), bad);
  const std::string bad_message = dir.file("bad.gz") + ": corrupt gzip stream: invalid stored block lengths";
  CHECK_THROWS_WITH_AS(dagrad::read_images(dir.file("bad.gz")), bad_message.c_str(), DataError);
  CHECK_THROWS_WITH_AS(dagrad::parse_images(bad, "mem"), "mem: corrupt gzip stream: invalid stored block lengths",
                       DataError);
  const Bytes cut(gz.begin(), gz.begin() + 400000);
  CHECK_THROWS_WITH_AS(dagrad::parse_images(cut, "mem"),
                       "mem: truncated gzip stream: the compressed data ends early", DataError);
}

TEST_CASE("scale_rows gives exactly pixel / 255 for a range of rows and for chosen rows") {
  dagrad::Images im = three_images_read();
  im.pixels[7] = 255;  // image 1, row 0, col 1

  auto check_range = [&](auto zero) {
    using T = decltype(zero);
    dagrad::Matrix<T> out(5, 5);
    dagrad::scale_rows(im, 1, 2, out);
    REQUIRE(out.rows() == 2);
    REQUIRE(out.cols() == 6);
    for (Eigen::Index i = 0; i < 2; ++i)
      for (Eigen::Index j = 0; j < 6; ++j)
        CHECK(out(i, j) == static_cast<T>(im.pixels[(1 + i) * 6 + j]) / T(255));
    CHECK(out(0, 1) == T(1));
    CHECK(out(1, 0) == T(200) / T(255));
  };
  auto check_indices = [&](auto zero) {
    using T = decltype(zero);
    const std::vector<std::size_t> pick{2, 0, 2};
    dagrad::Matrix<T> out;
    dagrad::scale_rows(im, std::span<const std::size_t>(pick), out);
    REQUIRE(out.rows() == 3);
    REQUIRE(out.cols() == 6);
    for (Eigen::Index i = 0; i < 3; ++i)
      for (Eigen::Index j = 0; j < 6; ++j)
        CHECK(out(i, j) == static_cast<T>(im.pixels[pick[i] * 6 + j]) / T(255));
    CHECK(out(1, 5) == T(12) / T(255));  // image 0, row 1, col 2
  };
  check_range(0.0f);
  check_range(0.0);
  check_indices(0.0f);
  check_indices(0.0);
}

TEST_CASE("every byte value scales to exactly byte / 255, in SIMD runs and in the scalar tail") {
  // Rows of 257 pixels: 256 make whole SIMD runs, the last is left to the
  // scalar tail. Image k holds byte (j + k) % 256 at pixel j, so across the
  // images every value meets both the SIMD body and the tail.
  dagrad::Images im{.count = 256, .rows = 1, .cols = 257};
  for (std::size_t k = 0; k < im.count; ++k)
    for (std::size_t j = 0; j < im.cols; ++j) im.pixels.push_back(static_cast<std::uint8_t>((j + k) % 256));
  auto check = [&](auto zero) {
    using T = decltype(zero);
    dagrad::Matrix<T> range, gathered;
    dagrad::scale_rows(im, 0, im.count, range);
    std::vector<std::size_t> all(im.count);
    for (std::size_t k = 0; k < all.size(); ++k) all[k] = all.size() - 1 - k;
    dagrad::Features(im).gather(std::span<const std::size_t>(all), gathered);
    int wrong = 0;
    for (std::size_t k = 0; k < im.count; ++k) {
      for (std::size_t j = 0; j < im.cols; ++j) {
        const T want = static_cast<T>(im.pixels[k * im.cols + j]) / T(255);
        wrong += range(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(j)) != want;
        wrong += gathered(static_cast<Eigen::Index>(im.count - 1 - k), static_cast<Eigen::Index>(j)) != want;
      }
    }
    CHECK(wrong == 0);
  };
  check(0.0f);
  check(0.0);
}

TEST_CASE("scale_rows rejects rows outside the images") {
  const dagrad::Images im = three_images_read();
  dagrad::Matrix<float> out;
  CHECK_THROWS_AS(dagrad::scale_rows(im, 2, 2, out), dagrad::Error);
  CHECK_THROWS_AS(dagrad::scale_rows(im, std::size_t(-1), 2, out), dagrad::Error);
  const std::vector<std::size_t> pick{0, 3};
  CHECK_THROWS_WITH_AS(dagrad::scale_rows(im, std::span<const std::size_t>(pick), out),
                       doctest::Contains("image 3"), dagrad::Error);
  dagrad::scale_rows(im, 3, 0, out);
  CHECK(out.rows() == 0);
}

TEST_CASE("an ImageFile reads the images asked for from disk, plain or gzip, with read_images' bytes") {
  const TempDir dir("idx");
  write_file(dir.file("images"), three_images());
  write_gzip(dir.file("images.gz"), three_images());
  write_file(dir.file("labels"), three_labels());
  const Bytes data = three_images_data();
  for (const std::string name : {"images", "images.gz"}) {
    CAPTURE(name);
    const dagrad::ImageFile file(dir.file(name));
    CHECK(file.path() == dir.file(name));
    CHECK(file.count() == 3);
    CHECK(file.declared() == 3);
    CHECK(file.rows() == 2);
    CHECK(file.cols() == 3);
    Bytes got(18);
    file.read(0, 3, got.data());
    CHECK(got == data);
    // Chosen images, in the order asked, runs and repeats among them.
    const std::vector<std::size_t> order{2, 0, 1, 1, 2};
    got.assign(30, 0);
    file.read(order, got.data());
    for (std::size_t i = 0; i < order.size(); ++i) {
      CHECK(Bytes(got.begin() + std::ptrdiff_t(6 * i), got.begin() + std::ptrdiff_t(6 * i + 6)) ==
            Bytes(data.begin() + std::ptrdiff_t(6 * order[i]), data.begin() + std::ptrdiff_t(6 * order[i] + 6)));
    }
    // The first max_count only; rows past them are refused by number.
    const dagrad::ImageFile two(dir.file(name), 2);
    CHECK(two.count() == 2);
    CHECK(two.declared() == 3);
    CHECK(thrown<dagrad::Error>([&] { two.read(1, 2, got.data()); }).find("outside the 2 of") != std::string::npos);
    const std::vector<std::size_t> past{0, 2};
    CHECK(thrown<dagrad::Error>([&] { two.read(past, got.data()); }).find("index 1 is image 2") != std::string::npos);
  }
  // With its labels: read_dataset's pixels and labels, and its count check.
  const dagrad::DatasetFile set = dagrad::open_dataset(dir.file("images"), dir.file("labels"));
  CHECK(set.labels == Bytes{7, 0, 9});
  write_file(dir.file("four_labels"), concat(header({4}), {1, 2, 3, 4}));
  CHECK(data_error([&] { dagrad::open_dataset(dir.file("images"), dir.file("four_labels"), 2); })
            .find("holds 3 images but") != std::string::npos);
}

TEST_CASE("an ImageFile is checked whole when opened, and a file that shrinks later is named with the image") {
  const TempDir dir("idx");
  const Bytes data = three_images_data();
  write_file(dir.file("short"), concat(header({3, 2, 3}), Bytes(data.begin(), data.end() - 1)));
  CHECK(data_error([&] { dagrad::ImageFile(dir.file("short"), 1); }).find("truncated") != std::string::npos);
  write_file(dir.file("long"), concat(three_images(), {0}));
  CHECK(data_error([&] { dagrad::ImageFile(dir.file("long")); }).find("1 trailing bytes") != std::string::npos);
  write_file(dir.file("labels"), three_labels());
  CHECK(data_error([&] { dagrad::ImageFile(dir.file("labels")); }).find("images need 3 dimensions") !=
        std::string::npos);
  write_file(dir.file("none"), header({0, 2, 3}));
  CHECK(data_error([&] { dagrad::ImageFile(dir.file("none")); }).find("declares 0 images") != std::string::npos);
  CHECK(data_error([&] { dagrad::ImageFile(dir.file("absent")); }).find("cannot open") != std::string::npos);

  // Cut short after opening (another program rewrote it): the read that
  // needs the missing bytes names the file and the image.
  write_file(dir.file("images"), three_images());
  const dagrad::ImageFile file(dir.file("images"));
  fs::resize_file(dir.file("images"), 16 + 6 + 3);
  Bytes got(18);
  file.read(0, 1, got.data());  // still there
  const std::string msg = data_error([&] { file.read(1, 2, got.data()); });
  CHECK(msg.find(dir.file("images")) != std::string::npos);
  CHECK(msg.find("image 1: the file ends before it") != std::string::npos);
}

TEST_CASE("Features over an ImageFile gather and slice exactly pixel / 255, as over the images in memory") {
  const TempDir dir("idx");
  // 300 images of 4x5, so that a gather is shared among tasks.
  Bytes pixels(300 * 20);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>((i * 53) % 256);
  write_file(dir.file("images"), concat(header({300, 4, 5}), pixels));
  const dagrad::ImageFile file(dir.file("images"));
  const dagrad::Images memory = dagrad::read_images(dir.file("images"));
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < 250; ++i) order.push_back((i * 7) % 300);
  dagrad::Matrix<float> from_file, from_memory;
  dagrad::Features(file).gather(std::span<const std::size_t>(order), from_file);
  dagrad::Features(memory).gather(std::span<const std::size_t>(order), from_memory);
  CHECK(from_file == from_memory);
  dagrad::Matrix<double> slice_file, slice_memory;
  dagrad::Features(file).slice(40, 200, slice_file);
  dagrad::Features(memory).slice(40, 200, slice_memory);
  CHECK(slice_file == slice_memory);
  CHECK(dagrad::Features(file).rows() == 300);
  CHECK(dagrad::Features(file).cols() == 20);
  std::size_t row = 0, col = 0;
  CHECK_FALSE(dagrad::Features(file).find_nonfinite(row, col));
}
