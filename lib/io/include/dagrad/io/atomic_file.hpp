// Files written whole or not at all: the bytes go to a temporary file in the
// same folder, flushed, renamed over the target, and the folder flushed, so
// a reader never sees half a file and a failure leaves none behind.
//   write_file_atomically("model.dot", to_dot(g));
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dagrad {

// Replaces path's contents with `bytes`. Throws Error naming the path and
// the step that failed (nothing is left behind but the old file, if any).
void write_file_atomically(const std::string& path, std::string_view bytes);
// The same for binary contents (model files).
void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes);

}  // namespace dagrad
