#include <dagrad/core/error.hpp>
#include <dagrad/io/table.hpp>

#include <zlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace dagrad {

namespace {

// zlib's gzread reads a plain file as it is, so one reader serves both.
std::string read_text(const std::string& path) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file) throw DataError(path + ": cannot open: " + std::strerror(errno));
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const int got = gzread(file.get(), buffer, sizeof buffer);
    if (got < 0) {
      int code = 0;
      throw DataError(path + ": cannot read: " + gzerror(file.get(), &code));
    }
    if (got == 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  return text;
}

}  // namespace

Matrix<double> read_table(const std::string& path) {
  const std::string text = read_text(path);
  std::vector<double> values;
  std::size_t columns = 0, rows = 0, line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    std::size_t fields = 0;
    const char* p = line.c_str();
    for (;;) {
      while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r') ++p;
      if (*p == '\0') break;
      char* after = nullptr;
      const double v = std::strtod(p, &after);
      const char* stop = after;
      if (after == p || (*stop != '\0' && *stop != ' ' && *stop != '\t' && *stop != ',' && *stop != '\r')) {
        const char* token_end = p + std::strcspn(p, " \t,\r");
        throw DataError(path + ": line " + std::to_string(line_number) + ", field " + std::to_string(fields + 1) +
                        ": '" + std::string(p, token_end) + "' is not a number");
      }
      values.push_back(v);
      ++fields;
      p = after;
    }
    if (fields == 0) continue;
    if (rows == 0) columns = fields;
    if (fields != columns) {
      throw DataError(path + ": line " + std::to_string(line_number) + " has " + std::to_string(fields) +
                      " numbers but the first row has " + std::to_string(columns));
    }
    ++rows;
  }
  if (rows == 0) throw DataError(path + ": holds no rows of numbers");
  Matrix<double> m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(columns));
  std::copy(values.begin(), values.end(), m.data());  // row-major, as read
  return m;
}

}  // namespace dagrad
