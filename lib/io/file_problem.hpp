#pragma once
// io's readers report what is wrong with a file as one DataError,
// "PATH: PROBLEM", so the message always names the file.
#include <dagrad/core/error.hpp>

#include <string>

namespace dagrad::io_files {

[[noreturn]] inline void fail(const std::string& path, const std::string& problem) {
  throw DataError(path + ": " + problem);
}

}  // namespace dagrad::io_files
