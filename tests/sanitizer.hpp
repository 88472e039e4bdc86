// The sanitizer a test is built under (dagrad/core/detail/sanitizers.hpp
// reads the compiler's flags), as constants to branch on in C++: a sanitized
// build runs several times slower, and ThreadSanitizer looks for races.
//   const int runs = sanitizer::any ? 20 : 500;
#pragma once

#include <dagrad/core/detail/sanitizers.hpp>

namespace sanitizer {

#if defined(DAGRAD_TSAN)
inline constexpr bool thread = true;
#else
inline constexpr bool thread = false;
#endif

#if defined(DAGRAD_SANITIZED)
inline constexpr bool any = true;
#else
inline constexpr bool any = false;
#endif

}  // namespace sanitizer
