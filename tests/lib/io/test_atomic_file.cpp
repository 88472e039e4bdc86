// lib/io/atomic_file.cpp: a file written whole or not at all, at once or a
// piece at a time; a writer dropped before commit() leaves the old file and
// no temporary one. (test_model_file kills saves at random points.)
#include <doctest/doctest.h>

#include <dagrad/io/atomic_file.hpp>

#include "../../temp_dir.hpp"
#include "../../thrown.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace dagrad;
using dagrad::testing::TempDir;

namespace {

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t files_in(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("an AtomicFile written a piece at a time holds the pieces in order once committed") {
  const TempDir dir("atomic");
  const std::string path = dir.file("out.bin");
  write_file_atomically(path, std::string_view("old"));
  {
    AtomicFile file(path);
    file.write(std::string_view("first, "));
    const std::uint8_t bytes[] = {'s', 'e', 'c', 'o', 'n', 'd'};
    file.write(std::span<const std::uint8_t>(bytes));
    CHECK(contents(path) == "old");  // not in place before commit()
    file.commit();
    CHECK(thrown<Error>([&] { file.write(std::string_view("more")); }) == path + ": written to after commit()");
    CHECK(thrown<Error>([&] { file.commit(); }) == path + ": committed twice");
  }
  CHECK(contents(path) == "first, second");
  CHECK(files_in(dir.path) == 1);  // no temporary file left
}

TEST_CASE("an AtomicFile dropped before commit() leaves the old file whole and no temporary file") {
  const TempDir dir("atomic");
  const std::string path = dir.file("out.bin");
  write_file_atomically(path, std::string_view("whole"));
  try {
    AtomicFile file(path);
    file.write(std::string_view("half"));
    throw std::runtime_error("a failure while writing");
  } catch (const std::runtime_error&) {
  }
  CHECK(contents(path) == "whole");
  CHECK(files_in(dir.path) == 1);
  // A folder that does not exist: named in the error, nothing made.
  const std::string nowhere = dir.file("absent/out.bin");
  CHECK(thrown<Error>([&] { AtomicFile file(nowhere); }).find(nowhere + ": cannot create a temporary file") == 0);
}
