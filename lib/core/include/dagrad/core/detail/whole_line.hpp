// Whole lines on streams that several MPI ranks or threads share: a line
// built in a string, then handed to the stream as one write.
//   detail::write_whole(std::cerr, "ConvergenceWarning: ...\n");
#pragma once

#include <ostream>
#include <string_view>

namespace dagrad::detail {

// What `out` buffered before goes first, then `text` in one write, then a
// flush, so that no other writer's bytes land inside it. std::cout and
// std::cerr (synced with stdio) pass it to one fwrite, which the C library
// hands to the file as one write(2).
inline void write_whole(std::ostream& out, std::string_view text) {
  out.flush();
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.flush();
}

}  // namespace dagrad::detail
