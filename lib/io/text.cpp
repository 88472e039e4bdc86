#include <dagrad/core/error.hpp>
#include <dagrad/io/text.hpp>

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace dagrad {

std::string read_file_bytes(const std::string& path) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file) throw DataError(path + ": cannot open: " + std::strerror(errno));
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const int got = gzread(file.get(), buffer, sizeof buffer);
    if (got < 0) {
      int code = 0;
      throw DataError(path + ": cannot read: " + gzerror(file.get(), &code));
    }
    if (got == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
  }
  return bytes;
}

std::string read_text_file(const std::string& path) {
  std::string text = read_file_bytes(path);
  if (text.empty()) throw DataError(path + ": the file is empty; a text needs at least one character");
  // A NUL never appears in text (git and grep call such a file binary too).
  if (const std::size_t nul = text.find('\0'); nul != std::string::npos) {
    throw DataError(path + ": not a text file: a NUL byte at offset " + std::to_string(nul) +
                    " (a binary file?)");
  }
  return text;
}

}  // namespace dagrad
