// A folder of the test's own under the system's temporary folder, removed
// with everything in it when it goes out of scope: where tests write files.
//   const TempDir dir("image");
//   write_png(im, dir.file("a.png"));
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace dagrad::testing {

struct TempDir {
  std::filesystem::path path;

  // dagrad_test_<stem>_<pid>_<clock>_<serial>: apart from every other
  // process's and every other TempDir of this one.
  explicit TempDir(const std::string& stem) {
    static std::atomic<int> serial{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path = std::filesystem::temp_directory_path() / ("dagrad_test_" + stem + "_" + std::to_string(getpid()) + "_" +
                                                     std::to_string(stamp) + "_" + std::to_string(serial++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path / name).string(); }

  // The names of the files in it, sorted: to see that nothing was left behind.
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace dagrad::testing
