#include <dagrad/core/error.hpp>
#include <dagrad/io/table.hpp>
#include <dagrad/io/text.hpp>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace dagrad {

Matrix<double> read_table(const std::string& path) {
  const std::string text = read_file_bytes(path);
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
