// Files read whole: the bytes of a plain or gzipped file, and a text for a
// character model (refused when empty or binary).
//   const std::string text = read_text_file("kjv.txt");  // one byte a character
#pragma once

#include <string>

namespace dagrad {

// Every byte of the file, gunzipped when it is gzipped (zlib reads a plain
// file as it is). Throws DataError naming the file when it cannot be opened
// or read.
std::string read_file_bytes(const std::string& path);

// The file's bytes as a text, each byte one character: ASCII texts (the
// King James Bible) are read as they are, and a UTF-8 text's multi-byte
// characters become several characters. Throws DataError naming the file
// when it is empty or holds a NUL byte (a binary file, not text), and the
// offset of the first NUL.
std::string read_text_file(const std::string& path);

}  // namespace dagrad
