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

// A file written piece by piece and put in place whole: write() appends to
// the temporary file, commit() flushes it, renames it over the path and
// flushes the folder. Destroyed before commit() (an exception on the way),
// it removes the temporary file and leaves the path as it was. A large
// file (a checkpoint) so never needs all its bytes in memory at once.
//   AtomicFile f("model.dagradm");  f.write(head);  for (...) f.write(record);  f.commit();
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  void write(std::span<const std::uint8_t> bytes);
  void commit();

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  std::string path_, tmp_, dir_;
  int fd_ = -1;
};

// Replaces path's contents with `bytes`. Throws Error naming the path and
// the step that failed (nothing is left behind but the old file, if any).
void write_file_atomically(const std::string& path, std::string_view bytes);
// The same for binary contents (model files).
void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes);

}  // namespace dagrad
