// The one atomic file writer: DOT files, pictures, model files, grids.
#include <dagrad/core/error.hpp>
#include <dagrad/io/atomic_file.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dagrad {

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  if (path.empty()) throw Error("write: the path is empty");
  const fs::path target(path);
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  dir_ = dir.string();
  // Appended rather than "." + name + ...: GCC 12 warns falsely on the latter here.
  std::string hidden = ".";
  hidden += target.filename().string();
  hidden += ".XXXXXX";
  tmp_ = (dir / hidden).string();
  fd_ = ::mkstemp(tmp_.data());
  if (fd_ < 0) throw Error(path + ": cannot create a temporary file in " + dir_ + ": " + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(tmp_.c_str());
}

void AtomicFile::fail(const std::string& what, int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  throw Error(path_ + ": " + what + ": " + std::strerror(err));
}

void AtomicFile::write(std::string_view bytes) {
  if (fd_ < 0) throw Error(path_ + ": written to after commit()");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", errno);
    }
    done += static_cast<std::size_t>(w);
  }
}

void AtomicFile::write(std::span<const std::uint8_t> bytes) {
  write(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void AtomicFile::commit() {
  if (fd_ < 0) throw Error(path_ + ": committed twice");
  // mkstemp makes the file 0600; reading umask to do better would briefly
  // change it for every thread, so use the common 0644.
  if (::fchmod(fd_, 0644) != 0) fail("cannot set permissions", errno);
  if (::fsync(fd_) != 0) fail("cannot flush to disk", errno);
  const int fd = fd_;
  fd_ = -1;  // from here on the destructor leaves the file alone
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    throw Error(path_ + ": cannot close: " + std::strerror(err));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    throw Error(path_ + ": cannot rename the temporary file into place: " + std::strerror(err));
  }
  // The rename is durable only once the folder's entry is on disk.
  const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::fsync(dfd) != 0) {
    const int err = errno;
    if (dfd >= 0) ::close(dfd);
    throw Error(path_ + ": written, but flushing its folder " + dir_ + " failed: " + std::strerror(err));
  }
  ::close(dfd);
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes) {
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace dagrad
