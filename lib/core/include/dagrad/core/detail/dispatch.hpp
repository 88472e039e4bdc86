// Plain loops compiled twice in a portable library, for the baseline and
// for AVX2, the clone chosen by the loader from the CPU (GCC and clang's
// target_clones). For loops over plain arrays; templates with intrinsics go
// through lib/core/sparse_kernels.cpp instead.
//   DAGRAD_CLONES void scale_f32(const std::uint8_t* src, float* dst, std::size_t n);
#pragma once

// The loader picks a clone by running its resolver while it relocates the
// library, before a sanitizer's runtime is ready: under ThreadSanitizer that
// crashes every program at start. Sanitized builds take the baseline loop.
#include <dagrad/core/detail/sanitizers.hpp>

#if defined(DAGRAD_DISPATCH_AVX2) && !defined(DAGRAD_SANITIZED)
#define DAGRAD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DAGRAD_CLONES
#endif
