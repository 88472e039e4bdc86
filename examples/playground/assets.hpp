// The page's files, compiled into the program (embed_assets.py writes
// playground_assets.cpp from assets/ at build time): nothing is read from disk.
#pragma once

#include <span>
#include <string_view>

namespace playground {

struct Asset {
  std::string_view path;          // "/index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

std::span<const Asset> assets();

}  // namespace playground
