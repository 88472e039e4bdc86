#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <string>

using namespace dagrad;

namespace {

// A file under /tmp that is removed when the test ends.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name) : path("/tmp/dagrad_test_table_" + name) {}
  ~TempFile() { std::remove(path.c_str()); }
  void write(const std::string& text) const { std::ofstream(path) << text; }
  void write_gzip(const std::string& text) const {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
    gzclose(f);
  }
};

}  // namespace

TEST_CASE("a table of numbers reads the same from spaces, commas and gzip") {
  const std::string text = "59 2 32.1 101.0\n48 1 21.6 87.0\n\n72 2 30.5 -9.3e-1\n";
  TempFile plain("plain.txt"), commas("commas.csv"), zipped("zipped.csv.gz");
  plain.write(text);
  commas.write("59,2,32.1,101.0\r\n48,1,21.6,87.0\r\n72,2,30.5,-9.3e-1");  // no final newline
  zipped.write_gzip(text);
  Matrix<double> want(3, 4);
  want << 59, 2, 32.1, 101.0, 48, 1, 21.6, 87.0, 72, 2, 30.5, -0.93;
  CHECK(read_table(plain.path) == want);
  CHECK(read_table(commas.path) == want);
  CHECK(read_table(zipped.path) == want);
}

TEST_CASE("a table that is not one of numbers is refused naming the line and field") {
  TempFile bad("bad.txt");
  bad.write("1 2 3\n4 five 6\n");
  CHECK_THROWS_WITH_AS(read_table(bad.path), doctest::Contains("line 2, field 2: 'five' is not a number"), DataError);
  bad.write("1 2 3\n4 5\n");
  CHECK_THROWS_WITH_AS(read_table(bad.path), doctest::Contains("line 2 has 2 numbers but the first row has 3"),
                       DataError);
  bad.write("1 2 3x\n");
  CHECK_THROWS_WITH_AS(read_table(bad.path), doctest::Contains("'3x' is not a number"), DataError);
  bad.write("\n \n");
  CHECK_THROWS_WITH_AS(read_table(bad.path), doctest::Contains("holds no rows"), DataError);
  CHECK_THROWS_WITH_AS(read_table("/tmp/dagrad_no_such_table.csv"),
                       doctest::Contains("/tmp/dagrad_no_such_table.csv: cannot open"), DataError);
}
