// lib/io/text.cpp: a file's bytes (plain or gzipped), and a text refused
// when empty or binary, naming the file.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include "../../temp_dir.hpp"

#include <zlib.h>

#include <fstream>
#include <string>

using namespace dagrad;

TEST_CASE("a text file reads as its bytes, plain or gzipped, whatever they are but NUL") {
  const testing::TempDir dir("text");
  const std::string text = "In the beginning\n\tcaf\xc3\xa9 \x7f\r\n";
  std::ofstream(dir.file("plain.txt"), std::ios::binary) << text;
  gzFile f = gzopen(dir.file("zipped.txt.gz").c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  gzclose(f);
  CHECK(read_text_file(dir.file("plain.txt")) == text);
  CHECK(read_text_file(dir.file("zipped.txt.gz")) == text);
  CHECK(read_file_bytes(dir.file("plain.txt")) == text);
}

TEST_CASE("an empty, binary or missing text file is an error naming the file and the problem") {
  const testing::TempDir dir("text");
  std::ofstream(dir.file("empty.txt"), std::ios::binary);
  std::ofstream(dir.file("binary.bin"), std::ios::binary) << std::string("abc\0def", 7);
  CHECK_THROWS_WITH_AS(read_text_file(dir.file("empty.txt")),
                       (dir.file("empty.txt") + ": the file is empty; a text needs at least one character").c_str(),
                       DataError);
  CHECK_THROWS_WITH_AS(read_text_file(dir.file("binary.bin")),
                       (dir.file("binary.bin") + ": not a text file: a NUL byte at offset 3 (a binary file?)").c_str(),
                       DataError);
  CHECK_THROWS_WITH_AS(read_text_file(dir.file("none.txt")), doctest::Contains("none.txt: cannot open"), DataError);
  // An empty file is still a file of bytes.
  CHECK(read_file_bytes(dir.file("empty.txt")).empty());
}
