// Whether a text holds a part, for tests that check what a message, a file
// or a drawing names; check_contains checks each of several parts.
//   CHECK(contains(what, "'w'"));
//   check_contains(what, {"matmul", "'x'", "4x3"});
#pragma once

#include <doctest/doctest.h>

#include <initializer_list>
#include <string_view>

inline bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

inline void check_contains(std::string_view text, std::initializer_list<std::string_view> parts) {
  for (const std::string_view part : parts) {
    CAPTURE(text);
    CHECK_MESSAGE(contains(text, part), "missing: ", part);
  }
}
