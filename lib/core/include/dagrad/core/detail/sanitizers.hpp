// Which sanitizer a file is compiled under, as GCC (__SANITIZE_ADDRESS__,
// __SANITIZE_THREAD__) and clang (__has_feature) each say it:
// DAGRAD_ASAN, DAGRAD_TSAN, and DAGRAD_SANITIZED for either.
//   #if defined(DAGRAD_TSAN) ... #endif
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define DAGRAD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DAGRAD_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define DAGRAD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DAGRAD_TSAN 1
#endif
#endif

#if defined(DAGRAD_ASAN) || defined(DAGRAD_TSAN)
#define DAGRAD_SANITIZED 1
#endif
