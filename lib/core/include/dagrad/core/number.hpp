// A number read from the whole of a text, for flags, parameters and fields
// alike: std::from_chars, so no spaces, no '+', no locale, and nothing may
// follow the number. Ranges and messages are the caller's.
//   parse_number<long>("42") == 42;  parse_number<double>("1e-3x") == std::nullopt
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace dagrad {

template <class T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace dagrad
