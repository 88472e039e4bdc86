// Plain loops compiled twice in a portable library, for the baseline and
// for AVX2, the clone chosen by the loader from the CPU (GCC and clang's
// target_clones). For loops over plain arrays; templates with intrinsics go
// through lib/sparse_kernels.cpp instead.
//   DAGRAD_CLONES void scale_f32(const std::uint8_t* src, float* dst, std::size_t n);
#pragma once

#if defined(DAGRAD_DISPATCH_AVX2)
#define DAGRAD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DAGRAD_CLONES
#endif
